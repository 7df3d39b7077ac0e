"""Side-by-side timing shared by the benchmark scripts (run them as ``python benchmarks/X.py``).

Every env is stepped with the same actions, the envs interleaved within each repeat, and the
median taken over repeats, so that a ratio survives a noisy machine.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

import gymnasium as gym


def steps_per_second(env: gym.Env, actions: Sequence[Any], seed: int) -> float:
    """Steps per second over ``actions`` from ``reset(seed)``, resets on episode end included."""
    env.reset(seed=seed)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return len(actions) / (time.perf_counter() - start)


def median_rates(runs: dict[str, tuple[gym.Env, Sequence[Any]]], repeats: int) -> dict[str, float]:
    """name -> median steps/s of each (env, actions), interleaved within every repeat."""
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for repeat in range(repeats):
        for name, (env, actions) in runs.items():
            rates[name].append(steps_per_second(env, actions, seed=repeat))
    return {name: statistics.median(values) for name, values in rates.items()}


def ratio_table(rates: dict[str, float], bare: str, digits: int = 2) -> str:
    """A table of steps/s and step time relative to the ``bare`` row."""
    width = max(len(name) for name in rates) + 2
    lines = [f"{'env':<{width}} {'steps/s':>10} {'step time vs bare':>18}"]
    for name, rate in rates.items():
        lines.append(f"{name:<{width}} {rate:>10.0f} {rates[bare] / rate:>17.{digits}f}x")
    return "\n".join(lines)
