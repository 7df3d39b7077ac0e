"""`DriftEnv`: the base of the domain envs, and what it shares with the `NonStationary` wrapper.

The seeding contract (design.md): ``reset(seed=s)`` derives independent streams with
``numpy.random.SeedSequence(s).spawn(...)`` — world generation, the timeline, the perturbations'
own draws, dynamics noise and probes. The timeline depends only on (schedule, seed, horizon).

Step semantics: at step ``t`` the events the timeline holds for ``t`` fire first; then the
action acts on the changed world; then reward and observation. Episodes truncate at ``horizon``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import InvalidAction, ResetNeeded

from driftgym.perturbations import (
    PerturbationStream,
    Playback,
    PerturbationError,
    Schedule,
    Timeline,
    as_schedule,
    canonical_json,
    digest_of,
)

__all__ = ["DriftEnv", "DriftHandles", "Streams", "valid_action", "VISIBILITIES", "World", "seed_streams"]

VISIBILITIES = ("hidden", "flag", "magnitude", "full")


class Streams:
    """The independent random streams of one episode, children of ``SeedSequence(entropy)``.

    Child ``i`` is ``SeedSequence(entropy).spawn(5)[i]``: 0 world generation, 1 the timeline,
    2 the perturbations' own draws, 3 dynamics noise, 4 probes. Each is made when first asked.
    """

    NAMES = ("world", "timeline", "perturbation", "dynamics", "probes")

    def __init__(self, entropy: int) -> None:
        self.entropy = entropy

    def seed_sequence(self, name: str) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.entropy, spawn_key=(self.NAMES.index(name),))

    def generator(self, name: str) -> np.random.Generator:
        return np.random.default_rng(self.seed_sequence(name))

    def perturbation_stream(self) -> PerturbationStream:
        return PerturbationStream(self.entropy, (self.NAMES.index("perturbation"),))


def seed_streams(seed: int | None, fallback: np.random.Generator) -> Streams:
    """Streams from ``seed``; with ``None``, from one draw of ``fallback`` (Gymnasium's rule)."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be a non-negative whole number or None (got {seed!r})")
    return Streams(int(seed) if seed is not None else int(fallback.bit_generator.random_raw()))


def check_visibility(visibility: str) -> str:
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)} (got {visibility!r})")
    return visibility


def check_whole(name: str, value: Any, low: int = 1) -> int:
    """``value`` as an int, or a ValueError naming ``name`` and the bound."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be a whole number >= {low} (got {value!r})")
    return int(value)


def check_horizon(horizon: Any) -> int:
    return check_whole("horizon", horizon)


def invariant(holds: bool, message: str) -> None:
    """A world's ``check_invariants`` step: raise AssertionError with ``message`` unless it holds
    (a plain ``assert`` would vanish under ``python -O``)."""
    if not holds:
        raise AssertionError(message)


def valid_action(space: spaces.Space, action: Any) -> bool:
    """``space.contains(action)``, with fast paths for Discrete and MultiDiscrete actions."""
    if type(space) is spaces.Discrete and isinstance(action, (int, np.integer)) and not isinstance(action, bool):
        return space.start <= action < space.start + space.n
    if type(space) is spaces.MultiDiscrete and type(action) is np.ndarray and action.dtype.kind in "iu" and action.ndim == 1:
        bounds = space.nvec.tolist()  # plain Python beats numpy's per-call overhead on a few values
        values = action.tolist()
        return len(values) == len(bounds) and all(0 <= v < n for v, n in zip(values, bounds))
    return space.contains(action)


class World:
    """Ground truth of an environment, separate from the Gymnasium env class.

    A world is snapshotted as plain JSON-able data (``state_dict``), digested (sha256 of its
    canonical JSON), diffed, copied, and asked for **facts**: a flat ``fact key -> value``
    mapping that world-model accuracy is scored on. Subclasses implement ``state_dict`` and
    ``facts`` and offer the public mutation methods their perturbation kinds call.
    """

    kind: ClassVar[str] = ""

    def state_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def facts(self) -> dict[str, Any]:
        raise NotImplementedError

    def digest(self) -> str:
        return digest_of(self.state_dict())

    def settle(self) -> None:
        """Called once after a step's perturbations: recompute derived quantities (if any)."""

    def copy(self) -> World:
        return copy.deepcopy(self)

    def diff(self, other: World) -> dict[str, tuple[Any, Any]]:
        """Fact key -> (this world's value, the other's) for every fact that differs."""
        mine, theirs = self.facts(), other.facts()
        keys = sorted(set(mine) | set(theirs))
        return {k: (mine.get(k), theirs.get(k)) for k in keys if mine.get(k) != theirs.get(k)}


