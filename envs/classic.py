"""Parameter drift for any Gymnasium env: the `NonStationary` wrapper and the classic-control ids.

The wrapper holds a :class:`ParamWorld` over the physical parameters that live on
``env.unwrapped`` (CartPole's ``gravity``, Pendulum's ``m``, ...) and fires a seeded timeline of
parameter kinds (``drift_param``, ``scale_param``, ``random_walk_param``, ...) against it, before
each action. Derived quantities are kept consistent (CartPole's ``total_mass`` and
``polemass_length``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.envs.classic_control import (
    AcrobotEnv,
    CartPoleEnv,
    Continuous_MountainCarEnv,
    MountainCarEnv,
    PendulumEnv,
)
from gymnasium.error import ResetNeeded
from gymnasium.utils import RecordConstructorArgs

from driftgym.envs.base import (
    DriftHandles,
    World,
    check_horizon,
    check_schedule,
    check_visibility,
    notice_spaces,
    seed_streams,
    step_events,
)
from driftgym.perturbations import Playback, PerturbationError, Schedule
from driftgym.perturbations.core import suggest

__all__ = ["DRIFTABLE", "NonStationary", "ParamWorld", "drifting"]


def _cartpole_derived(env: Any) -> None:
    env.total_mass = env.masspole + env.masscart
    env.polemass_length = env.masspole * env.length


# The drift-able parameters of known envs, and what to recompute after a change.
DRIFTABLE: dict[type, tuple[tuple[str, ...], Callable[[Any], None] | None]] = {
    CartPoleEnv: (("gravity", "masscart", "masspole", "length", "force_mag"), _cartpole_derived),
    MountainCarEnv: (("force", "gravity"), None),
    Continuous_MountainCarEnv: (("power",), None),
    PendulumEnv: (("g", "m", "l"), None),
    AcrobotEnv: (
        ("LINK_LENGTH_1", "LINK_LENGTH_2", "LINK_MASS_1", "LINK_MASS_2", "LINK_COM_POS_1", "LINK_COM_POS_2", "LINK_MOI"),
        None,
    ),
}


def driftable_params(env: Any) -> tuple[tuple[str, ...], Callable[[Any], None] | None]:
    """The known parameters of ``env``'s class, else its public float attributes."""
    for cls in type(env).__mro__:
        if cls in DRIFTABLE:
            return DRIFTABLE[cls]
    names = tuple(sorted(k for k, v in vars(env).items() if isinstance(v, float) and not k.startswith("_")))
    return names, None


class ParamWorld(World):
    """The drift-able physical parameters of one env, read and written on the env itself."""

    kind = "params"

    def __init__(self, env: Any, names: Sequence[str], derive: Callable[[Any], None] | None = None) -> None:
        self.env = env
        self.names = tuple(names)
        self.derive = derive
        missing = [n for n in self.names if not isinstance(getattr(env, n, None), (int, float))]
        if missing:
            raise ValueError(f"{type(env).__name__} has no numeric attribute {missing[0]!r} to drift")
        self.built = self.values()
        self.initial = dict(self.built)

    def get_param(self, name: str) -> float:
        return getattr(self.env, name)

    def set_param(self, name: str, value: float) -> None:
        """Set a parameter; derived quantities follow at ``settle()`` (once per step)."""
        setattr(self.env, name, value)

    def settle(self) -> None:
        if self.derive is not None:
            self.derive(self.env)

    def initial_param(self, name: str) -> float:
        return self.initial[name]

    def values(self) -> dict[str, float]:
        return {n: float(getattr(self.env, n)) for n in self.names}

    def load(self, values: dict[str, float]) -> None:
        for name, value in values.items():
            setattr(self.env, name, value)
        self.settle()

    def state_dict(self) -> dict[str, Any]:
        state = getattr(self.env, "state", None)
        data: dict[str, Any] = {"params": self.values()}
        if state is not None:
            data["state"] = [float(x) for x in np.asarray(state, dtype=np.float64).ravel()]
        return data

    def facts(self) -> dict[str, Any]:
        return {f"param:{name}": value for name, value in self.values().items()}

    def check(self, schedule: Schedule, env_name: str) -> None:
        for perturbation in schedule.perturbations():
            name = getattr(perturbation, "param", None)
            if name is not None and name not in self.names:
                raise PerturbationError(
                    f"schedule: {env_name} has no drift-able parameter {name!r}{suggest(name, self.names)} "
                    f"drift-able: {', '.join(self.names)}"
                )


