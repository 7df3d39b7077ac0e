"""The MCTS baselines: deterministic for a seed, the oracle model is plain UCT on an undrifted env,
planning never touches the real env, and the three variants differ only in their model."""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest

import driftgym  # noqa: F401  (registers the ids)
from driftgym import agents
from driftgym.agents.mcts import BUDGETS, CartPoleEstimate, ClassicModel, MCTSAgent, UCT, successor_tv

JUMP = [
    {"at": 0, "perturb": {"kind": "set_param", "param": "gravity", "value": 15.0}},
    {"at": 0, "perturb": {"kind": "set_param", "param": "length", "value": 0.3}},
    {"at": 0, "perturb": {"kind": "set_param", "param": "force_mag", "value": 5.0}},
]


def actions_of(env_id: str, name: str, seed: int, steps: int, **kwargs) -> list[int]:
    env = gym.make(env_id, **kwargs)
    agent = agents.make(name, env)
    observation, info = env.reset(seed=seed)
    agent.reset(seed)
    actions = []
    for _ in range(steps):
        action = agent.act(observation, info)
        actions.append(action)
        observation, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    return actions


@pytest.mark.parametrize("env_id,name,steps", [
    ("driftgym/CartPole-v1", "mcts-adaptive", 30),
    ("driftgym/CartPole-v1", "mcts-initial", 30),
    ("driftgym/FrozenLake-v1", "mcts-adaptive", 15),
    ("driftgym/CliffWalking-v1", "mcts-current", 5),
])
def test_the_same_seed_gives_the_same_actions(env_id, name, steps):
    first = actions_of(env_id, name, 3, steps)
    assert first == actions_of(env_id, name, 3, steps)
    assert all(type(a) is int and 0 <= a < 4 for a in first)


def test_mcts_current_on_an_undrifted_env_is_plain_uct_on_the_base_env():
    env, base = gym.make("driftgym/CartPole-v1", schedule=[]), gym.make("CartPole-v1")
    agent = agents.make("mcts-current", env)
    observation, info = env.reset(seed=5)
    base_observation, _ = base.reset(seed=5)
    agent.reset(5)
    planner = UCT(BUDGETS["driftgym/CartPole-v1"], np.random.default_rng(5))
    for _ in range(60):
        assert np.array_equal(observation, base_observation)
        action = agent.act(observation, info)
        twin = copy.copy(base.unwrapped)
        assert action == planner.plan(ClassicModel(twin))
        observation, _, terminated, _, info = env.step(action)
        base_observation, _, base_terminated, _, _ = base.step(action)
        assert terminated == base_terminated
        if terminated:
            break


@pytest.mark.parametrize("env_id", ["driftgym/CartPole-v1", "driftgym/FrozenLake-v1"])
@pytest.mark.parametrize("name", ["mcts-initial", "mcts-current", "mcts-adaptive"])
def test_planning_never_advances_the_real_env(env_id, name):
    env, twin_env = gym.make(env_id), gym.make(env_id)
    agent = agents.make(name, env)
    observation, info = env.reset(seed=1)
    twin_observation, _ = twin_env.reset(seed=1)
    agent.reset(1)
    unwrapped = env.unwrapped
    for _ in range(12):
        digest, step = env.get_wrapper_attr("world_digest")(), env.get_wrapper_attr("step_index")
        rng_state = copy.deepcopy(unwrapped.np_random.bit_generator.state)
        dynamics = getattr(unwrapped, "dynamics_rng", None)
        dynamics_state = copy.deepcopy(dynamics.bit_generator.state) if dynamics is not None else None
        action = agent.act(observation, info)
        assert env.get_wrapper_attr("world_digest")() == digest
        assert env.get_wrapper_attr("step_index") == step
        assert unwrapped.np_random.bit_generator.state == rng_state
        if dynamics is not None:
            assert dynamics.bit_generator.state == dynamics_state
        observation, _, terminated, truncated, info = env.step(action)
        twin_observation, _, _, _, _ = twin_env.step(action)  # no planning: the same trajectory
        assert np.array_equal(observation, twin_observation)
        assert env.get_wrapper_attr("world_digest")() == twin_env.get_wrapper_attr("world_digest")()
        if terminated or truncated:
            break


