"""FrozenLake and CliffWalking with a drifting transition model: kinds, validity, spaces, copies."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given
from hypothesis import strategies as st

import driftgym  # noqa: F401
from driftgym import agents
from driftgym.envs.toy_text import CliffWalkingEnv, FrozenLakeEnv, TransitionWorld
from driftgym.perturbations import PerturbationError, perturbation_from_dict
from driftgym.perturbations.distributions import wasserstein_1
from driftgym.perturbations.timeline import PerturbationStream

TOY_IDS = ["driftgym/FrozenLake-v1", "driftgym/CliffWalking-v1"]
SLIP_TO_ZERO = [{"at": 0, "perturb": {"kind": "set_param", "param": "slip", "value": 0.0}}]


def normalised(row):
    """What the world stores for a row: the weights divided by their (rounded) sum."""
    array = np.array(row)
    return (array / array.sum()).tolist()


def rollout(env, actions, seed):
    obs, _ = env.reset(seed=seed)
    states, rewards = [obs], []
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        states.append(obs)
        rewards.append(reward)
        if terminated or truncated:
            break
    return states, rewards


@pytest.mark.parametrize("env_id", TOY_IDS)
@pytest.mark.parametrize("visibility", ["hidden", "flag", "magnitude", "full"])
def test_check_env_passes(env_id, visibility):
    check_env(gym.make(env_id, visibility=visibility, render_mode="ansi").unwrapped)


def test_spaces_per_visibility_and_no_probabilities_in_info_unless_full():
    spaces_seen = {v: gym.make("driftgym/FrozenLake-v1", visibility=v).observation_space for v in ("hidden", "flag", "magnitude")}
    assert spaces_seen["hidden"] == gym.spaces.Discrete(16)
    assert spaces_seen["flag"] == gym.spaces.MultiDiscrete([16, 2])
    assert set(spaces_seen["magnitude"].spaces) == {"state", "changed", "magnitude"}
    schedule = [{"at": 1, "perturb": {"kind": "set_param", "param": "slip", "value": 0.0}}]
    hidden = gym.make("driftgym/FrozenLake-v1", schedule=schedule)
    flag = gym.make("driftgym/FrozenLake-v1", schedule=schedule, visibility="flag")
    full = gym.make("driftgym/FrozenLake-v1", schedule=schedule, visibility="full")
    for env in (hidden, flag, full):
        env.reset(seed=0)
    hidden_steps = [hidden.step(1) for _ in range(2)]
    flag_steps = [flag.step(1) for _ in range(2)]
    full_steps = [full.step(1) for _ in range(2)]
    assert [s[4] for s in hidden_steps + flag_steps] == [{}, {}, {}, {}]
    assert [s[0][1] for s in flag_steps] == [0, 1]
    assert full_steps[1][4]["prob"] == 1.0
    assert full_steps[1][4]["events"][0]["target"] == "slip"


def test_slip_drifted_to_zero_makes_frozen_lake_deterministic_for_any_seed():
    env = gym.make("driftgym/FrozenLake-v1", schedule=SLIP_TO_ZERO)
    path = [2, 2, 1, 1, 1, 2]  # right, right, down, down, down, right
    runs = [rollout(env, path, seed) for seed in range(20)]
    assert all(run == ([0, 1, 2, 6, 10, 14, 15], [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]) for run in runs)
    slippery = {tuple(rollout(gym.make("driftgym/FrozenLake-v1", schedule=[]), path, seed)[0]) for seed in range(20)}
    assert len(slippery) > 1


def test_the_model_matches_gymnasium_p_where_gymnasium_has_three_outcomes():
    ours = FrozenLakeEnv(schedule=[])
    ours.reset(seed=0)
    theirs = gym.make("FrozenLake-v1").unwrapped
    for s in range(16):
        for a in range(4):
            if len(theirs.P[s][a]) == 3:
                assert ours.P[s][a] == [(p, int(n), float(r), d) for p, n, r, d in theirs.P[s][a]]
    cliff = CliffWalkingEnv(schedule=[])
    cliff.reset(seed=0)
    assert cliff.P[36][1] == [(0.0, 24, -1.0, False), (1.0, 36, -100.0, False), (0.0, 36, -1.0, False)]


def test_transition_kinds_give_exact_distributions_and_events():
    schedule = [
        {"at": 0, "perturb": {"kind": "set_transition", "probs": [1, 2, 1], "state": 5}},
        {"at": 1, "perturb": {"kind": "uniform_transition", "rate": 0.5}},
        {"at": 2, "perturb": {"kind": "shift_transition", "delta": 0.25, "state": 5, "action": 0}},
    ]
    env = gym.make("driftgym/CliffWalking-v1", schedule=schedule)
    env.reset(seed=0)
    world = env.get_wrapper_attr("world")
    env.step(0)
    assert world.probs[5].tolist() == [[0.25, 0.5, 0.25]] * 4
    assert world.probs[4, 0].tolist() == [0.0, 1.0, 0.0]
    env.step(0)
    assert world.probs[4, 0].tolist() == normalised([0.5 / 3, 0.5 + 0.5 / 3, 0.5 / 3])
    assert world.probs[5, 0].tolist() == normalised([0.125 + 0.5 / 3, 0.25 + 0.5 / 3, 0.125 + 0.5 / 3])
    env.step(0)
    intended = normalised([0.125 + 0.5 / 3, 0.25 + 0.5 / 3, 0.125 + 0.5 / 3])[1] + 0.25
    assert world.probs[5, 0, 1] == pytest.approx(intended, abs=1e-15)
    assert world.probs[5, 0, 0] == world.probs[5, 0, 2] == pytest.approx((1 - intended) / 2, abs=1e-15)
    events = [(e.step, e.kind, e.target, e.before) for e in env.get_wrapper_attr("event_log")]
    assert events[0] == (0, "set_transition", "P[5][*]", [0.0, 1.0, 0.0])
    assert events[1][:3] == (1, "uniform_transition", "P[*][*]") and len(events[1][3]) == 192
    assert events[2][2] == "P[5][0]"


def test_a_window_restores_the_exact_distributions():
    schedule = [{"window": [1, 3], "perturb": {"kind": "random_transition", "concentration": 2.0}}]
    env = gym.make("driftgym/FrozenLake-v1", schedule=schedule)
    env.reset(seed=3)
    world = env.get_wrapper_attr("world")
    before = world.probs.copy()
    env.step(0)
    env.step(0)
    assert not np.array_equal(world.probs, before)
    env.step(0)
    env.step(0)
    assert not np.array_equal(world.probs, before)
    env.step(0)  # step 4: the window [1, 1 + 3) has ended
    assert np.array_equal(world.probs, before)


def test_same_seed_same_events_and_digests_different_seed_different():
    def trace(seed):
        env = gym.make("driftgym/FrozenLake-v1", horizon=60, schedule=[{"every": 3, "perturb": {"kind": "wasserstein_transition", "bound": 0.1}}])
        env.reset(seed=seed)
        digests = []
        for t in range(60):
            _, _, terminated, truncated, _ = env.step(t % 4)
            digests.append(env.get_wrapper_attr("world_digest")())
            if terminated or truncated:
                break
        return digests, env.get_wrapper_attr("event_log").to_list()

    assert trace(4) == trace(4)
    assert trace(4)[1] != trace(5)[1]


def test_planning_copies_keep_the_map_and_the_current_or_initial_model():
    env = gym.make("driftgym/FrozenLake-v1", schedule=SLIP_TO_ZERO)
    env.reset(seed=0)
    env.step(2)
    world = env.get_wrapper_attr("world")
    digest = env.get_wrapper_attr("world_digest")()
    current = env.get_wrapper_attr("planning_copy")("current")
    initial = env.get_wrapper_attr("planning_copy")("initial")
    assert current.desc.tolist() == initial.desc.tolist() == env.unwrapped.desc.tolist()
    assert current.world.position == initial.world.position == world.position == 1
    assert current.world.probs[0, 0].tolist() == [0.0, 1.0, 0.0]
    assert initial.world.probs[0, 0].tolist() == [(1 - 1 / 3) / 2, 1 / 3, (1 - 1 / 3) / 2]
    for _ in range(5):
        current.step(1)
        initial.step(1)
    assert env.get_wrapper_attr("world_digest")() == digest


def test_misuse_gets_clear_errors():
    with pytest.raises(PerturbationError, match=r"schedule: FrozenLakeEnv has no drift-able parameter 'slipp'; did you mean 'slip'\? drift-able: slip, slip\[s\] for a state s in 0..15"):
        gym.make("driftgym/FrozenLake-v1", schedule=[{"at": 0, "perturb": {"kind": "set_param", "param": "slipp", "value": 0.1}}])
    with pytest.raises(PerturbationError, match=r"schedule: FrozenLakeEnv has no state 16 \(states are 0..15\)"):
        gym.make("driftgym/FrozenLake-v1", schedule=[{"at": 0, "perturb": {"kind": "uniform_transition", "rate": 0.1, "state": 16}}])
    with pytest.raises(PerturbationError, match=r"schedule: set_transition.probs needs 3 weights \(left, intended, right\) \(got 2\)"):
        gym.make("driftgym/CliffWalking-v1", schedule=[{"at": 0, "perturb": {"kind": "set_transition", "probs": [1, 1]}}])
    with pytest.raises(PerturbationError, match=r"probs: set_transition needs at least two non-negative weights with a positive sum \(got \[0.0, 0.0, 0.0\]\)"):
        perturbation_from_dict({"kind": "set_transition", "probs": [0, 0, 0]})
    with pytest.raises(PerturbationError, match=r"schedule: kind 'crash' acts on services worlds; CliffWalkingEnv accepts: "):
        gym.make("driftgym/CliffWalking-v1", schedule=[{"at": 0, "perturb": {"kind": "crash"}}])


# --------------------------------------------------------------------------- every kind stays valid

weights = st.lists(st.floats(0.0, 10.0), min_size=3, max_size=3).filter(lambda w: sum(w) > 0.01)
targets = st.fixed_dictionaries({}, optional={"state": st.integers(0, 15), "action": st.integers(0, 3)})
kinds = st.one_of(
    st.builds(lambda p, t: {"kind": "set_transition", "probs": p, **t}, weights, targets),
    st.builds(lambda d, t: {"kind": "shift_transition", "delta": d, **t}, st.floats(-1, 1), targets),
    st.builds(lambda v, c, t: {"kind": "list_transition", "values": v, "cycle": c, **t}, st.lists(weights, min_size=1, max_size=4), st.booleans(), targets),
    st.builds(lambda to, a, b, t: {"kind": "interpolate_transition", "to": to, "start": a, "stop": a + b, **t}, weights, st.integers(0, 20), st.integers(1, 20), targets),
    st.builds(lambda r, t: {"kind": "uniform_transition", "rate": r, **t}, st.floats(0, 1), targets),
    st.builds(lambda r, to, t: {"kind": "revert_transition", "rate": r, **({"to": to} if to else {}), **t}, st.floats(0, 1), st.none() | weights, targets),
    st.builds(lambda c, m, t: {"kind": "random_transition", "concentration": c, "mix": m, **t}, st.floats(0.01, 50), st.floats(0, 1), targets),
    st.builds(lambda b, t: {"kind": "wasserstein_transition", "bound": b, **t}, st.floats(1e-6, 3.0), targets),
    st.builds(lambda v, s: {"kind": "set_param", "param": s, "value": v}, st.floats(-1, 2), st.sampled_from(["slip", "slip[3]"])),
)


@given(st.lists(kinds, min_size=1, max_size=6), st.integers(0, 2**32 - 1), st.integers(1, 25))
def test_every_distribution_kind_keeps_a_valid_distribution_at_every_step(entries, seed, steps):
    env = FrozenLakeEnv(schedule=[])
    env.reset(seed=0)
    world: TransitionWorld = env.world
    perturbations = [perturbation_from_dict(e) for e in entries]
    rng = PerturbationStream(seed)
    for step in range(steps):
        for perturbation in perturbations:
            before = world.probs.copy()
            perturbation.change(world, rng, step)
            world.settle()
            probs = world.probs
            assert np.all(probs >= 0.0)
            assert np.all(np.abs(probs.sum(axis=2) - 1.0) <= 1e-12)
            if perturbation.kind == "wasserstein_transition":
                assert np.all(wasserstein_1(before, probs) <= perturbation.bound)
            s, a = (int(x) for x in np.random.default_rng(step).integers(0, [16, 4]))
            first, second = world.thresholds(s, a)
            for u in [*np.linspace(0.0, 1.0, 41)[:-1], 1.0 - 2**-53]:
                outcome = 0 if u < first else (1 if u < second else 2)
                assert probs[s, a, outcome] > 0  # a zero-probability outcome is never drawn


# --------------------------------------------------------------------------- baselines

def episode(env_id, name, seed, **kwargs):
    env = gym.make(env_id, **kwargs)
    agent = agents.make(name, env)
    obs, info = env.reset(seed=seed)
    agent.reset(seed)
    total = 0.0
    while True:
        obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
        total += reward
        if terminated or truncated:
            return total, agent


def test_value_iteration_baselines_plan_on_their_own_models():
    assert [episode("driftgym/CliffWalking-v1", n, 0, schedule=[])[0] for n in ("stale", "adaptive", "oracle")] == [-13.0, -13.0, -13.0]
    assert all(episode("driftgym/FrozenLake-v1", "oracle", s, schedule=SLIP_TO_ZERO)[0] == 1.0 for s in range(5))
    windy = [{"at": 0, "perturb": {"kind": "set_param", "param": "slip", "value": 0.6}}]
    _, adaptive = episode("driftgym/CliffWalking-v1", "adaptive", 0, schedule=windy, horizon=100)
    estimate = adaptive.estimate()
    assert estimate[36, 0, 1] < 0.7  # the prior said 1.0; the wind blew it off course
    assert adaptive.belief(["transition:36:0:1"]) == {"transition:36:0:1": (float(estimate[36, 0, 1]), 1.0)}
    assert [episode("driftgym/FrozenLake-v1", n, 2)[0] for n in ("stale", "adaptive", "oracle")] == [
        episode("driftgym/FrozenLake-v1", n, 2)[0] for n in ("stale", "adaptive", "oracle")
    ]