class NonStationary(DriftHandles, gym.Wrapper, RecordConstructorArgs):
    """Drift the physical parameters of a Gymnasium env on a seeded schedule.

    Events of step ``t`` fire before the action of step ``t``; the episode truncates at
    ``horizon``. The observation is the env's own Box, with notice entries appended under
    ``visibility="flag"`` (one ``changed`` bit) and ``"magnitude"``/``"full"`` (the bit and the
    summed size of the step's changes); under ``"full"`` ``info["events"]`` lists them too.

    Example:
        >>> import gymnasium as gym
        >>> from driftgym.envs.classic import NonStationary
        >>> env = NonStationary(gym.make("CartPole-v1"), [{"every": 1, "perturb": {"kind": "drift_param", "param": "gravity", "rate": 0.1}}])
        >>> _ = env.reset(seed=0)
        >>> _ = env.step(0)
        >>> round(env.get_wrapper_attr("facts")()["param:gravity"], 6)
        9.9

    Args:
        env: the env to drift; its parameters live on ``env.unwrapped``.
        schedule: a Schedule, the wire format (a list of entries), or ``[]`` for none.
        horizon: steps per episode (default: the env's ``max_episode_steps``, else 500).
        visibility: ``"hidden"``, ``"flag"``, ``"magnitude"`` or ``"full"``.
        persist: keep drifted parameters across ``reset`` (drift between episodes too).
        params: the drift-able parameter names (default: the known ones of the env's class).
    """

    def __init__(
        self,
        env: gym.Env,
        schedule: Schedule | Sequence[dict[str, Any]] | None = None,
        horizon: int | None = None,
        visibility: str = "hidden",
        persist: bool = False,
        params: Sequence[str] | None = None,
    ) -> None:
        RecordConstructorArgs.__init__(
            self, schedule=schedule, horizon=horizon, visibility=visibility, persist=persist, params=params
        )
        gym.Wrapper.__init__(self, env)
        self.world = self._build_param_world(env.unwrapped, params)
        if horizon is None:
            horizon = env.spec.max_episode_steps if env.spec and env.spec.max_episode_steps else 500
        self.horizon = check_horizon(horizon)
        self.visibility = check_visibility(visibility)
        self.persist = bool(persist)
        self.schedule = self._check_schedule(schedule)
        self._seeder = np.random.default_rng()
        self._playback: Playback | None = None
        self._plan: list = []
        self._t = -1
        self._registered = False
        self._refused = (-1, 0)  # (step, events fired) of a step whose action the env refused
        self._notice = notice_spaces(self.visibility)
        if self._notice:
            if not isinstance(env.observation_space, spaces.Box):
                raise ValueError(f"visibility={visibility!r} needs a Box observation space (got {env.observation_space})")
            inner = env.observation_space
            low = np.concatenate([inner.low.ravel(), [s.low[0] for s in self._notice.values()]])
            high = np.concatenate([inner.high.ravel(), [s.high[0] for s in self._notice.values()]])
            self.observation_space = spaces.Box(low.astype(inner.dtype), high.astype(inner.dtype), dtype=inner.dtype)

    def _build_param_world(self, base: Any, params: Sequence[str] | None) -> ParamWorld:
        """The world the schedule drifts (a subclass may address parameters differently)."""
        names, derive = driftable_params(base)
        return ParamWorld(base, names if params is None else params, derive)

    @property
    def spec(self):  # an id built by driftgym already includes this wrapper in its entry point
        return self.env.spec if self._registered else super().spec

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        schedule = self.schedule
        if options and "schedule" in options:
            schedule = self._check_schedule(options["schedule"])
        streams = seed_streams(seed, self._seeder)
        if seed is not None:
            self._seeder = np.random.default_rng(seed)
        world = self.world
        if self._playback is not None and self._playback.records:
            self._playback.close(world)
            if not self.persist:
                world.load(world.built)
        obs, info = self.env.reset(seed=seed, options=options)
        world.initial = world.values() if self.persist else world.built
        timeline = schedule.compile(streams.seed_sequence("timeline") if schedule.random else None, self.horizon)
        self._playback = Playback(timeline, streams.perturbation_stream())
        self._plan = timeline.plan()
        self._refused = (-1, 0)
        self._t = 0
        if self._notice:
            obs = np.concatenate([obs, np.zeros(len(self._notice), obs.dtype)])
        return obs, info

    def step(self, action: Any):
        t = self._t
        if t < 0:
            raise ResetNeeded("Cannot call env.step() before calling env.reset()")
        if t < len(self._plan) and self._plan[t]:
            fired = self._playback.fire(self.world, t) if t != self._refused[0] else self._refused[1]
        else:
            fired = 0
        try:
            obs, reward, terminated, truncated, info = self.env.step(action)
        except Exception:  # the env refused the action: step t's events stay fired, once
            self._refused = (t, fired)
            raise
        self._t = t + 1
        if t + 1 >= self.horizon:
            truncated = True
        if self._notice:
            obs = np.concatenate([obs, self._notice_values(fired, obs.dtype)])
            if self.visibility == "full":
                info = {**info, "events": step_events(self._playback, fired)}
        return obs, reward, terminated, truncated, info

    def _notice_values(self, fired: int, dtype: Any) -> np.ndarray:
        if self.visibility == "flag":
            return np.array([1.0 if fired else 0.0], dtype)
        return np.array([1.0 if fired else 0.0, self._playback.magnitude(fired)], dtype)

    def _check_schedule(self, schedule: Any) -> Schedule:
        name = self.env.spec.id if self.env.spec else type(self.env.unwrapped).__name__
        checked = check_schedule(schedule, "params", name)
        self.world.check(checked, name)
        return checked

    def facts(self) -> dict[str, Any]:  # the parameters are readable before the first reset too
        return self.world.facts()

    def view_facts(self) -> dict[str, Any]:
        """The facts an observation implies: none — the observation is the env's own state and
        never shows a parameter, so a policy without ``belief()`` abstains on every probe."""
        return {}

    def world_digest(self) -> str:
        return self.world.digest()

    def planning_copy(self, mode: str = "current", perturb: bool = False) -> gym.Env:
        """A copy for planners: the bare env with the parameters as they are now (``"current"``,
        an oracle model) or as first built (``"initial"``, a stale model), and the current state.

        No drift fires inside it unless ``perturb=True``: then the copy is this wrapper's twin and
        follows the episode's timeline from the current step. Stepping a copy never touches this
        env or its random streams.
        """
        check_planning_mode(mode)
        twin: gym.Env = detached_copy(self) if perturb else self._copy_base()
        if mode == "initial":
            self._build_param_world(twin.unwrapped, self.world.names).load(self.world.built)
        return twin

    def _copy_base(self) -> gym.Env:
        """An independent copy of the bare env (a subclass copies what deepcopy cannot).

        The classic-control envs hold their mutable state in ``state`` and ``np_random`` only, so
        they are copied shallowly with those two copied (about twice as fast as a deep copy)."""
        base = self.env.unwrapped
        if type(base) not in DRIFTABLE:
            return detached_copy(base)
        twin = copy.copy(base)
        twin.state = copy.copy(base.state)
        if base._np_random is not None:
            twin._np_random = copy.deepcopy(base._np_random)
        for name in RENDERING:
            if getattr(twin, name, None) is not None:
                setattr(twin, name, None)
        twin.render_mode = None
        return twin