def check_schedule(schedule: Any, world_kind: str | tuple[str, ...], env_name: str, default: Any = None) -> Schedule:
    """A Schedule whose every kind acts on ``world_kind`` (one world or several) or on any world."""
    schedule = as_schedule(schedule, default)
    from driftgym.perturbations import kind_names

    worlds = (world_kind,) if isinstance(world_kind, str) else tuple(world_kind)
    for perturbation in schedule.perturbations():
        if perturbation.world not in (*worlds, "any"):
            accepted = [k for w in (*worlds, "any") for k in kind_names(w)]
            raise PerturbationError(
                f"schedule: kind {perturbation.kind!r} acts on {perturbation.world} worlds; "
                f"{env_name} accepts: {', '.join(accepted)}"
            )
    return schedule


def notice_spaces(visibility: str) -> dict[str, spaces.Box]:
    """The observation entries that tell the agent a change happened, per visibility."""
    entries: dict[str, spaces.Box] = {}
    if visibility != "hidden":
        entries["changed"] = spaces.Box(0.0, 1.0, (1,), np.float32)
    if visibility in ("magnitude", "full"):
        entries["magnitude"] = spaces.Box(0.0, np.inf, (1,), np.float32)
    return entries


def step_events(playback: Playback, fired: int) -> list[dict[str, Any]]:
    return [playback.event_log[i].to_dict() for i in range(len(playback.records) - fired, len(playback.records))]


class DriftHandles:
    """The evaluation handles a DriftEnv and the NonStationary wrapper share.

    Reached with ``env.get_wrapper_attr(name)`` through any wrapper stack: ``timeline``,
    ``event_log``, ``step_index``, ``facts()``, ``world_digest()`` (and ``world``).
    """

    world: Any
    _playback: Playback | None
    _t: int

    def _require_reset(self):
        if self._playback is None:
            raise ResetNeeded(f"{type(self).__name__} has no episode yet: call env.reset() first")
        return self

    @property
    def timeline(self) -> Timeline:
        return self._require_reset()._playback.timeline

    @property
    def playback(self) -> Playback:
        """The episode's playback: for servers and sandboxes that advance the world themselves."""
        return self._require_reset()._playback

    @property
    def event_log(self):
        return self._require_reset()._playback.event_log

    @property
    def step_index(self) -> int:
        """Steps taken in this episode (the index of the next step's events)."""
        return self._t

    def facts(self) -> dict[str, Any]:
        return self._require_reset().world.facts()

    def world_digest(self) -> str:
        return self._require_reset().world.digest()


