"""Timelines (the concrete, ordered perturbations of one episode) and their playback.

A :class:`Timeline` is what a schedule compiles to for one (seed, horizon): sorted entries with
every random parameter resolved. It round-trips through JSON exactly, has a digest, prints as a
table and, for playback, a per-step plan so that a step costs one list index.

:class:`Playback` runs a timeline against a world during an episode: it fires the entries of a
step, reverts transient ones at their end, and keeps the compact event records from which the
:class:`EventLog` builds :class:`Event` objects on demand.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from driftgym.perturbations.core import (
    Event,
    Perturbation,
    PerturbationError,
    canonical_json,
    change_magnitude,
    digest_of,
    perturbation_from_dict,
)

__all__ = ["EventLog", "Playback", "Timeline", "TimelineEntry"]

TIMELINE_FORMAT = 1


@dataclass(frozen=True)
class TimelineEntry:
    """One firing: at ``step``; for a transient effect, reverted at ``step + duration``."""

    step: int
    perturbation: Perturbation
    duration: int | None = None

    @property
    def end(self) -> int | None:
        return None if self.duration is None else self.step + self.duration

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "duration": self.duration, "perturb": self.perturbation.to_dict()}


class Timeline(Sequence):
    """An immutable, sorted sequence of :class:`TimelineEntry` for one episode of ``horizon`` steps."""

    def __init__(self, entries: Sequence[TimelineEntry], horizon: int) -> None:
        if not isinstance(horizon, int) or horizon < 1:
            raise PerturbationError(f"horizon must be a whole number >= 1 (got {horizon!r})")
        for entry in entries:
            if not 0 <= entry.step < horizon:
                raise PerturbationError(f"timeline entry at step {entry.step} lies outside [0, {horizon})")
        self._entries = tuple(sorted(entries, key=lambda e: e.step))
        self.horizon = horizon
        self._plan: list[tuple[tuple[int, bool], ...]] | None = None
        self._digest: str | None = None

    # ----- sequence
    def __getitem__(self, index):  # type: ignore[override]
        return self._entries[index]

    def __len__(self) -> int:
        return len(self._entries)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timeline) and self.horizon == other.horizon and self._entries == other._entries

    def __hash__(self) -> int:  # a digest-based hash: stable, and equal timelines hash alike
        return int(self.digest()[:15], 16)

    @property
    def entries(self) -> tuple[TimelineEntry, ...]:
        return self._entries

    def steps(self) -> list[int]:
        return [e.step for e in self._entries]

    # ----- serialisation
    def to_dict(self) -> dict[str, Any]:
        return {"format": TIMELINE_FORMAT, "horizon": self.horizon, "entries": [e.to_dict() for e in self._entries]}

    def to_json(self) -> str:
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Timeline:
        if not isinstance(data, dict) or data.get("format") != TIMELINE_FORMAT:
            raise PerturbationError(f"not a driftgym timeline of format {TIMELINE_FORMAT}")
        entries = [
            TimelineEntry(int(e["step"]), perturbation_from_dict(e["perturb"], f"entries[{i}].perturb"), e["duration"])
            for i, e in enumerate(data["entries"])
        ]
        return cls(entries, int(data["horizon"]))

    @classmethod
    def from_json(cls, text: str) -> Timeline:
        return cls.from_dict(json.loads(text))

    def digest(self) -> str:
        if self._digest is None:
            self._digest = digest_of(self.to_dict())
        return self._digest

    # ----- reading
    def __str__(self) -> str:
        rows = [("step", "until", "kind", "parameters")]
        for e in self._entries:
            params = {k: v for k, v in e.perturbation.to_dict().items() if k != "kind"}
            shown = " ".join(f"{k}={_short(v)}" for k, v in params.items() if v is not None)
            rows.append((str(e.step), "" if e.end is None else str(e.end), e.perturbation.kind, shown))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [f"{r[0]:>{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip() for r in rows]
        lines.insert(1, "-" * max(len(line) for line in lines))
        lines.append(f"{len(self)} events over {self.horizon} steps, digest {self.digest()[:12]}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Timeline({len(self)} entries, horizon={self.horizon}, digest={self.digest()[:12]})"

    def plan(self) -> list[tuple[tuple[int, bool], ...]]:
        """Per step, ``(entry index, is_revert)`` pairs in firing order: reverts first, then fires."""
        if self._plan is None:
            slots: list[list[tuple[int, bool]]] = [[] for _ in range(self.horizon)]
            fires: list[list[tuple[int, bool]]] = [[] for _ in range(self.horizon)]
            for index, entry in enumerate(self._entries):
                fires[entry.step].append((index, False))
                if entry.end is not None and entry.end < self.horizon:
                    slots[entry.end].append((index, True))
            self._plan = [tuple(r + f) for r, f in zip(slots, fires)]
        return self._plan


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return f"[{len(value)} values]"
    return str(value)


class EventLog(Sequence):
    """The events of an episode, built from compact records when read."""

    def __init__(self, records: list[tuple], timeline: Timeline) -> None:
        self._records = records
        self._timeline = timeline

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self._event(r) for r in self._records[index]]
        return self._event(self._records[index])

    def _event(self, record: tuple) -> Event:
        step, index, revert, target, before, after = record
        kind = self._timeline.entries[index].perturbation.kind
        return Event(step, kind, target, before, after, "revert" if revert else "apply")

    def at(self, step: int) -> list[Event]:
        return [self._event(r) for r in self._records if r[0] == step]

    def to_list(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self]

    def __repr__(self) -> str:
        return f"EventLog({len(self)} events)"


class Playback:
    """Fires a timeline's entries against a world, step by step.

    ``fire(world, step)`` applies what the timeline holds for ``step`` (reverts of ending
    transient entries first, then new firings) and returns how many records it added.
    """

    def __init__(self, timeline: Timeline, rng: np.random.Generator) -> None:
        self.timeline = timeline
        self.rng = rng
        self.records: list[tuple] = []
        self._plan = timeline.plan()
        self._open: dict[int, tuple[Any, Any]] = {}

    def fire(self, world: Any, step: int) -> int:
        if step >= len(self._plan):
            return 0
        plan = self._plan[step]
        if not plan:
            return 0
        entries = self.timeline.entries
        for index, revert in plan:
            perturbation = entries[index].perturbation
            if revert:
                target, before = self._open.pop(index)
                record = perturbation.revert(world, target, before, step)
            else:
                record = perturbation.change(world, self.rng, step)
                if entries[index].duration is not None:
                    self._open[index] = (record[0], record[1])
            self.records.append((step, index, revert, *record))
        return len(plan)

    def close(self, world: Any) -> None:
        """Revert every transient effect still open (at the end of an episode), unlogged."""
        entries = self.timeline.entries
        for index, (target, before) in sorted(self._open.items(), reverse=True):
            entries[index].perturbation.revert(world, target, before, self.timeline.horizon)
        self._open.clear()

    def last(self, count: int) -> list[tuple]:
        return self.records[len(self.records) - count :] if count else []

    def magnitude(self, count: int) -> float:
        """Summed size of the last ``count`` records' changes."""
        return float(sum(change_magnitude(r[4], r[5]) for r in self.last(count)))

    @property
    def event_log(self) -> EventLog:
        return EventLog(self.records, self.timeline)
