"""The ``driftgym`` command: ``demo``, ``list``, ``show``.

Bad input gets one clear line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import gymnasium as gym
import numpy as np

import driftgym
from driftgym.perturbations import PerturbationError, kinds

Policy = Callable[[np.ndarray, np.random.Generator], int]


def random_policy(obs: np.ndarray, rng: np.random.Generator) -> int:
    return int(rng.integers(2))


def balance_policy(obs: np.ndarray, rng: np.random.Generator) -> int:
    """Push towards the side the pole falls to (angle plus angular velocity): tuned for 9.8 m/s^2."""
    return int(obs[2] + 0.5 * obs[3] > 0)


def episode_return(env: gym.Env, policy: Policy, seed: int) -> float:
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    total = 0.0
    while True:
        obs, reward, terminated, truncated, _ = env.step(policy(obs, rng))
        total += float(reward)
        if terminated or truncated:
            return total


def demo(seeds: Sequence[int]) -> str:
    """Returns of two CartPole policies with and without the default drift, on the same seeds."""
    env_id = "driftgym/CartPole-v1"
    policies = {"random": random_policy, "balance": balance_policy}
    envs = {"no drift": gym.make(env_id, schedule=[]), "default drift": gym.make(env_id)}
    lines = []
    timeline_env = envs["default drift"]
    timeline_env.reset(seed=seeds[0])
    timeline = timeline_env.get_wrapper_attr("timeline")
    lines.append(f"{env_id}, default schedule, seed {seeds[0]}: {len(timeline)} events, digest {timeline.digest()[:12]}")
    shown = [e for e in timeline if e.perturbation.kind != "random_walk_param"]
    lines.append("  besides a gravity random walk every step: " + ", ".join(
        f"step {e.step} {e.perturbation.kind} {e.perturbation.param}" for e in shown
    ))
    lines.append("")
    lines.append(f"mean return over seeds {seeds[0]}..{seeds[-1]} (paired: the same seeds in every cell)")
    lines.append(f"{'policy':<10}" + "".join(f"{name:>16}" for name in envs))
    for name, policy in policies.items():
        means = [np.mean([episode_return(env, policy, s) for s in seeds]) for env in envs.values()]
        lines.append(f"{name:<10}" + "".join(f"{m:>16.1f}" for m in means))
    return "\n".join(lines)


def list_everything() -> str:
    lines = ["env ids:"]
    lines += [f"  {env_id}" for env_id in driftgym.ENV_IDS]
    lines.append("perturbation kinds (world: kind(parameters) - summary):")
    for name, cls in kinds().items():
        params = ", ".join(f"{p}: {what}" for p, what in cls.parameters().items())
        lines.append(f"  {cls.world}: {name}({params}) - {cls.summary}")
    return "\n".join(lines)


def show(env_id: str, seed: int) -> str:
    env = gym.make(env_id)
    env.reset(seed=seed)
    return str(env.get_wrapper_attr("timeline"))


def parse_seeds(text: str) -> list[int]:
    """``"0-9"`` or ``"1,4,7"`` -> a list of seeds."""
    try:
        if "-" in text:
            low, high = (int(part) for part in text.split("-", 1))
            seeds = list(range(low, high + 1))
        else:
            seeds = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad seed range {text!r}: use 0-9 or 1,4,7") from None
    if not seeds or min(seeds) < 0:
        raise argparse.ArgumentTypeError(f"bad seed range {text!r}: seeds are non-negative, low <= high")
    return seeds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="driftgym", description="Gymnasium environments whose world changes under the agent.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="run a drifting CartPole with two policies and print a table")
    demo_parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-9"))
    commands.add_parser("list", help="env ids and perturbation kinds with their parameters")
    show_parser = commands.add_parser("show", help="the compiled timeline of an env's default schedule")
    show_parser.add_argument("env_id")
    show_parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            print(demo(args.seeds))
        elif args.command == "list":
            print(list_everything())
        elif args.command == "show":
            if args.env_id not in driftgym.ENV_IDS:
                raise ValueError(f"unknown env id {args.env_id!r}; known: {', '.join(driftgym.ENV_IDS)}")
            print(show(args.env_id, args.seed))
    except (ValueError, PerturbationError, gym.error.Error) as error:
        print(f"driftgym: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