class DriftEnv(DriftHandles, gym.Env):
    """Base class of the domain envs: a world, a seeded timeline and the agent's own view.

    A subclass sets ``world_kind``, ``default_schedule`` (wire format) and ``default_horizon``,
    builds ``action_space`` and ``observation_space`` in ``__init__`` (after calling this one),
    and implements:

    - ``_build_world(rng) -> World``: generate the world from the world stream
      (``self.dynamics_rng`` is the episode's dynamics-noise stream; ``self.streams`` has the rest);
    - ``_reset_view() -> (observation, info)``: forget what the agent learned; first observation;
    - ``_act(action) -> (reward, terminated, info)``: the action on the (already perturbed) world;
    - ``_observe() -> observation``: the agent's view now (a fresh dict of fresh arrays);
    - ``_render_ansi() -> str``.

    During ``_act`` ``self._t`` is the index of the step being taken (its events have fired);
    ``_observe`` runs after it has been incremented. The base fires the timeline, checks the
    action, truncates at ``horizon``, puts the change
    notice into the observation (``self.notice``, a dict of arrays to merge) and the step's
    events into ``info["events"]`` under ``visibility="full"``.

    ``belief_prefixes`` names the fact families (``"target"`` of ``target:3:value``) that
    world-model probes sample from: what the task makes the agent track (None: every fact).

    Handles for evaluation (reached with ``env.get_wrapper_attr(name)`` through wrappers, or on
    ``env.unwrapped``): ``world``, ``timeline``, ``event_log``, ``facts()``, ``world_digest()``,
    ``planning_copy(mode)``.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 4}
    world_kind: ClassVar[str] = ""
    default_schedule: ClassVar[Sequence[dict[str, Any]]] = ()
    default_horizon: ClassVar[int] = 200
    belief_prefixes: ClassVar[tuple[str, ...] | None] = None  # fact families probes ask about

    def __init__(
        self,
        schedule: Schedule | Sequence[dict[str, Any]] | None = None,
        horizon: int | None = None,
        visibility: str = "hidden",
        render_mode: str | None = None,
    ) -> None:
        self.horizon = check_horizon(self.default_horizon if horizon is None else horizon)
        self.visibility = check_visibility(visibility)
        self.schedule = self._check_schedule(schedule, self.default_schedule)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None (got {render_mode!r})")
        self.render_mode = render_mode
        self.world: World | None = None
        self.streams: Streams | None = None
        self._playback: Playback | None = None
        self.dynamics_rng: np.random.Generator | None = None
        self._t = -1
        self._fired = 0

    # ----- the Gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        schedule = self.schedule
        if options and "schedule" in options:
            schedule = self._check_schedule(options["schedule"], None)
        self.streams = seed_streams(seed, self.np_random)
        self.world = self._build_world(self.streams.generator("world"))
        self.dynamics_rng = self.streams.generator("dynamics")
        timeline = schedule.compile(self.streams.seed_sequence("timeline"), self.horizon)
        self._playback = Playback(timeline, self.streams.perturbation_stream())
        self._t = 0
        self._fired = 0
        return self._reset_view()

    def step(self, action: Any):
        if self._t < 0:
            raise ResetNeeded("Cannot call env.step() before calling env.reset()")
        if not valid_action(self.action_space, action):
            raise InvalidAction(f"action {action!r} is not in the action space {self.action_space}")
        self._fired = self._playback.fire(self.world, self._t)
        reward, terminated, info = self._act(action)
        self._t += 1
        truncated = self._t >= self.horizon
        if self.visibility == "full":
            info["events"] = step_events(self._playback, self._fired)
        return self._observe(), float(reward), bool(terminated), truncated, info

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self._render_ansi()
        return None

    # ----- evaluation handles (timeline, event_log, facts, ... from DriftHandles)
    def planning_copy(self, mode: str = "current", perturb: bool = False) -> DriftEnv:
        """A copy for planners: the world as first built (``"initial"``) or as now (``"current"``).

        Nothing the copy does touches this env. No perturbation fires inside it unless
        ``perturb=True`` (then it follows this episode's timeline from the current step on).
        """
        if mode not in ("initial", "current"):
            raise ValueError(f"planning_copy mode must be 'initial' or 'current' (got {mode!r})")
        self._require_reset()
        twin = copy.deepcopy(self)
        if mode == "initial":  # the world stream rebuilds it: no copy kept per reset
            twin.world = self._build_world(self.streams.generator("world"))
        if not perturb:
            twin._playback = Playback(Timeline([], self.horizon), PerturbationStream(0))  # never drawn
        return twin

    # ----- the change notice, for subclasses' observations
    @property
    def notice(self) -> dict[str, np.ndarray]:
        """``changed`` (and ``magnitude``) of the last step, per visibility: fresh arrays."""
        if self.visibility == "hidden":
            return {}
        entries = {"changed": np.array([1.0 if self._fired else 0.0], np.float32)}
        if self.visibility != "flag":
            entries["magnitude"] = np.array([self._playback.magnitude(self._fired)], np.float32)
        return entries

    def notice_spaces(self) -> dict[str, spaces.Box]:
        return notice_spaces(self.visibility)

    # ----- helpers
    def _check_schedule(self, schedule: Any, default: Any) -> Schedule:
        return check_schedule(schedule, self.world_kind, type(self).__name__, default)

    # ----- what a subclass implements
    def _build_world(self, rng: np.random.Generator) -> World:
        raise NotImplementedError

    def _reset_view(self) -> tuple[Any, dict[str, Any]]:
        raise NotImplementedError

    def _act(self, action: Any) -> tuple[float, bool, dict[str, Any]]:
        raise NotImplementedError

    def _observe(self) -> Any:
        raise NotImplementedError

    def _render_ansi(self) -> str:
        return canonical_json(self.world.state_dict()) if self.world is not None else ""
