"""The DriftEnv base, through a toy world: a dial the agent must keep at zero while it drifts."""

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.error import InvalidAction, ResetNeeded
from gymnasium.utils.env_checker import check_env

from driftgym.envs.base import DriftEnv, World
from driftgym.perturbations import Perturbation, PerturbationError, register_kind


class Dial(World):
    kind = "dial"

    def __init__(self, value: int) -> None:
        self.value = value

    def turn(self, delta: int) -> None:
        self.value += delta

    def state_dict(self):
        return {"value": self.value}

    def facts(self):
        return {"dial:value": self.value}


@register_kind
@dataclass(frozen=True)
class NudgeDial(Perturbation):
    kind = "nudge_dial"
    world = "dial"
    summary = "turn the dial by delta (test kind)"
    delta: int = 1

    def change(self, world, rng, step):
        before = world.value
        world.turn(self.delta)
        return "dial", before, world.value


class DialEnv(DriftEnv):
    """Keep the dial at 0. Actions: 0 wait, 1 look, 2 turn down, 3 turn up. Observation: the
    value the agent last looked at and its age."""

    world_kind = "dial"
    default_schedule = [{"every": 3, "perturb": {"kind": "nudge_dial", "delta": 2}}]
    default_horizon = 12

    def __init__(self, schedule=None, horizon=None, visibility="hidden", render_mode=None):
        super().__init__(schedule, horizon, visibility, render_mode)
        self.action_space = spaces.Discrete(4)
        self.observation_space = spaces.Dict(
            {"seen": spaces.Box(-100, 100, (1,), np.float32), "age": spaces.Box(0, 1000, (1,), np.float32), **self.notice_spaces()}
        )

    def _build_world(self, rng):
        return Dial(int(rng.integers(-3, 4)))

    def _reset_view(self):
        self._seen, self._seen_at = self.world.value, 0
        return self._observe(), {}

    def _act(self, action):
        if action == 1:
            self._seen, self._seen_at = self.world.value, self._t + 1  # observed after this step
        elif action in (2, 3):
            self.world.turn(-1 if action == 2 else 1)
        return -abs(self.world.value), False, {}

    def _observe(self):
        return {
            "seen": np.array([self._seen], np.float32),
            "age": np.array([self._t - self._seen_at], np.float32),
            **self.notice,
        }

    def _render_ansi(self):
        return f"dial at {self.world.value}"


def test_check_env_passes_for_a_drift_env_at_every_visibility():
    for visibility in ("hidden", "flag", "magnitude", "full"):
        check_env(DialEnv(visibility=visibility))


def test_events_fire_before_the_action_and_the_view_goes_stale():
    env = DialEnv(render_mode="ansi")
    env.reset(seed=0)
    start = env.world.value
    obs, reward, *_ = env.step(0)
    assert env.world.value == start + 2 and reward == -abs(start + 2)
    assert obs["seen"][0] == start and obs["age"][0] == 1
    obs, *_ = env.step(1)
    assert obs["seen"][0] == start + 2 and obs["age"][0] == 0
    assert env.render() == f"dial at {start + 2}"
    assert env.facts() == {"dial:value": start + 2}


def test_visibility_full_tells_the_events_and_hidden_tells_nothing():
    hidden, full = DialEnv(), DialEnv(visibility="full")
    hidden.reset(seed=1)
    full.reset(seed=1)
    start = full.world.value
    assert hidden.step(0)[4] == {}
    obs, _, _, _, info = full.step(0)
    assert info == {"events": [{"step": 0, "kind": "nudge_dial", "target": "dial", "before": start, "after": start + 2, "phase": "apply", "source": 0}]}
    assert (obs["changed"][0], obs["magnitude"][0]) == (1.0, 2.0)
    obs, _, _, _, info = full.step(0)
    assert info == {"events": []} and (obs["changed"][0], obs["magnitude"][0]) == (0.0, 0.0)


def test_seeded_resets_reproduce_world_timeline_and_digests():
    env = DialEnv(schedule=[{"poisson": 0.3, "perturb": {"kind": "nudge_dial", "delta": {"integers": [-2, 2]}}}])
    def episode(seed):
        env.reset(seed=seed)
        digests = [env.world_digest()]
        for action in [0, 3, 1, 2] * 3:
            env.step(action)
            digests.append(env.world_digest())
        return env.timeline.digest(), digests, [e.to_dict() for e in env.event_log]

    assert episode(5) == episode(5)
    assert episode(5)[0] != episode(6)[0]
    env.reset(seed=5)
    follow_on = [env.reset()[0] for _ in range(2)]
    env.reset(seed=5)
    assert [env.reset()[0] for _ in range(2)] == follow_on


def test_episodes_truncate_at_the_horizon():
    env = DialEnv(horizon=3)
    env.reset(seed=0)
    assert [env.step(0)[3] for _ in range(3)] == [False, False, True]


def test_planning_copies_never_touch_the_env_and_fire_nothing_unless_asked():
    env = DialEnv()
    env.reset(seed=2)
    first = env.world.value
    for _ in range(4):
        env.step(0)
    digest, now = env.world_digest(), env.world.value
    initial, current = env.planning_copy("initial"), env.planning_copy("current")
    assert (initial.world.value, current.world.value) == (first, now)
    for _ in range(3):
        current.step(3)
    assert current.world.value == now + 3
    assert env.world_digest() == digest and len(env.event_log) == 2
    dreaming = env.planning_copy("current", perturb=True)
    for _ in range(3):  # steps 4, 5, 6: the timeline's next nudge is at step 6
        dreaming.step(0)
    assert dreaming.world.value == now + 2 and env.world.value == now


def test_misuse_raises_clear_errors():
    env = DialEnv()
    with pytest.raises(ResetNeeded, match=r"Cannot call env.step\(\) before calling env.reset\(\)"):
        env.step(0)
    with pytest.raises(ResetNeeded, match="DialEnv has no episode yet: call env.reset\\(\\) first"):
        env.facts()
    env.reset(seed=0)
    with pytest.raises(InvalidAction, match=r"action 7 is not in the action space Discrete\(4\)"):
        env.step(7)
    with pytest.raises(PerturbationError, match=r"schedule: kind 'set_param' acts on params worlds; DialEnv accepts: nudge_dial, noop"):
        DialEnv(schedule=[{"at": 1, "perturb": {"kind": "set_param", "param": "g", "value": 1.0}}])
    with pytest.raises(ValueError, match=r"render_mode must be one of \['ansi'\] or None \(got 'human'\)"):
        DialEnv(render_mode="human")
    with pytest.raises(ValueError, match=r"planning_copy mode must be 'initial' or 'current' \(got 'later'\)"):
        env.planning_copy("later")


def test_handles_reach_through_gym_make_wrappers():
    gym.register("test/Dial-v0", entry_point=DialEnv)
    try:
        env = gym.make("test/Dial-v0")
        env.reset(seed=0)
        env.step(0)
        assert env.get_wrapper_attr("facts")() == env.unwrapped.facts()
        assert env.get_wrapper_attr("event_log")[0].kind == "nudge_dial"
        assert env.get_wrapper_attr("timeline") is env.unwrapped.timeline
        assert env.get_wrapper_attr("world_digest")() == env.unwrapped.world.digest()
    finally:
        del gym.registry["test/Dial-v0"]
