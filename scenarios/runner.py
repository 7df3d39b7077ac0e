"""Run scenarios: one JSONL trace per (scenario, agent, seed), then a summary with intervals.

A trace is a header line (format, scenario, agent, seed, timeline digest, the probes taken at
reset, marked step -1), one line per step (action, reward, events, probe answers, observation and
world digests) and a closing line with the episode's figures. Every file is written to a temporary name and renamed when complete, so an
interrupted run leaves nothing that looks finished, and ``resume`` only runs the missing cells.
Results are the same, digest for digest, whatever the number of workers and the backend.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import driftgym
from driftgym import agents
from driftgym.envs.base import Streams
from driftgym.perturbations import canonical_json, digest_of
from driftgym.scenarios import metrics
from driftgym.scenarios.scenario import Scenario

__all__ = ["TRACE_FORMAT", "Cell", "run_cell", "run_scenarios", "summarise_runs", "write_atomic"]

TRACE_FORMAT = "driftgym-trace/1"


@dataclass(frozen=True)
class Cell:
    """One unit of work: a scenario, an agent and a seed."""

    scenario: Scenario
    agent: str
    seed: int

    def path(self, out: Path) -> Path:
        return out / self.scenario.id / self.agent / f"seed-{self.seed}.jsonl"


def plain(value: Any) -> Any:
    """JSON-able form of an action or observation."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in sorted(value.items())}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def as_action(space: gym.Space, recorded: Any) -> Any:
    """A recorded (JSON) action back in the action space's own type."""
    if isinstance(space, gym.spaces.Discrete):
        return int(recorded)
    if isinstance(space, gym.spaces.Text):
        return str(recorded)
    if isinstance(space, gym.spaces.Dict):
        return {k: as_action(space[k], recorded[k]) for k in space}
    return np.asarray(recorded, dtype=space.dtype)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def make_env(scenario: Scenario) -> gym.Env:
    return gym.make(scenario.env, **scenario.env_arguments())


def believed(agent: agents.Agent, env: gym.Env, keys: Sequence[str]) -> dict[str, tuple[Any, float | None]]:
    """The agent's own belief, else the belief its env reads from the observation."""
    belief = agent.belief(keys)
    if belief is not None:
        return belief
    view_facts = handle(env, "view_facts")
    view = view_facts() if view_facts is not None else {}
    return {k: (view[k], None) for k in keys if k in view}


def handle(env: gym.Env, name: str) -> Any:
    """``env.get_wrapper_attr(name)``, or None when no layer of the stack has it (an error raised
    while *using* a handle is never mistaken for its absence)."""
    try:
        return env.get_wrapper_attr(name)
    except AttributeError:
        return None


def believable(env: gym.Env, truth: dict[str, Any]) -> list[str]:
    """The fact keys an agent is asked about: those of the families its env names in
    ``belief_prefixes`` (what the task makes it track), else every fact; sorted."""
    prefixes = handle(env, "belief_prefixes")
    return sorted(k for k in truth if prefixes is None or k.split(":", 1)[0] in prefixes)


def probe(env: gym.Env, agent: agents.Agent, rng: np.random.Generator, count: int, step: int) -> list[dict[str, Any]]:
    """A seeded sample of ``count`` believable facts, the same for every agent on a seed, with the
    truth and the agent's answers (a key its belief lacks is an abstention)."""
    truth = env.get_wrapper_attr("facts")()
    keys = believable(env, truth)
    chosen = [keys[i] for i in sorted(rng.choice(len(keys), size=min(count, len(keys)), replace=False))]
    answers = believed(agent, env, chosen)
    records = []
    for key in chosen:
        answer, confidence = answers.get(key, (None, None))
        records.append({"step": step, "key": key, "truth": truth[key], "answer": answer, "confidence": confidence})
    return records


