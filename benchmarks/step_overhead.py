"""Step overhead of parameter drift: bare CartPole-v1 against driftgym/CartPole-v1.

Both are made with ``gym.make`` (the same wrapper stack), run with the same random actions, and
timed interleaved in one process, median of repeats, so the ratio survives a noisy machine. The
drift schedule changes a parameter every step (the pole gets heavier every step, gravity does a
random walk), the kind of job NS-Gym's README example runs.

    python benchmarks/step_overhead.py [--steps 20000] [--repeats 7]
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np

import driftgym  # noqa: F401  (registers the ids)
from timing import median_rates, ratio_table

ONE_PARAM = [{"every": 1, "perturb": {"kind": "drift_param", "param": "gravity", "rate": 0.001, "max": 20.0}}]
SCHEDULE = [
    {"every": 1, "perturb": {"kind": "drift_param", "param": "masspole", "rate": 0.0001, "max": 1.0}},
    {"every": 1, "perturb": {"kind": "random_walk_param", "param": "gravity", "sigma": 0.01, "min": 4.9, "max": 19.6}},
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    actions = np.random.default_rng(0).integers(0, 2, args.steps)
    envs = {
        "bare CartPole-v1": gym.make("CartPole-v1"),
        "driftgym/CartPole-v1, no schedule": gym.make("driftgym/CartPole-v1", schedule=[]),
        "driftgym/CartPole-v1, 1 param every step": gym.make("driftgym/CartPole-v1", schedule=ONE_PARAM),
        "driftgym/CartPole-v1, 2 params every step": gym.make("driftgym/CartPole-v1", schedule=SCHEDULE),
        "driftgym/CartPole-v1, default schedule": gym.make("driftgym/CartPole-v1"),
    }
    rates = median_rates({name: (env, actions) for name, env in envs.items()}, args.repeats)
    print(ratio_table(rates, "bare CartPole-v1"))

if __name__ == "__main__":
    main()
