"""Step overhead of MuJoCo parameter drift: bare ``gym.make("X-v5")`` against ``driftgym/X-v5``.

Both run the same random actions, timed interleaved in one process, median of repeats. The
schedules: none; gravity changed every 10 steps (no derived constants); the torso's mass changed
every 10 steps (``mj_setConst`` each time); floor friction every step; the id's default schedule.
Target: at most 1.15x the bare step time with a change every 10 steps.

    python benchmarks/mujoco_overhead.py [--env HalfCheetah] [--steps 5000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import gymnasium as gym
import numpy as np

import driftgym  # noqa: F401  (registers the ids)

warnings.filterwarnings("ignore")

GRAVITY_EVERY_10 = [{"every": 10, "perturb": {"kind": "random_walk_param", "param": "opt.gravity.z", "sigma": 0.3, "min": -14.7, "max": -4.9}}]
MASS_EVERY_10 = [{"every": 10, "perturb": {"kind": "random_walk_param", "param": "body_mass[torso]", "sigma": 0.1, "min": 1.0, "max": 20.0}}]
FRICTION_EVERY_STEP = [{"every": 1, "perturb": {"kind": "random_walk_param", "param": "geom_friction[floor].sliding", "sigma": 0.01, "min": 0.2, "max": 1.5}}]


def steps_per_second(env: gym.Env, actions: np.ndarray, seed: int) -> float:
    env.reset(seed=seed)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return len(actions) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="HalfCheetah")
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    ours = f"driftgym/{args.env}-v5"
    envs = {
        f"bare {args.env}-v5": gym.make(f"{args.env}-v5"),
        f"{ours}, no schedule": gym.make(ours, schedule=[]),
        f"{ours}, gravity every 10 steps": gym.make(ours, schedule=GRAVITY_EVERY_10),
        f"{ours}, torso mass every 10 steps": gym.make(ours, schedule=MASS_EVERY_10),
        f"{ours}, floor friction every step": gym.make(ours, schedule=FRICTION_EVERY_STEP),
        f"{ours}, default schedule": gym.make(ours),
    }
    space = envs[f"bare {args.env}-v5"].action_space
    space.seed(0)
    actions = np.array([space.sample() for _ in range(args.steps)])
    rates: dict[str, list[float]] = {name: [] for name in envs}
    for repeat in range(args.repeats):
        for name, env in envs.items():
            rates[name].append(steps_per_second(env, actions, seed=repeat))
    bare = statistics.median(rates[f"bare {args.env}-v5"])
    print(f"{'env':<55} {'steps/s':>10} {'step time vs bare':>18}")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"{name:<55} {median:>10.0f} {bare / median:>17.3f}x")


if __name__ == "__main__":
    main()
