"""The NonStationary wrapper and the classic-control ids: registration, seeding, drift, visibility."""

import subprocess
import sys
import textwrap

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env
from hypothesis import given
from hypothesis import strategies as st

import driftgym
from driftgym.envs.classic import NonStationary
from driftgym.perturbations import PerturbationError

CLASSIC_IDS = [
    "driftgym/CartPole-v1",
    "driftgym/MountainCar-v0",
    "driftgym/MountainCarContinuous-v0",
    "driftgym/Pendulum-v1",
    "driftgym/Acrobot-v1",
]
GRAVITY_UP = [{"every": 1, "perturb": {"kind": "drift_param", "param": "gravity", "rate": 0.5}}]


def run(env, actions, seed):
    obs, _ = env.reset(seed=seed)
    trajectory = [obs]
    for action in actions:
        obs, reward, terminated, truncated, _ = env.step(action)
        trajectory.append(obs)
        if terminated or truncated:
            break
    return np.array(trajectory)


@pytest.mark.parametrize("env_id", CLASSIC_IDS)
def test_check_env_passes(env_id):
    # Rendering is gymnasium's own classic-control code (pygame), not ours.
    check_env(gym.make(env_id).unwrapped, skip_render_check=True)
    check_env(gym.make(env_id), skip_render_check=True)
    check_env(gym.make(env_id, visibility="magnitude"), skip_render_check=True)