def run_cell(cell: Cell) -> list[dict[str, Any]]:
    """Run one episode and return its trace lines (header, steps, closing figures)."""
    scenario = cell.scenario
    env = make_env(scenario)
    agent = agents.make(cell.agent, env)
    observation, info = env.reset(seed=cell.seed)
    agent.reset(cell.seed)
    probe_rng = Streams(cell.seed).generator("probes")  # the episode's probe stream (design.md)
    timeline = env.get_wrapper_attr("timeline")
    event_log = env.get_wrapper_attr("event_log")
    probes = probe(env, agent, probe_rng, scenario.probe_facts, -1)  # at reset: before any change
    lines: list[dict[str, Any]] = [
        {
            "format": TRACE_FORMAT,
            "driftgym": driftgym.__version__,
            "scenario": scenario.to_dict(),
            "agent": cell.agent,
            "fair": agent.fair,
            "seed": cell.seed,
            "timeline_digest": timeline.digest(),
            "observation_digest": digest_of(plain(observation)),
            "world_digest": env.get_wrapper_attr("world_digest")(),
            "probes": list(probes),
        }
    ]
    rewards: list[float] = []
    seen = 0
    step = 0
    while True:
        action = agent.act(observation, info)
        observation, reward, terminated, truncated, info = env.step(action)
        events = [e.to_dict() for e in event_log[seen:]]
        seen = len(event_log)
        line = {
            "step": step,
            "action": plain(action),
            "reward": float(reward),
            "events": events,
            "observation_digest": digest_of(plain(observation)),
            "world_digest": env.get_wrapper_attr("world_digest")(),
        }
        if (step + 1) % scenario.probe_every == 0:
            line["probes"] = probe(env, agent, probe_rng, scenario.probe_facts, step)
            probes.extend(line["probes"])
        lines.append(line)
        rewards.append(float(reward))
        step += 1
        if terminated or truncated:
            break
    event_steps = change_points([e for line in lines[1:] for e in line["events"]])
    lines.append({"closing": episode_figures(rewards, event_steps, probes, env)})
    env.close()
    return lines


def change_points(events: Sequence[dict[str, Any]]) -> list[int]:
    """The steps where a change starts: an applied event whose schedule entry did not also fire
    on the step before (a drift that fires every step is one change, where it begins)."""
    fired = {(e["source"], e["step"]) for e in events if e["phase"] == "apply"}
    return sorted({step for source, step in fired if (source, step - 1) not in fired})


def episode_figures(rewards: list[float], event_steps: list[int], probes: list[dict[str, Any]], env: gym.Env) -> dict[str, Any]:
    adaptation = metrics.episode_adaptation(rewards, event_steps) if rewards else []
    recoveries = [a["recovery_time"] for a in adaptation if a["recovery_time"] is not None and not a["censored"]]
    figures = {
        "return": float(sum(rewards)),
        "steps": len(rewards),
        "rewards": rewards,
        "events": len(event_steps),
        "recovery_time": float(np.mean(recoveries)) if recoveries else None,  # of the changes recovered from
        "recovered": len(recoveries),
        "censored": sum(1 for a in adaptation if a["censored"]),  # not recovered within the window
        "world_model": metrics.probe_accuracy(probes),
    }
    env_figures = handle(env, "episode_figures")
    if env_figures is not None:
        figures["env"] = plain(env_figures())
    return figures


def trace_text(lines: Iterable[dict[str, Any]]) -> str:
    return "".join(canonical_json(line) + "\n" for line in lines)


def _run_and_write(job: tuple[Cell, str]) -> str:
    cell, out = job
    path = cell.path(Path(out))
    write_atomic(path, trace_text(run_cell(cell)))
    return str(path)


def cells_of(scenarios: Sequence[Scenario], agent_names: Sequence[str] | None, seeds: Sequence[int] | None) -> list[Cell]:
    return [
        Cell(scenario, agent, seed)
        for scenario in scenarios
        for agent in (agent_names or scenario.agents)
        for seed in (seeds if seeds is not None else scenario.seeds)
    ]


