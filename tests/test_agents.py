"""Baseline agents: the registry, determinism, and the classic-control controllers."""

import gymnasium as gym
import numpy as np
import pytest

import driftgym
from driftgym import agents
from driftgym.scenarios.metrics import paired_difference


def episode_return(env_id, agent_name, seed, **kwargs):
    env = gym.make(env_id, **kwargs)
    agent = agents.make(agent_name, env)
    obs, info = env.reset(seed=seed)
    agent.reset(seed)
    total, actions = 0.0, []
    while True:
        action = agent.act(obs, info)
        actions.append(np.asarray(action).tolist())
        obs, reward, terminated, truncated, info = env.step(action)
        total += float(reward)
        if terminated or truncated:
            return total, actions


@pytest.mark.parametrize("env_id", list(driftgym.ENV_IDS))
def test_every_id_has_the_four_baselines(env_id):
    assert {"random", "stale", "adaptive", "oracle"} <= set(agents.names(env_id))


def test_unknown_agents_get_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown agent 'adaptve' for driftgym/Pendulum-v1; did you mean 'adaptive'\? known: adaptive, oracle, random, stale"):
        agents.make("adaptve", gym.make("driftgym/Pendulum-v1"))


@pytest.mark.parametrize("name", ["random", "stale", "adaptive", "oracle"])
def test_agents_are_deterministic_for_a_seed(name):
    assert episode_return("driftgym/Pendulum-v1", name, 3, horizon=60) == episode_return("driftgym/Pendulum-v1", name, 3, horizon=60)


def test_only_the_oracle_is_unfair():
    env = gym.make("driftgym/CartPole-v1")
    assert [agents.make(n, env).fair for n in ("random", "stale", "adaptive", "oracle")] == [True, True, True, False]


def test_on_cartpole_re_estimating_the_pole_beats_the_stale_model_and_only_under_drift():
    seeds = range(10)
    drifted = {n: {s: episode_return("driftgym/CartPole-v1", n, s)[0] for s in seeds} for n in ("stale", "adaptive")}
    calm = {n: {s: episode_return("driftgym/CartPole-v1", n, s, schedule=[])[0] for s in seeds} for n in ("stale", "adaptive")}
    gap = paired_difference(drifted["adaptive"], drifted["stale"])
    assert gap["low"] > 0
    assert paired_difference(calm["adaptive"], calm["stale"])["mean"] == 0.0
    assert all(v == 500.0 for v in calm["stale"].values())