def test_the_variants_plan_with_a_stale_an_estimated_and_the_true_model():
    errors = {}
    for name in ("mcts-initial", "mcts-adaptive", "mcts-current"):
        env = gym.make("driftgym/CartPole-v1", schedule=JUMP)
        agent = agents.make(name, env)
        observation, info = env.reset(seed=0)
        agent.reset(0)
        for _ in range(12):
            observation, _, _, _, info = env.step(agent.act(observation, info))
        agent.act(observation, info)
        errors[name] = agent.world_model_error()
        assert agent.fair is (name != "mcts-current")
    assert errors["mcts-current"]["params"] == 0.0 and errors["mcts-current"]["alpha"] == 0.0
    stale = errors["mcts-initial"]
    assert stale["gravity"] == pytest.approx(abs(9.8 - 15.0) / 15.0)
    assert stale["length"] == pytest.approx(0.2 / 0.3) and stale["force_mag"] == pytest.approx(1.0)
    assert stale["params"] == pytest.approx((5.2 / 15.0 + 0.2 / 0.3 + 1.0) / 3)
    assert errors["mcts-adaptive"]["params"] < 1e-6  # constant parameters: the equations fit exactly


def test_the_cartpole_estimate_solves_the_euler_equations():
    env = gym.make("CartPole-v1").unwrapped
    env.reset(seed=2)
    env.gravity, env.length, env.force_mag = 12.0, 0.2, 4.0
    env.polemass_length = env.masspole * env.length
    estimate = CartPoleEstimate({"gravity": 9.8, "length": 0.5, "force_mag": 10.0, "masspole": 0.1, "masscart": 1.0})
    assert estimate.values() == {"gravity": 9.8, "length": 0.5, "force_mag": 10.0}
    for action in (0, 1, 1, 0, 1, 0):
        state = env.state.copy()
        env.step(action)
        estimate.observe(state, action, env.state)
    assert estimate.values() == pytest.approx({"gravity": 12.0, "length": 0.2, "force_mag": 4.0}, rel=1e-9)


def test_frozen_lake_model_error_is_the_successor_total_variation():
    env = gym.make("driftgym/FrozenLake-v1")
    env.reset(seed=0)
    world = env.get_wrapper_attr("world")
    assert successor_tv(world.model, world.probs, world.probs) == 0.0
    slipless = world.probs.copy()
    slipless[...] = (0.0, 1.0, 0.0)
    model, rows = world.model, []
    for s in range(16):
        if model.desc[s // 4][s % 4] in "HG":
            continue
        for a in range(4):
            mine, true = {}, {}
            for k in range(3):
                successor = int(model.successors[s, a, k])
                mine[successor] = mine.get(successor, 0.0) + slipless[s, a, k]
                true[successor] = true.get(successor, 0.0) + world.probs[s, a, k]
            rows.append(sum(abs(mine[c] - true[c]) for c in mine) / 2)
    assert len(rows) == 11 * 4
    assert successor_tv(model, slipless, world.probs) == pytest.approx(np.mean(rows))
    # cell 0, "left": stay (up-left and left merge) against down: (1, 0) vs (2/3, 1/3)
    assert rows[0] == pytest.approx(1 / 3)


@pytest.mark.parametrize("env_id", ["driftgym/MountainCar-v0", "driftgym/Acrobot-v1", "driftgym/CliffWalking-v1"])
def test_every_registered_id_gets_the_three_variants(env_id):
    assert {"mcts-initial", "mcts-current", "mcts-adaptive"} <= set(agents.names(env_id))
    actions = actions_of(env_id, "mcts-adaptive", 0, 4)
    assert len(actions) == 4


def test_a_wrong_mode_is_a_clear_error():
    with pytest.raises(ValueError, match=r"mcts mode must be one of initial, current, adaptive \(got 'oracle'\)"):
        MCTSAgent(gym.make("driftgym/CartPole-v1"), "oracle")
    with pytest.raises(ValueError, match=r"mcts needs a Discrete action space \(got Box"):
        MCTSAgent(gym.make("driftgym/Pendulum-v1"), "current")
