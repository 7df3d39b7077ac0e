"""Stable-Baselines3 (extra ``sb3``): its own ``check_env`` on every id, and a short PPO on each
domain env (a couple of thousand steps, sized for CI)."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.env_checker import check_env
from stable_baselines3.common.env_util import make_vec_env

import driftgym

SB3_SPACES = (gym.spaces.Box, gym.spaces.Discrete, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary)


def sb3_supports(space: gym.Space) -> bool:
    if isinstance(space, gym.spaces.Dict):
        return all(isinstance(s, SB3_SPACES) for s in space.spaces.values())
    return isinstance(space, SB3_SPACES)


def spaces_of(env_id: str) -> tuple[gym.Space, gym.Space]:
    env = gym.make(env_id)
    spaces = env.observation_space, env.action_space
    env.close()
    return spaces


# The ids present at import whose spaces SB3 takes; the others are the text ids (for LLM agents).
ALL_IDS = sorted(driftgym.ENV_IDS)
ENV_IDS = [i for i in ALL_IDS if all(sb3_supports(s) for s in spaces_of(i))]


def test_only_text_ids_are_beyond_sb3():
    others = [i for i in ALL_IDS if i not in ENV_IDS]
    assert all(isinstance(spaces_of(i)[0], gym.spaces.Text) for i in others), others
    assert set(ENV_IDS) >= {"driftgym/CartPole-v1", "driftgym/FileSystem-v0", "driftgym/HttpApi-v0", "driftgym/Services-v0"}
DOMAIN_IDS = ["driftgym/FileSystem-v0", "driftgym/HttpApi-v0", "driftgym/Services-v0"]
TIMESTEPS = 2048


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_sb3_check_env_passes(env_id):
    env = gym.make(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, warn=True, skip_render_check=True)
    # SB3 may advise (unbounded Box entries, a non-normalised Box); it must never find a fault
    assert not [w for w in caught if issubclass(w.category, (RuntimeWarning,))], [str(w.message) for w in caught]
    env.close()


def policy_for(env: gym.Env) -> str:
    return "MultiInputPolicy" if isinstance(env.observation_space, gym.spaces.Dict) else "MlpPolicy"


@pytest.mark.parametrize("env_id", DOMAIN_IDS)
def test_a_short_ppo_run_trains_and_acts(env_id):
    vec = make_vec_env(env_id, n_envs=2, seed=0, env_kwargs={"horizon": 100, "render_mode": None})  # SB3 asks for rgb_array otherwise
    model = PPO(policy_for(vec.envs[0]), vec, n_steps=128, batch_size=64, n_epochs=2, seed=0, device="cpu", verbose=0)
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=TIMESTEPS)
    assert model.num_timesteps == TIMESTEPS
    assert any(not np.allclose(a, b.detach()) for a, b in zip(before, model.policy.parameters()))  # it learned
    assert len(model.ep_info_buffer) == TIMESTEPS // 100  # 2 envs x 1024 steps, episodes of 100
    env = gym.make(env_id, horizon=100)
    obs, _ = env.reset(seed=123)
    total = 0.0
    for _ in range(100):
        action, _ = model.predict(obs, deterministic=True)
        assert env.action_space.contains(action)
        obs, reward, terminated, truncated, _ = env.step(action)
        total += reward
    assert truncated and math.isfinite(total)
    vec.close()


def test_ppo_with_a_seed_is_reproducible():
    def trained() -> list[np.ndarray]:
        vec = make_vec_env("driftgym/Services-v0", n_envs=1, seed=3, env_kwargs={"horizon": 64, "render_mode": None})
        model = PPO("MultiInputPolicy", vec, n_steps=64, batch_size=32, n_epochs=1, seed=3, device="cpu")
        model.learn(total_timesteps=128)
        return [p.detach().numpy().copy() for p in model.policy.parameters()]

    assert all(np.array_equal(a, b) for a, b in zip(trained(), trained()))
