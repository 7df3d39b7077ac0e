"""How cheap planning copies are: ``planning_copy`` calls per second, against a deep copy.

Timed interleaved in one process, median of repeats: driftgym/CartPole-v1's
``planning_copy("current")`` and ``("initial")`` (the handle fetched once, as a planner does),
``copy.deepcopy`` of the whole ``gym.make`` stack (what a generic "planning env" costs: NS-Gym's
``get_planning_env`` measured about 1,000 calls/s for CartPole on these machines), and the same
for driftgym/FrozenLake-v1. The issue's target: at least 20,000 CartPole copies/s.

    python benchmarks/planning_copy.py [--calls 20000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable

import gymnasium as gym

import driftgym  # noqa: F401  (registers the ids)


def calls_per_second(make_copy: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        make_copy()
    return calls / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    cartpole, frozenlake = gym.make("driftgym/CartPole-v1"), gym.make("driftgym/FrozenLake-v1")
    for env in (cartpole, frozenlake):
        env.reset(seed=0)
        for _ in range(10):
            env.step(0)
    cartpole_copy, frozenlake_copy = cartpole.get_wrapper_attr("planning_copy"), frozenlake.get_wrapper_attr("planning_copy")
    cases: dict[str, tuple[Callable[[], object], int]] = {
        "CartPole planning_copy('current')": (lambda: cartpole_copy("current"), args.calls),
        "CartPole planning_copy('initial')": (lambda: cartpole_copy("initial"), args.calls),
        "CartPole copy.deepcopy(env)": (lambda: copy.deepcopy(cartpole), args.calls // 10),
        "FrozenLake planning_copy('current')": (lambda: frozenlake_copy("current"), args.calls // 10),
        "FrozenLake planning_copy('initial')": (lambda: frozenlake_copy("initial"), args.calls // 10),
        "FrozenLake copy.deepcopy(env)": (lambda: copy.deepcopy(frozenlake), args.calls // 10),
    }
    figures: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeats):
        for name, (make_copy, calls) in cases.items():
            figures[name].append(calls_per_second(make_copy, calls))
    reference = statistics.median(figures["CartPole copy.deepcopy(env)"])
    print("| copy | calls/s (median) | x deepcopy of CartPole | x NS-Gym get_planning_env (~1,000/s) |")
    print("|---|---|---|---|")
    for name, values in figures.items():
        median = statistics.median(values)
        print(f"| {name} | {median:,.0f} | {median / reference:.2f} | {median / 1000:.1f} |")


if __name__ == "__main__":
    main()
