"""Every id in real RL plumbing: `gym.make_vec` in sync and async modes, with autoreset and seeds.

Async sub-environments are built in fresh "spawn" processes, so they make the env by id alone
(``import driftgym`` registering it there, through the id's entry point). Episodes are cut to a
few steps (``horizon=3``) so that autoreset happens inside the run. Gymnasium cannot put a
``Text`` observation in shared memory (async reads back blanks), so text ids run async with
``shared_memory=False``.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import driftgym

HORIZON = 3
STEPS = 8
ENV_IDS = sorted(driftgym.ENV_IDS)  # the ids present at import


def rollout(vec: gym.vector.VectorEnv, seed: int) -> list:
    """Observations, rewards and done flags of a seeded run with seeded actions."""
    vec.action_space.seed(seed)
    obs, _ = vec.reset(seed=seed)
    out = [flat(obs)]
    for _ in range(STEPS):
        obs, reward, terminated, truncated, _ = vec.step(vec.action_space.sample())
        assert vec.observation_space.contains(obs)
        out.append((flat(obs), reward.tolist(), terminated.tolist(), truncated.tolist()))
    return out


def flat(obs) -> list:
    if isinstance(obs, dict):
        return [np.asarray(obs[k]).tolist() for k in sorted(obs)]
    return np.asarray(obs).tolist()


def has_text(space: gym.Space) -> bool:
    if isinstance(space, gym.spaces.Dict):
        return any(has_text(s) for s in space.spaces.values())
    return isinstance(space, gym.spaces.Text)


def make(env_id: str, mode: str) -> gym.vector.VectorEnv:
    vector_kwargs = {}
    if mode == "async":
        probe = gym.make(env_id)
        vector_kwargs = {"context": "spawn", "shared_memory": not has_text(probe.observation_space)}
        probe.close()
    return gym.make_vec(env_id, num_envs=2, vectorization_mode=mode, vector_kwargs=vector_kwargs, horizon=HORIZON)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_sync_and_async_give_the_same_seeded_run_with_autoreset(env_id):
    sync = make(env_id, "sync")
    assert sync.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    first, again = rollout(sync, 7), rollout(sync, 7)
    assert first == again  # seeds reproduce
    assert rollout(sync, 8) != first
    sync.close()
    asynchronous = make(env_id, "async")
    assert rollout(asynchronous, 7) == first  # other processes, the same run
    asynchronous.close()
    dones = [any(t) or any(u) for _, _, t, u in first[1:]]
    assert any(dones), "no episode ended: autoreset was not exercised"
    for step, (done, after) in enumerate(zip(dones, first[2:])):
        if done:  # next-step autoreset: the step after an ending resets, reward 0, not done
            _, reward, terminated, truncated = after
            ended = [t or u for t, u in zip(*first[step + 1][2:])]
            assert [r for r, e in zip(reward, ended) if e] == [0.0] * sum(ended)
            assert not any(t for t, e in zip(terminated, ended) if e) and not any(u for u, e in zip(truncated, ended) if e)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_vector_env_reaches_the_evaluation_handles(env_id):
    vec = gym.make_vec(env_id, num_envs=2, vectorization_mode="sync", horizon=HORIZON)
    vec.reset(seed=[1, 2])
    digests = vec.call("get_wrapper_attr", "world_digest")
    assert len(digests) == 2 and all(callable(d) for d in digests)
    timelines = vec.call("get_wrapper_attr", "timeline")
    assert [t.horizon for t in timelines] == [HORIZON, HORIZON]
    vec.close()
