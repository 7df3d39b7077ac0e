"""PPO trained on a static world, then evaluated under drift: the drop a static benchmark hides.

Trains Stable-Baselines3 PPO twice on one driftgym id — once without perturbations
(``schedule=[]``), once with the id's default schedule — and evaluates both policies, with and
without the default schedule, on the same fixed evaluation seeds (so every policy faces the same
perturbations at the same steps). Prints a Markdown table of the mean reward per step over the
evaluation episodes with a bootstrap 95% interval, and the drop of each policy when the world
starts to drift (paired by seed).

    pip install 'driftgym[sb3]'
    python examples/train_ppo.py --env driftgym/FileSystem-v0 --timesteps 50000

Needs the ``sb3`` extra (stable-baselines3 and a CPU build of torch).
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

import driftgym  # noqa: F401  (registers the ids)
from driftgym.scenarios.metrics import paired_difference, summarise

CONDITIONS = {"static": [], "drifting": None}  # None: the id's default schedule


def train(env_id: str, schedule: list | None, timesteps: int, n_envs: int, seed: int) -> PPO:
    env_kwargs = {"schedule": schedule, "render_mode": None}
    vec = make_vec_env(env_id, n_envs=n_envs, seed=seed, env_kwargs=env_kwargs)
    policy = "MultiInputPolicy" if isinstance(vec.observation_space, gym.spaces.Dict) else "MlpPolicy"
    model = PPO(policy, vec, n_steps=256, batch_size=128, seed=seed, device="cpu", verbose=0)
    model.learn(total_timesteps=timesteps)
    vec.close()
    return model


def evaluate(model: PPO, env_id: str, schedule: list | None, seeds: list[int]) -> dict[int, float]:
    """Mean reward per step of one deterministic episode per seed."""
    env = gym.make(env_id, schedule=schedule)
    scores = {}
    for seed in seeds:
        obs, _ = env.reset(seed=seed)
        rewards, done = [], False
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action)
            rewards.append(reward)
            done = terminated or truncated
        scores[seed] = float(np.mean(rewards))
    env.close()
    return scores


def interval(figure: dict) -> str:
    return f"{figure['mean']:.3f} [{figure['low']:.3f}, {figure['high']:.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="driftgym/FileSystem-v0")
    parser.add_argument("--timesteps", type=int, default=50_000)
    parser.add_argument("--n-envs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--eval-seeds", default="1000-1029", help="fixed evaluation seeds, low-high")
    args = parser.parse_args()
    low, high = (int(part) for part in args.eval_seeds.split("-"))
    seeds = list(range(low, high + 1))

    started = time.perf_counter()
    models = {name: train(args.env, schedule, args.timesteps, args.n_envs, args.seed) for name, schedule in CONDITIONS.items()}
    trained = time.perf_counter() - started
    scores = {(m, e): evaluate(models[m], args.env, CONDITIONS[e], seeds) for m in models for e in CONDITIONS}
    elapsed = time.perf_counter() - started

    print(f"{args.env}: PPO, {args.timesteps} timesteps per policy (seed {args.seed}), "
          f"{len(seeds)} evaluation seeds {args.eval_seeds}; mean reward per step, bootstrap 95% interval\n")
    print("| trained | evaluated static | evaluated with the default schedule | drop under drift (paired) |")
    print("|---|---|---|---|")
    for m in models:
        static, drifting = scores[(m, "static")], scores[(m, "drifting")]
        drop = paired_difference(static, drifting)
        print(f"| {m} | {interval(summarise(list(static.values())))} | {interval(summarise(list(drifting.values())))} "
              f"| {interval(drop)} |")
    print(f"\ntraining {trained:.0f} s, total {elapsed:.0f} s wall time")


if __name__ == "__main__":
    main()