RENDERING = ("screen", "clock", "surf", "viewer", "window", "renderer", "mujoco_renderer")


def detached_copy(env: Any) -> Any:
    """A deep copy of ``env`` that shares its spaces and spec and leaves its renderer behind."""
    base = env.unwrapped
    memo: dict[int, Any] = {}
    for shared in (base.action_space, base.observation_space, base.spec):
        memo[id(shared)] = shared
    for name in RENDERING:
        if getattr(base, name, None) is not None:
            memo[id(getattr(base, name))] = None
    twin = copy.deepcopy(env, memo)
    twin.unwrapped.render_mode = None
    return twin


def check_planning_mode(mode: str) -> None:
    if mode not in ("initial", "current"):
        raise ValueError(f"planning_copy mode must be 'initial' or 'current' (got {mode!r})")


def drifting(
    env_id: str,
    base: Callable[..., gym.Env],
    default_schedule: list[dict[str, Any]],
    horizon: int,
    doc: str,
    wrapper: type[NonStationary] = NonStationary,
):
    """An entry point for ``gym.make``: ``base(render_mode=..., **kwargs)`` (a class, or a function
    with a ``metadata`` attribute) wrapped in ``wrapper`` with a default schedule."""

    def make(
        schedule: Schedule | Sequence[dict[str, Any]] | None = None,
        horizon: int = horizon,
        visibility: str = "hidden",
        persist: bool = False,
        render_mode: str | None = None,
        **kwargs: Any,
    ) -> NonStationary:
        inner = base(render_mode=render_mode, **kwargs)
        inner.spec = gym.spec(env_id)  # so errors name the id; gym.make sets the final spec
        env = wrapper(
            inner,
            default_schedule if schedule is None else schedule,
            horizon=horizon,
            visibility=visibility,
            persist=persist,
        )
        env._registered = True
        return env

    make.__doc__ = doc
    make.metadata = base.metadata  # type: ignore[attr-defined]  # gym.make reads render modes here
    make.default_schedule = default_schedule  # type: ignore[attr-defined]
    return make



# --------------------------------------------------------------------------- the registered ids

