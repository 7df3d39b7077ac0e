"""The baselines on each domain env, as tests/test_proof.py checks them, in full.

For each env under its default schedule (and with none, and under ``visibility="flag"``), over
seeds 0-9: mean return with a bootstrap 95% interval, the paired adaptive-minus-stale gap,
world-model accuracy before the first change and over the second half, recovery time, and the
env's own figures.

    python benchmarks/agent_table.py [--seeds 10]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_proof import DOMAIN_ENVS, accuracy, episodes  # noqa: E402

from driftgym.scenarios.metrics import paired_difference, summarise  # noqa: E402


def interval(values) -> str:
    figure = summarise(list(values))
    return f"{figure['mean']:.2f} [{figure['low']:.2f}, {figure['high']:.2f}]"


def mean_of(values) -> str:
    present = [v for v in values if v is not None]
    return f"{np.mean(present):.3g}" if present else "-"


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    print("| env | agent | return (default) | return (no schedule) | return (flag) | accuracy before first change | accuracy, second half | recovery time, steps (changes not recovered from): hidden / flag | env figures |")
    print("|---|---|---|---|---|---|---|---|---|")
    for env_id, horizon in DOMAIN_ENVS.items():
        for agent in ("stale", "adaptive", "oracle"):
            runs = episodes(env_id, agent)
            calm, flag = episodes(env_id, agent, calm=True), episodes(env_id, agent, "flag")
            before = [accuracy(lines, -1, min(e["step"] for l in lines[1:-1] for e in l["events"])) for lines in runs.values()]
            after = [accuracy(lines, horizon // 2, horizon) for lines in runs.values()]
            recovery = [mean_of([lines[-1]["closing"]["recovery_time"] for lines in r.values()]) for r in (runs, flag)]
            censored = [sum(lines[-1]["closing"]["censored"] for lines in r.values()) for r in (runs, flag)]
            figures = [lines[-1]["closing"].get("env", {}) for lines in runs.values()]
            shown = ", ".join(f"{k} {mean_of([f.get(k) for f in figures])}" for k in sorted(figures[0]))
            print(
                f"| {env_id} | {agent} | {interval(l[-1]['closing']['return'] for l in runs.values())} | "
                f"{interval(l[-1]['closing']['return'] for l in calm.values())} | {interval(l[-1]['closing']['return'] for l in flag.values())} | "
                f"{np.mean(before):.3f} | {interval(after)} | {recovery[0]} ({censored[0]}) / {recovery[1]} ({censored[1]}) | {shown} |"
            )
        gap = paired_difference(
            {s: l[-1]["closing"]["return"] for s, l in episodes(env_id, "adaptive").items()},
            {s: l[-1]["closing"]["return"] for s, l in episodes(env_id, "stale").items()},
        )
        print(f"| {env_id} | adaptive - stale (paired) | {gap['mean']:.2f} [{gap['low']:.2f}, {gap['high']:.2f}] | | | | | | |")


if __name__ == "__main__":
    main()
