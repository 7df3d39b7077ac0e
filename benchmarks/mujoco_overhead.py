"""Step overhead of MuJoCo parameter drift: bare ``gym.make("X-v5")`` against ``driftgym/X-v5``.

Both run the same random actions, timed interleaved in one process, median of repeats. The
schedules: none; gravity changed every 10 steps (no derived constants); the torso's mass changed
every 10 steps (``mj_setConst`` each time); floor friction every step; the id's default schedule.
Target: at most 1.15x the bare step time with a change every 10 steps.

    python benchmarks/mujoco_overhead.py [--env HalfCheetah] [--steps 5000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import warnings

import gymnasium as gym
import numpy as np

import driftgym  # noqa: F401  (registers the ids)
from timing import median_rates, ratio_table

warnings.filterwarnings("ignore")

GRAVITY_EVERY_10 = [{"every": 10, "perturb": {"kind": "random_walk_param", "param": "opt.gravity.z", "sigma": 0.3, "min": -14.7, "max": -4.9}}]
MASS_EVERY_10 = [{"every": 10, "perturb": {"kind": "random_walk_param", "param": "body_mass[torso]", "sigma": 0.1, "min": 1.0, "max": 20.0}}]
FRICTION_EVERY_STEP = [{"every": 1, "perturb": {"kind": "random_walk_param", "param": "geom_friction[floor].sliding", "sigma": 0.01, "min": 0.2, "max": 1.5}}]


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
    rates = median_rates({name: (env, actions) for name, env in envs.items()}, args.repeats)
    print(ratio_table(rates, f"bare {args.env}-v5", digits=3))

if __name__ == "__main__":
    main()
