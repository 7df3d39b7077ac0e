"""What a wrong world model costs: UCT with a stale, an adaptive and an oracle model.

``mcts-initial`` (the world as first built), ``mcts-adaptive`` (its own estimate of the drifting
parameters) and ``mcts-current`` (the true present world) on ``driftgym/CartPole-v1`` and
``driftgym/FrozenLake-v1``, each with no drift, its default schedule and a stronger one (same
kinds, larger and faster changes). Per cell: mean return with a bootstrap 95% interval over the
seeds, the paired gaps current - initial and adaptive - initial, and the world-model error
(mean over the episode's steps of the distance between the planned-with model and the truth:
CartPole, the mean relative error of gravity, length and force_mag, and of
``alpha = gravity / (length (4/3 - masspole / total_mass))``; FrozenLake, the mean
total-variation distance of the successor distributions P(s' | s, a)).

    python benchmarks/mcts_table.py [--seeds-cartpole 10] [--seeds-frozenlake 100] [--workers 2]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import gymnasium as gym
import numpy as np

import driftgym  # noqa: F401  (registers the ids)
from driftgym import agents
from driftgym.envs.classic import CARTPOLE_SCHEDULE
from driftgym.envs.toy_text import FrozenLakeEnv
from driftgym.scenarios.metrics import paired_difference, summarise

CARTPOLE_STRONG = [
    {"every": 1, "perturb": {"kind": "random_walk_param", "param": "gravity", "sigma": 0.5, "min": 4.9, "max": 30.0}},
    {"every": 50, "start": 50, "perturb": {"kind": "scale_param", "param": "length", "factor": {"uniform": [0.4, 0.7]}, "min": 0.05}},
    {"poisson": 0.01, "perturb": {"kind": "scale_param", "param": "force_mag", "factor": {"uniform": [0.2, 0.5]}, "min": 1.0}},
]
FROZENLAKE_STRONG = [
    {"every": 2, "perturb": {"kind": "interpolate_param", "param": "slip", "to": 1.0, "start": 0, "stop": 20}},
    {"poisson": 0.05, "perturb": {"kind": "wasserstein_transition", "bound": 0.4}},
]
SCHEDULES = {
    "driftgym/CartPole-v1": {"none": [], "default": CARTPOLE_SCHEDULE, "strong": CARTPOLE_STRONG},
    "driftgym/FrozenLake-v1": {"none": [], "default": list(FrozenLakeEnv.default_schedule), "strong": FROZENLAKE_STRONG},
}
VARIANTS = ("mcts-initial", "mcts-adaptive", "mcts-current")
ERROR_KEYS = {"driftgym/CartPole-v1": ("params", "alpha"), "driftgym/FrozenLake-v1": ("tv",)}


def episode(cell: tuple[str, str, str, int]) -> tuple[tuple[str, str, str, int], float, dict[str, float]]:
    """One seeded episode: its return and the mean world-model error over its steps."""
    env_id, drift, variant, seed = cell
    env = gym.make(env_id, schedule=SCHEDULES[env_id][drift])
    agent = agents.make(variant, env)
    observation, info = env.reset(seed=seed)
    agent.reset(seed)
    total, errors = 0.0, []
    while True:
        action = agent.act(observation, info)
        errors.append(agent.world_model_error())
        observation, reward, terminated, truncated, info = env.step(action)
        total += float(reward)
        if terminated or truncated:
            break
    return cell, total, {key: float(np.mean([e[key] for e in errors])) for key in ERROR_KEYS[env_id]}


def interval(values) -> str:
    figure = summarise(list(values))
    return f"{figure['mean']:.3g} [{figure['low']:.3g}, {figure['high']:.3g}]"


def gap(results, a: str, b: str) -> str:
    figure = paired_difference({s: r for s, (r, _) in results[a].items()}, {s: r for s, (r, _) in results[b].items()})
    return f"{figure['mean']:.3g} [{figure['low']:.3g}, {figure['high']:.3g}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds-cartpole", type=int, default=10)
    parser.add_argument("--seeds-frozenlake", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    seeds = {"driftgym/CartPole-v1": args.seeds_cartpole, "driftgym/FrozenLake-v1": args.seeds_frozenlake}
    cells = [(e, d, v, s) for e in SCHEDULES for d in SCHEDULES[e] for v in VARIANTS for s in range(seeds[e])]
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        done = list(pool.map(episode, cells, chunksize=4))
    results: dict = {}
    for (env_id, drift, variant, seed), total, error in done:
        results.setdefault((env_id, drift), {}).setdefault(variant, {})[seed] = (total, error)
    print("| env | drift | agent | return, mean [95% CI] | gap to mcts-initial (paired) | world-model error |")
    print("|---|---|---|---|---|---|")
    for (env_id, drift), by_variant in results.items():
        for variant in VARIANTS:
            runs = by_variant[variant]
            shown = ", ".join(f"{key} {interval(e[key] for _, e in runs.values())}" for key in ERROR_KEYS[env_id])
            paired = "" if variant == "mcts-initial" else gap(by_variant, variant, "mcts-initial")
            print(f"| {env_id} | {drift} | {variant} | {interval(r for r, _ in runs.values())} | {paired} | {shown} |")
    print(f"\n{len(cells)} episodes ({seeds}) in {time.perf_counter() - started:.0f} s with {args.workers} workers")


if __name__ == "__main__":
    main()