CARTPOLE_SCHEDULE = [
    {"every": 1, "perturb": {"kind": "random_walk_param", "param": "gravity", "sigma": 0.2, "min": 4.9, "max": 30.0}},
    {"every": 100, "start": 100, "perturb": {"kind": "scale_param", "param": "length", "factor": {"uniform": [0.4, 0.7]}, "min": 0.05}},
    {"poisson": 0.005, "perturb": {"kind": "scale_param", "param": "force_mag", "factor": {"uniform": [0.2, 0.5]}, "min": 1.0}},
]
MOUNTAIN_CAR_SCHEDULE = [
    {"every": 1, "start": 50, "perturb": {"kind": "drift_param", "param": "force", "rate": -0.000002, "min": 0.0007}},
    {"poisson": 0.01, "perturb": {"kind": "scale_param", "param": "gravity", "factor": {"uniform": [0.9, 1.1]}, "min": 0.002, "max": 0.003}},
]
CONTINUOUS_MOUNTAIN_CAR_SCHEDULE = [
    {"every": 1, "perturb": {"kind": "oscillate_param", "param": "power", "amplitude": 0.0003, "period": 250}},
]
PENDULUM_SCHEDULE = [
    {"every": 1, "perturb": {"kind": "oscillate_param", "param": "m", "amplitude": 0.3, "period": 100}},
    {"every": 1, "perturb": {"kind": "random_walk_param", "param": "g", "sigma": 0.05, "reversion": 0.02, "min": 5.0, "max": 15.0}},
    {"at": 100, "perturb": {"kind": "scale_param", "param": "l", "factor": {"uniform": [0.8, 1.25]}}},
]
ACROBOT_SCHEDULE = [
    {"every": 1, "perturb": {"kind": "drift_param", "param": "LINK_MASS_2", "rate": 0.002, "max": 2.0}},
    {"at": 250, "perturb": {"kind": "scale_param", "param": "LINK_LENGTH_1", "factor": {"uniform": [0.8, 1.2]}}},
]

cartpole = drifting(
    "driftgym/CartPole-v1",
    CartPoleEnv,
    CARTPOLE_SCHEDULE,
    500,
    """driftgym/CartPole-v1: Gymnasium's CartPole whose physics drift mid-episode.

    Spaces, rewards, start and termination are CartPole-v1's; episodes truncate at ``horizon``
    (500). Drift-able: gravity, masscart, masspole, length, force_mag (total_mass and
    polemass_length follow). Default schedule: gravity a bounded random walk every step (sigma
    0.2, within [4.9, 30]); the pole's half-length scaled by U(0.4, 0.7) every 100 steps from step
    100 (at least 0.05); force_mag scaled by U(0.2, 0.5) at Poisson arrivals of rate 0.005 (at
    least 1.0). A fixed controller tuned for the static pole loses about a tenth of its return.
    Arguments: schedule, horizon, visibility, persist, render_mode (see NonStationary).
    """,
)
mountain_car = drifting(
    "driftgym/MountainCar-v0",
    MountainCarEnv,
    MOUNTAIN_CAR_SCHEDULE,
    200,
    """driftgym/MountainCar-v0: MountainCar whose engine weakens and whose gravity jumps.

    Drift-able: force, gravity. Default schedule: force drifts by -2e-6 per step from step 50
    (not below 7e-4); gravity scaled by U(0.9, 1.1) at Poisson arrivals (rate 0.01), within
    [0.002, 0.003]. Truncates at ``horizon`` (200).
    """,
)
mountain_car_continuous = drifting(
    "driftgym/MountainCarContinuous-v0",
    Continuous_MountainCarEnv,
    CONTINUOUS_MOUNTAIN_CAR_SCHEDULE,
    999,
    """driftgym/MountainCarContinuous-v0: the continuous MountainCar with an oscillating engine.

    Drift-able: power. Default schedule: power = 0.0015 + 0.0003 sin(2 pi t / 250) every step.
    Truncates at ``horizon`` (999).
    """,
)
pendulum = drifting(
    "driftgym/Pendulum-v1",
    PendulumEnv,
    PENDULUM_SCHEDULE,
    200,
    """driftgym/Pendulum-v1: Pendulum with an oscillating mass, wandering gravity and a length jump.

    Drift-able: g, m, l. Default schedule: m = 1 + 0.3 sin(2 pi t / 100); g a bounded
    mean-reverting random walk (sigma 0.05, within [5, 15]); l scaled by U(0.8, 1.25) at step 100.
    Truncates at ``horizon`` (200).
    """,
)
acrobot = drifting(
    "driftgym/Acrobot-v1",
    AcrobotEnv,
    ACROBOT_SCHEDULE,
    500,
    """driftgym/Acrobot-v1: Acrobot whose lower link grows heavier and whose upper link changes length.

    Drift-able: LINK_LENGTH_1, LINK_LENGTH_2, LINK_MASS_1, LINK_MASS_2, LINK_COM_POS_1,
    LINK_COM_POS_2, LINK_MOI. Default schedule: LINK_MASS_2 +0.002 per step (at most 2.0);
    LINK_LENGTH_1 scaled by U(0.8, 1.2) at step 250. Truncates at ``horizon`` (500).
    """,
)