def run_scenarios(
    scenarios: Sequence[Scenario],
    out: Path,
    agent_names: Sequence[str] | None = None,
    seeds: Sequence[int] | None = None,
    workers: int = 1,
    backend: str = "local",
    resume: bool = False,
    address: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run every (scenario, agent, seed) cell into ``out`` and write ``summary.json``/``.md``."""
    cells = cells_of(scenarios, agent_names, seeds)
    todo = [c for c in cells if not (resume and complete(c.path(out)))]
    done = len(cells) - len(todo)
    if progress:
        progress(done, len(cells))
    jobs = [(c, str(out)) for c in todo]
    if backend == "ray":
        from driftgym.scenarios.ray_backend import run_on_ray

        for _ in run_on_ray(_run_and_write, jobs, address):
            done += 1
            if progress:
                progress(done, len(cells))
    elif workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(_run_and_write, jobs):
                done += 1
                if progress:
                    progress(done, len(cells))
    else:
        for job in jobs:
            _run_and_write(job)
            done += 1
            if progress:
                progress(done, len(cells))
    summary = summarise_runs(cells, out)
    write_atomic(out / "summary.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
    write_atomic(out / "summary.md", summary_table(summary) + "\n")
    return summary


def read_trace(path: Path) -> list[dict[str, Any]]:
    """The lines of a trace; a file that is not one raises ValueError naming it."""
    try:
        lines = [json.loads(line) for line in path.read_text().splitlines() if line]
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a readable trace ({error})") from None
    if not lines or lines[0].get("format") != TRACE_FORMAT or "closing" not in lines[-1]:
        raise ValueError(f"{path}: not a complete driftgym trace of format {TRACE_FORMAT}")
    return lines


def complete(path: Path) -> bool:
    """Whether ``path`` holds a complete trace (resume runs the cell again otherwise)."""
    try:
        read_trace(path)
    except ValueError:
        return False
    return True


def summarise_runs(cells: Sequence[Cell], out: Path) -> dict[str, Any]:
    """Per scenario and agent: mean and bootstrap 95% interval over seeds of each figure."""
    closing: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
    for cell in cells:
        closing.setdefault((cell.scenario.id, cell.agent), {})[cell.seed] = read_trace(cell.path(out))[-1]["closing"]
    summary: dict[str, Any] = {}
    for (scenario_id, agent), by_seed in sorted(closing.items()):
        oracle = closing.get((scenario_id, "oracle"))
        row: dict[str, Any] = {
            "return": metrics.summarise([c["return"] for c in by_seed.values()]),
            "seeds": sorted(by_seed),
        }
        recoveries = [c["recovery_time"] for c in by_seed.values() if c["recovery_time"] is not None]
        row["recovery_time"] = metrics.summarise(recoveries) if recoveries else None
        accuracies = [c["world_model"]["accuracy"] for c in by_seed.values() if c["world_model"]["accuracy"] is not None]
        row["world_model_accuracy"] = metrics.summarise(accuracies) if accuracies else None
        if oracle is not None:
            regrets = {
                seed: metrics.dynamic_regret(c["rewards"], oracle[seed]["rewards"], missing=0.0)["total"]
                for seed, c in by_seed.items()
                if seed in oracle
            }
            row["regret"] = metrics.summarise(list(regrets.values())) if regrets else None
        else:
            row["regret"] = None
        row["env"] = env_summary([c.get("env", {}) for c in by_seed.values()])
        summary.setdefault(scenario_id, {})[agent] = row
    return summary


def env_summary(figures: list[dict[str, Any]]) -> dict[str, Any]:
    """Each env-specific figure (jobs completed, MTTR, targets in spec, ...) over the seeds that have it."""
    keys = sorted({k for f in figures for k, v in f.items() if isinstance(v, (int, float)) and not isinstance(v, bool)})
    summary = {}
    for key in keys:
        values = [f[key] for f in figures if isinstance(f.get(key), (int, float))]
        summary[key] = metrics.summarise(values)
    return summary


def _interval(figure: dict[str, Any] | None) -> str:
    if figure is None:
        return "-"
    return f"{figure['mean']:.2f} [{figure['low']:.2f}, {figure['high']:.2f}]"


def summary_table(summary: dict[str, Any]) -> str:
    """A Markdown table: one row per (scenario, agent); means with bootstrap 95% intervals."""
    lines = [
        "| scenario | agent | return | regret vs oracle | recovery time | world-model accuracy | env figures (means) |",
        "|---|---|---|---|---|---|---|",
    ]
    for scenario_id, rows in summary.items():
        for agent, row in rows.items():
            lines.append(
                f"| {scenario_id} | {agent} | {_interval(row['return'])} | {_interval(row['regret'])} | "
                f"{_interval(row['recovery_time'])} | {_interval(row['world_model_accuracy'])} | "
                + (", ".join(f"{k} {v['mean']:.3g}" for k, v in row["env"].items()) or "-")
                + " |"
            )
    return "\n".join(lines)
