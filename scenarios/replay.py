"""Replay a trace: re-execute its recorded actions and verify every step's digests.

The replay rebuilds the env from the scenario in the trace's header, resets it with the recorded
seed and steps it with the recorded actions (not the agent), comparing the timeline digest, then
per step the reward, the events and the observation and world digests. The first difference is
reported with its step and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import driftgym
from driftgym.perturbations import digest_of
from driftgym.scenarios.runner import TRACE_FORMAT, as_action, make_env, plain, read_trace
from driftgym.scenarios.scenario import Scenario

__all__ = ["Mismatch", "ReplayError", "replay_trace"]

CHECKED = ("reward", "events", "observation_digest", "world_digest")


class ReplayError(ValueError):
    """The file is not a trace this version of driftgym can replay."""


@dataclass(frozen=True)
class Mismatch:
    step: int | None  # None: the header (the episode's start)
    field: str
    recorded: Any
    replayed: Any

    def __str__(self) -> str:
        where = "at reset" if self.step is None else f"at step {self.step}"
        return f"{where}: {self.field} differs (recorded {self.recorded!r}, replayed {self.replayed!r})"


@dataclass(frozen=True)
class ReplayResult:
    steps: int  # steps replayed (for a server trace: exchanges, see ``unit``)
    mismatch: Mismatch | None
    world: dict[str, Any] | None = None
    unit: str = "steps"

    @property
    def ok(self) -> bool:
        return self.mismatch is None


def _header(path: Path) -> dict[str, Any]:
    import json

    try:
        with open(path) as stream:
            return json.loads(stream.readline() or "{}")
    except (OSError, ValueError) as error:
        raise ReplayError(f"{path}: cannot read a trace ({error})") from None


HEADER_FIELDS = ("scenario", "seed", "timeline_digest", "observation_digest", "world_digest")
STEP_FIELDS = ("step", "action", *CHECKED)


def load_trace(path: Path) -> list[dict[str, Any]]:
    header = _header(path)
    if header.get("format") != TRACE_FORMAT:
        raise ReplayError(f"{path}: not a driftgym trace of format {TRACE_FORMAT} (got {header.get('format')!r})")
    if header.get("driftgym") != driftgym.__version__:
        raise ReplayError(f"{path}: written by driftgym {header.get('driftgym')}, this is {driftgym.__version__}")
    try:
        lines = read_trace(path)
    except ValueError as error:
        raise ReplayError(str(error)) from None
    missing = [f for f in HEADER_FIELDS if f not in lines[0]]
    if missing:
        raise ReplayError(f"{path}: the header lacks {', '.join(missing)}")
    for number, line in enumerate(lines[1:-1], start=2):
        missing = [f for f in STEP_FIELDS if f not in line]
        if missing:
            raise ReplayError(f"{path}: line {number} lacks {', '.join(missing)}")
    return lines


OTHER_TRACES = {"driftgym-api-trace/1": "driftgym.scenarios.api_server:replay_exchanges"}


def replay_trace(path: Path, until: int | None = None) -> ReplayResult:
    """Re-execute a trace; stop at its end, at step ``until``, or at the first mismatch.

    A trace of another kind (``OTHER_TRACES``: the exchanges of ``driftgym serve api``) is
    replayed by the module that wrote it."""
    header = _header(path)
    if header.get("format") in OTHER_TRACES:
        import importlib

        module, function = OTHER_TRACES[header["format"]].split(":")
        return getattr(importlib.import_module(module), function)(path, until)
    lines = load_trace(path)
    header, steps = lines[0], lines[1:-1]
    env = make_env(Scenario.from_dict(header["scenario"], str(path)))
    observation, _ = env.reset(seed=header["seed"])
    for field, replayed in (
        ("timeline_digest", env.get_wrapper_attr("timeline").digest()),
        ("observation_digest", digest_of(plain(observation))),
        ("world_digest", env.get_wrapper_attr("world_digest")()),
    ):
        if header[field] != replayed:
            return ReplayResult(0, Mismatch(None, field, header[field], replayed))
    event_log = env.get_wrapper_attr("event_log")
    seen = 0
    for count, line in enumerate(steps):
        if until is not None and line["step"] > until:
            break
        observation, reward, _, _, _ = env.step(as_action(env.action_space, line["action"]))
        events = [e.to_dict() for e in event_log[seen:]]
        seen = len(event_log)
        replayed = {
            "reward": float(reward),
            "events": plain(events),
            "observation_digest": digest_of(plain(observation)),
            "world_digest": env.get_wrapper_attr("world_digest")(),
        }
        for field in CHECKED:
            if line[field] != replayed[field]:
                return ReplayResult(count, Mismatch(line["step"], field, line[field], replayed[field]))
    world = env.get_wrapper_attr("world").state_dict()
    return ReplayResult(len(steps) if until is None else min(len(steps), until + 1), None, world)