def test_the_module_prefix_form_works_in_a_fresh_interpreter():
    code = textwrap.dedent(
        """
        import sys, gymnasium as gym
        assert "driftgym" not in sys.modules
        env = gym.make("driftgym:driftgym/CartPole-v1")
        env.reset(seed=0)
        vec = gym.make_vec("driftgym:driftgym/Pendulum-v1", num_envs=2, vectorization_mode="sync")
        obs, _ = vec.reset(seed=0)
        print(type(env.unwrapped).__name__, obs.shape)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "CartPoleEnv (2, 3)"


def test_import_registers_every_id():
    assert set(driftgym.ENV_IDS) <= set(gym.registry)
    assert set(CLASSIC_IDS) <= set(driftgym.ENV_IDS)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_vector_envs_reproduce_for_a_seed(mode):
    def rollout():
        envs = gym.make_vec("driftgym/CartPole-v1", num_envs=2, vectorization_mode=mode)
        obs, _ = envs.reset(seed=[3, 4])
        frames = [obs]
        for _ in range(40):
            obs, *_ = envs.step(np.array([1, 0]))
            frames.append(obs)
        envs.close()
        return np.array(frames)

    first = rollout()
    assert np.array_equal(first, rollout())
    assert not np.array_equal(first[:, 0], first[:, 1])


def test_same_seed_same_timeline_and_trajectory_different_seed_different_timeline():
    env = gym.make("driftgym/CartPole-v1")
    actions = [0, 1] * 100
    env.reset(seed=1)
    digest = env.get_wrapper_attr("timeline").digest()
    first = run(env, actions, seed=1)
    log = [e.to_dict() for e in env.get_wrapper_attr("event_log")]
    second = run(env, actions, seed=1)
    assert np.array_equal(first, second)
    assert env.get_wrapper_attr("timeline").digest() == digest
    assert [e.to_dict() for e in env.get_wrapper_attr("event_log")] == log
    env.reset(seed=2)
    assert env.get_wrapper_attr("timeline").digest() != digest


def test_two_action_sequences_under_one_seed_see_the_same_timeline_and_perturbations():
    env = gym.make("driftgym/CartPole-v1", horizon=300)
    run(env, [0] * 300, seed=7)
    timeline = env.get_wrapper_attr("timeline")
    events_a = [(e.step, e.after) for e in env.get_wrapper_attr("event_log")]
    run(env, [1] * 300, seed=7)
    assert env.get_wrapper_attr("timeline") == timeline
    events_b = [(e.step, e.after) for e in env.get_wrapper_attr("event_log")]
    shared = min(len(events_a), len(events_b))
    assert shared > 0 and events_a[:shared] == events_b[:shared]


def test_drift_changes_the_dynamics():
    actions = [0, 1, 1, 0, 1] * 4
    plain = run(gym.make("driftgym/CartPole-v1", schedule=[]), actions, seed=0)
    doubled = [{"at": 0, "perturb": {"kind": "scale_param", "param": "gravity", "factor": 2.0}}]
    heavy = run(gym.make("driftgym/CartPole-v1", schedule=doubled), actions, seed=0)
    assert np.array_equal(plain[0], heavy[0])
    # Euler: the first step moves positions by the old velocities, and the velocities apart.
    assert np.array_equal(plain[1][[0, 2]], heavy[1][[0, 2]])
    assert np.all(plain[1][[1, 3]] != heavy[1][[1, 3]])
    shared = min(len(plain), len(heavy))
    assert np.all(np.abs(plain[2:shared] - heavy[2:shared]).min(axis=1) > 0)


def test_derived_quantities_follow_the_parameters():
    env = gym.make("driftgym/CartPole-v1", schedule=[{"at": 0, "perturb": {"kind": "set_param", "param": "masspole", "value": 0.5}}])
    env.reset(seed=0)
    env.step(0)
    cartpole = env.unwrapped
    assert (cartpole.masspole, cartpole.total_mass, cartpole.polemass_length) == (0.5, 1.5, 0.25)


def test_events_fire_before_the_action_of_their_step():
    env = gym.make("driftgym/CartPole-v1", schedule=[{"at": 2, "perturb": {"kind": "set_param", "param": "gravity", "value": 30.0}}])
    env.reset(seed=0)
    facts = env.get_wrapper_attr("facts")
    for _ in range(2):
        env.step(0)
    assert facts()["param:gravity"] == 9.8
    env.step(0)
    assert facts()["param:gravity"] == 30.0
    assert [(e.step, e.kind, e.target, e.before, e.after) for e in env.get_wrapper_attr("event_log")] == [
        (2, "set_param", "gravity", 9.8, 30.0)
    ]


def test_episodes_truncate_at_the_horizon():
    env = gym.make("driftgym/Pendulum-v1", horizon=5)
    env.reset(seed=0)
    flags = [env.step(np.zeros(1, np.float32))[3] for _ in range(5)]
    assert flags == [False, False, False, False, True]


def test_visibility_flag_and_magnitude_extend_the_box():
    schedule = [{"at": 1, "perturb": {"kind": "step_param", "param": "gravity", "delta": 2.5}}]
    hidden = gym.make("driftgym/CartPole-v1", schedule=schedule)
    flag = gym.make("driftgym/CartPole-v1", schedule=schedule, visibility="flag")
    magnitude = gym.make("driftgym/CartPole-v1", schedule=schedule, visibility="magnitude")
    full = gym.make("driftgym/CartPole-v1", schedule=schedule, visibility="full")
    assert hidden.observation_space.shape == (4,)
    assert flag.observation_space.shape == (5,) and magnitude.observation_space.shape == (6,)
    assert (flag.observation_space.low[4], flag.observation_space.high[4]) == (0.0, 1.0)
    for env in (hidden, flag, magnitude, full):
        env.reset(seed=0)
    steps = {name: [env.step(0) for _ in range(3)] for name, env in [("hidden", hidden), ("flag", flag), ("magnitude", magnitude), ("full", full)]}
    assert [s[0][4] for s in steps["flag"]] == [0.0, 1.0, 0.0]
    assert [tuple(s[0][4:]) for s in steps["magnitude"]] == [(0.0, 0.0), (1.0, 2.5), (0.0, 0.0)]
    assert np.array_equal(steps["hidden"][1][0], steps["flag"][1][0][:4])
    assert all(s[4] == {} for s in steps["hidden"] + steps["flag"] + steps["magnitude"])
    assert [s[4].get("events") for s in steps["full"]] == [
        [],
        [{"step": 1, "kind": "step_param", "target": "gravity", "before": 9.8, "after": 12.3, "phase": "apply", "source": 0}],
        [],
    ]


def test_planning_copies_have_initial_or_current_parameters_and_never_touch_the_env():
    env = gym.make("driftgym/CartPole-v1", schedule=GRAVITY_UP)
    env.reset(seed=0)
    for _ in range(4):
        env.step(0)
    digest = env.get_wrapper_attr("world_digest")()
    current = env.get_wrapper_attr("planning_copy")("current")
    initial = env.get_wrapper_attr("planning_copy")("initial")
    assert (current.gravity, initial.gravity) == (11.8, 9.8)
    assert np.array_equal(current.state, env.unwrapped.state)
    for _ in range(3):
        current.step(1)
        initial.step(1)
    assert current.gravity == 11.8
    assert env.get_wrapper_attr("world_digest")() == digest
    assert env.unwrapped.gravity == 11.8
    with pytest.raises(ValueError, match="planning_copy mode must be 'initial' or 'current' \\(got 'future'\\)"):
        env.get_wrapper_attr("planning_copy")("future")


def test_persist_keeps_drifted_parameters_across_reset():
    fresh = gym.make("driftgym/CartPole-v1", schedule=GRAVITY_UP)
    kept = gym.make("driftgym/CartPole-v1", schedule=GRAVITY_UP, persist=True)
    for env in (fresh, kept):
        env.reset(seed=0)
        for _ in range(4):
            env.step(0)
        env.reset()
    assert fresh.unwrapped.gravity == 9.8
    assert kept.unwrapped.gravity == 11.8


def test_a_window_open_at_the_end_of_an_episode_is_closed_at_reset():
    env = gym.make("driftgym/CartPole-v1", schedule=[{"window": [1, 50], "perturb": {"kind": "set_param", "param": "force_mag", "value": 1.0}}], persist=True)
    env.reset(seed=0)
    env.step(0)
    env.step(0)
    assert env.unwrapped.force_mag == 1.0
    env.reset()
    assert env.unwrapped.force_mag == 10.0


def test_reset_options_replace_the_schedule_for_one_episode():
    env = gym.make("driftgym/CartPole-v1")
    env.reset(seed=0, options={"schedule": []})
    assert len(env.get_wrapper_attr("timeline")) == 0
    env.reset(seed=0)
    assert len(env.get_wrapper_attr("timeline")) > 0


def test_handles_reach_through_the_wrapper_stack():
    env = gym.make("driftgym/Acrobot-v1")
    env.reset(seed=0)
    env.step(0)
    assert env.get_wrapper_attr("facts")()["param:LINK_MASS_2"] == pytest.approx(1.002)
    assert len(env.get_wrapper_attr("world_digest")()) == 64
    assert env.get_wrapper_attr("event_log")[0].kind == "drift_param"


def test_misuse_gets_clear_errors():
    with pytest.raises(PerturbationError, match=r"schedule: driftgym/CartPole-v1 has no drift-able parameter 'gravitty'; did you mean 'gravity'\? drift-able: gravity, masscart, masspole, length, force_mag"):
        gym.make("driftgym/CartPole-v1", schedule=[{"at": 1, "perturb": {"kind": "set_param", "param": "gravitty", "value": 1.0}}])
    with pytest.raises(ValueError, match=r"visibility must be one of hidden, flag, magnitude, full \(got 'loud'\)"):
        gym.make("driftgym/CartPole-v1", visibility="loud")
    with pytest.raises(ValueError, match=r"horizon must be a whole number >= 1 \(got 0\)"):
        gym.make("driftgym/CartPole-v1", horizon=0)
    bare = NonStationary(gym.make("CartPole-v1"), [])
    with pytest.raises(ResetNeeded, match=r"Cannot call env.step\(\) before calling env.reset\(\)"):
        bare.step(0)
    with pytest.raises(ResetNeeded, match=r"NonStationary has no episode yet: call env.reset\(\) first"):
        bare.timeline
    with pytest.raises(ValueError, match=r"seed must be a non-negative whole number or None \(got -1\)"):
        bare.reset(seed=-1)
    with pytest.raises(PerturbationError, match=r"schedule: kind 'oscillate_param' acts on params worlds"):
        driftgym.envs.base.check_schedule([{"at": 1, "perturb": {"kind": "oscillate_param", "param": "x", "amplitude": 1, "period": 2}}], "files", "driftgym/FileSystem-v0")


def test_the_wrapper_works_on_any_env_and_records_its_constructor_args():
    env = NonStationary(gym.make("MountainCar-v0"), [{"at": 0, "perturb": {"kind": "set_param", "param": "force", "value": 0.002}}], horizon=10)
    env.reset(seed=0)
    env.step(1)
    assert env.unwrapped.force == 0.002
    assert env.spec.additional_wrappers[-1].name == "NonStationary"
    assert env.spec.additional_wrappers[-1].kwargs["horizon"] == 10
    assert gym.make("driftgym/CartPole-v1").spec.additional_wrappers == ()


@given(
    st.lists(st.integers(0, 1), min_size=1, max_size=60),
    st.integers(0, 1000),
    st.sampled_from(["hidden", "flag", "magnitude", "full"]),
)
def test_every_observation_lies_in_the_space_and_never_shares_a_buffer(actions, seed, visibility):
    env = gym.make("driftgym/CartPole-v1", visibility=visibility)
    obs, _ = env.reset(seed=seed)
    seen = [obs]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        assert env.observation_space.contains(obs)
        assert all(obs is not earlier for earlier in seen)
        assert reward == 1.0
        seen.append(obs)
        if terminated or truncated:
            obs, _ = env.reset()


def test_a_step_whose_action_the_env_refuses_fires_its_events_once():
    schedule = [{"at": 0, "perturb": {"kind": "scale_param", "param": "gravity", "factor": 2.0}}]
    env = gym.make("driftgym/CartPole-v1", schedule=schedule, visibility="flag")
    env.reset(seed=0)
    with pytest.raises(AssertionError, match=r"5 \(<class 'int'>\) invalid"):  # CartPole's own check
        env.step(5)
    obs, *_ = env.step(0)
    assert env.unwrapped.gravity == 19.6 and len(env.get_wrapper_attr("event_log")) == 1
    assert obs[4] == 1.0  # the retried step still tells the agent that something changed


def test_planning_copies_of_any_env_are_independent_and_can_follow_the_timeline():
    blackjack = NonStationary(gym.make("Blackjack-v1"), [])
    blackjack.reset(seed=0)
    hand = list(blackjack.unwrapped.player)
    blackjack.planning_copy().step(1)
    assert blackjack.unwrapped.player == hand
    env = gym.make("driftgym/CartPole-v1", schedule=GRAVITY_UP)
    env.reset(seed=0)
    env.step(0)
    dreaming = env.get_wrapper_attr("planning_copy")("current", perturb=True)
    dreaming.step(0)
    assert (dreaming.unwrapped.gravity, env.unwrapped.gravity) == (10.8, 10.3)
    assert len(env.get_wrapper_attr("event_log")) == 1
