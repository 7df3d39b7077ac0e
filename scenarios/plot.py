"""``driftgym plot RUN_DIR`` (extra ``plot``): per scenario, one PNG with two panels — reward per
step and world-model accuracy at the probe steps, one line per agent (mean over seeds), with the
perturbation change points marked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from driftgym.scenarios.runner import change_points, read_trace

__all__ = ["plot_run"]


def _mean_curve(curves: list[list[float]]) -> np.ndarray:
    length = max(len(c) for c in curves)
    padded = np.full((len(curves), length), np.nan)
    for row, curve in enumerate(curves):
        padded[row, : len(curve)] = curve
    return np.nanmean(padded, axis=0)


def _accuracy_by_step(steps: list[dict[str, Any]]) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for line in steps:
        answered = [p for p in line.get("probes", []) if p["answer"] is not None]
        if answered:
            xs.append(line["step"])
            ys.append(sum(p["answer"] == p["truth"] for p in answered) / len(answered))
    return xs, ys


def plot_run(run_dir: Path) -> list[Path]:
    """Write ``<scenario>.png`` into ``run_dir`` for every scenario run there; return the paths."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("plotting needs matplotlib: pip install 'driftgym[plot]'") from None
    written = []
    for scenario_dir in sorted(p for p in run_dir.iterdir() if p.is_dir()):
        figure, (rewards_axis, accuracy_axis) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
        marks: set[int] = set()
        for number, agent_dir in enumerate(sorted(p for p in scenario_dir.iterdir() if p.is_dir())):
            color = f"C{number}"
            traces = [read_trace(p) for p in sorted(agent_dir.glob("seed-*.jsonl"))]
            if not traces:
                continue
            steps = [[line for line in trace[1:] if "step" in line] for trace in traces]
            rewards_axis.plot(_mean_curve([[line["reward"] for line in s] for s in steps]), color=color, label=agent_dir.name)
            xs, ys = _accuracy_by_step(steps[0])
            if xs:
                accuracy_axis.plot(xs, ys, marker=".", color=color, label=agent_dir.name)
            marks.update(change_points([e for line in steps[0] for e in line["events"]]))
        for step in sorted(marks):
            for axis in (rewards_axis, accuracy_axis):
                axis.axvline(step, color="grey", alpha=0.3, linewidth=0.8)
        rewards_axis.set_ylabel("reward (mean over seeds)")
        accuracy_axis.set_ylabel("world-model accuracy (first seed)")
        accuracy_axis.set_xlabel("step")
        rewards_axis.set_title(f"{scenario_dir.name}: grey lines mark where a change starts")
        rewards_axis.legend(loc="lower left", fontsize="small")
        if accuracy_axis.lines:
            accuracy_axis.legend(loc="lower left", fontsize="small")
        path = run_dir / f"{scenario_dir.name}.png"
        figure.tight_layout()
        figure.savefig(path, dpi=80)
        plt.close(figure)
        written.append(path)
    return written
