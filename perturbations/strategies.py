"""Hypothesis strategies that draw valid perturbations, schedules, timelines, actions and scenarios.

For stress-testing an agent (or an env) under drift::

    from hypothesis import given, settings
    from driftgym.perturbations import strategies as dg

    @settings(max_examples=50, deadline=None)
    @given(schedule=dg.schedules("driftgym/Services-v0", max_events=20), seed=dg.seeds())
    def test_my_agent_never_crashes(schedule, seed):
        env = gym.make("driftgym/Services-v0", schedule=schedule, horizon=60)
        obs, info = env.reset(seed=seed)
        ...

Every strategy draws only what the env accepts: its world's kinds (and ``noop``), parameter
values inside each kind's valid range, drift-able parameter names of a parameter world (kept
between half and twice their starting value), targets left to the seed (``pick``) rather than
named, since named files, fields and services depend on the generated world. Values are valid by
construction (``validate()`` is never relied on to reject), and everything shrinks towards the
smallest readable counterexample: fewer entries, omitted optional parameters, round numbers.

Values come in the wire format (plain dicts and lists, as in a scenario file), so a failing
example prints as something you can paste into ``schedule=``.

Hypothesis is an optional dependency: ``pip install 'driftgym[test]'``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, get_args, get_origin

try:
    from hypothesis import strategies as st
    from hypothesis.strategies import SearchStrategy
except ImportError as error:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "driftgym.perturbations.strategies needs Hypothesis, an optional dependency: "
        "pip install 'driftgym[test]'"
    ) from error

import gymnasium as gym
import numpy as np

from driftgym.perturbations.core import Perturbation, PerturbationError, _hints, _options, kinds, perturbation_from_dict

__all__ = [
    "EnvProfile",
    "action_sequences",
    "actions",
    "perturbations",
    "profile",
    "scenarios",
    "schedules",
    "seeds",
    "timelines",
]

EnvLike = str | gym.Env

# Fields naming a target inside the generated world: left out (the seed picks through ``pick``).
WORLD_NAMES = frozenset({"path", "to", "name", "key", "collection", "field", "successor", "service", "edge", "region"})
UNIT_FIELDS = frozenset({"pick", "where", "key_pick", "value_pick"})


# --------------------------------------------------------------------------- what an env accepts

# Parameter names a domain world offers to the parameter kinds, and the limits they live in.
WORLD_PARAMS = {"transitions": ("slip",)}
PARAM_LIMITS = {"slip": (0.0, 1.0)}


@dataclass(frozen=True)
class EnvProfile:
    """What the strategies need to know of one env: its world kind, horizon and parameters."""

    world: str
    horizon: int
    params: Mapping[str, float]  # drift-able name -> starting value (parameter kinds' targets)
    sizes: Mapping[str, int] = dataclasses.field(default_factory=dict)  # state/action counts
    accepts: Any = None  # the env's own check of one perturbation dict (a last resort), or None
    env_id: str | None = None

    def kind_names(self) -> list[str]:
        worlds = {self.world, "any", *(["params"] if self.params else [])}
        return sorted(k for k, c in kinds().items() if c.world in worlds)

    def param_range(self, name: str) -> tuple[float, float]:
        """The range a parameter is kept in: half to twice its starting value (or [-1, 1] at 0),
        within the parameter's own limits (a probability stays in [0, 1])."""
        x0 = self.params[name]
        low, high = (-1.0, 1.0) if x0 == 0 else sorted((x0 / 2, x0 * 2))
        if name in PARAM_LIMITS:
            floor, ceiling = PARAM_LIMITS[name]
            low, high = max(low, floor), min(high, ceiling)
        return low, high


def profile(env: EnvLike) -> EnvProfile:
    """The :class:`EnvProfile` of an env id (made once and cached) or of a live env."""
    if isinstance(env, str):
        return _profile_of_id(env)
    return _profile_of_env(env)


@lru_cache(maxsize=None)
def _profile_of_id(env_id: str) -> EnvProfile:
    import driftgym  # noqa: F401  (registers the ids)

    return dataclasses.replace(_profile_of_env(gym.make(env_id)), env_id=env_id)


def _profile_of_env(env: gym.Env) -> EnvProfile:
    base = env.unwrapped
    world_kind = getattr(base, "world_kind", "")
    horizon = int(env.get_wrapper_attr("horizon"))
    sizes = {name: int(space.n) for name, space in (("state", env.observation_space), ("action", env.action_space))
             if isinstance(space, gym.spaces.Discrete)}
    if not world_kind:  # NonStationary: a parameter world, built with the env
        world = env.get_wrapper_attr("world")
        check = env.get_wrapper_attr("_check_schedule")
        return EnvProfile(world.kind, horizon, dict(world.values()), sizes, _acceptor(lambda s: check(s)))
    check = _acceptor(lambda s: base._check_schedule(s, None))
    params: dict[str, float] = {}
    if world_kind in WORLD_PARAMS:
        base.reset(seed=0)
        for name in WORLD_PARAMS[world_kind]:
            x0 = float(base.world.get_param(name))
            if check({"kind": "set_param", "param": name, "value": x0}):
                params[name] = x0
    return EnvProfile(world_kind, horizon, params, sizes, check)


def _acceptor(check: Any) -> Any:
    def accepts(perturbation: dict[str, Any]) -> bool:
        try:
            check([{"at": 0, "perturb": perturbation}])
        except PerturbationError:
            return False
        return True

    return accepts


# --------------------------------------------------------------------------- numbers that read well

def _places(low: float, high: float) -> int:
    """Decimal places that give about a thousand values between low and high."""
    width = high - low
    return 3 if width <= 0 else max(0, min(12, math.ceil(3 - math.log10(width))))


def number(low: float, high: float, places: int | None = None) -> SearchStrategy[float]:
    """A float in [low, high] on a decimal grid: shrinks to 0 (if inside) or to a round end."""
    places = _places(low, high) if places is None else places
    scale = 10**places
    first, last = math.ceil(low * scale - 1e-9), math.floor(high * scale + 1e-9)
    return st.integers(first, max(first, last)).map(lambda i: round(i / scale, places))


@dataclass(frozen=True)
class Span:
    """A range of valid values of one parameter; drawn plain or, sometimes, as a random form."""

    low: float
    high: float
    whole: bool = False
    random: bool = True  # may it be {uniform: [a, b]} / {integers: [a, b]} (drawn at compile time)

    def plain(self) -> SearchStrategy:
        if self.whole:
            return st.integers(int(self.low), int(self.high))
        return number(self.low, self.high)

    def drawn(self) -> SearchStrategy:
        if not self.random:
            return self.plain()
        form = "integers" if self.whole else "uniform"
        ranged = st.tuples(self.plain(), self.plain()).map(lambda ab: {form: sorted(ab)})
        return st.one_of(self.plain(), ranged)  # plain first: shrinks to a plain value


def unit() -> Span:
    """A uniform number in [0, 1) (picks: which target, which directory, which key)."""
    return Span(0.0, 0.999, random=False)


# --------------------------------------------------------------------------- the kinds' valid ranges

def _duration(horizon: int) -> Span:
    return Span(1, max(1, horizon // 2), whole=True)


def domain_fields(kind: str, horizon: int) -> dict[str, Span | SearchStrategy]:
    """Valid ranges of the parameters of the domain worlds' kinds (files, api, services)."""
    duration = _duration(horizon)
    table: dict[str, dict[str, Span | SearchStrategy]] = {
        # files
        "edit_file": {"count": Span(1, 6, whole=True), "targets_only": st.booleans(),
                      "value": st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)},
        "chmod_readonly": {"duration": duration},
        "truncate_file": {"keep": Span(0.0, 0.99)},
        # api
        "change_field_type": {"to": st.sampled_from(["integer", "decimal"])},
        "change_page_size": {"size": Span(1, 50, whole=True)},
        "error_burst": {"rate": Span(0.0, 1.0), "duration": duration},
        "latency_spike": {"factor": Span(0.1, 50.0), "duration": duration},
        "mutate_records": {"count": Span(1, 20, whole=True)},
        "rate_limit": {"limit": Span(1, 30, whole=True), "window": Span(1, 10, whole=True)},
        "version_bump": {"sunset_after": Span(1, max(1, horizon), whole=True), "rename": st.booleans()},
        # services
        "degrade": {"latency_factor": Span(0.5, 20.0), "error_rate": Span(0.0, 1.0), "duration": duration},
        "partition": {"duration": duration},
        "memory_leak": {"rate": Span(0.001, 0.5)},
        "bad_deploy": {"error_rate": Span(0.0, 1.0)},
        "load_spike": {"factor": Span(0.2, 10.0), "duration": duration},
        "add_dependency": {"weight": Span(0.01, 1.0), "fallback": st.booleans()},
        "region_outage": {"duration": duration},
    }
    return table.get(kind, {})


def _weights() -> SearchStrategy[list[float]]:
    """Three outcome weights (left of the intended move, intended, right) with a positive sum."""
    return st.lists(st.integers(0, 4), min_size=3, max_size=3).map(lambda w: [float(x) for x in w] if sum(w) else [0.0, 1.0, 0.0])


def transition_fields(kind: str, sizes: Mapping[str, int]) -> dict[str, Span | SearchStrategy]:
    """Valid ranges of the transition kinds' fields (toy-text worlds: three outcomes a move)."""
    fields: dict[str, Span | SearchStrategy] = {
        "probs": _weights(), "to": _weights(), "values": st.lists(_weights(), min_size=1, max_size=3),
        "delta": Span(-1.0, 1.0), "rate": Span(0.0, 1.0), "mix": Span(0.0, 1.0), "concentration": Span(0.1, 5.0),
        "cycle": st.booleans(),
    }
    for name in ("state", "action"):
        if name in sizes:
            fields[name] = Span(0, sizes[name] - 1, whole=True, random=False)
    return fields


def param_fields(kind: str, low: float, high: float, x0: float, horizon: int) -> dict[str, Span | SearchStrategy]:
    """Valid ranges of a parameter kind's fields for a parameter kept in [low, high]."""
    width = high - low
    inside = Span(low, high)
    table: dict[str, dict[str, Span | SearchStrategy]] = {
        "set_param": {"value": inside},
        "scale_param": {"factor": Span(0.5, 2.0)},
        "step_param": {"delta": Span(-width / 4, width / 4)},
        "drift_param": {"rate": Span(-width / 50, width / 50)},
        "oscillate_param": {"amplitude": Span(0.0, width / 2), "period": Span(2.0, 500.0), "phase": Span(0.0, 6.283)},
        "decay_param": {"rate": Span(0.0, 0.1), "to": inside},
        "interpolate_param": {"to": inside, "shape": st.sampled_from(["linear", "sigmoid"])},
        "random_walk_param": {"sigma": Span(0.0, width / 20), "drift": Span(-width / 100, width / 100),
                              "reversion": Span(0.0, 1.0), "mean": inside},
        "list_param": {"values": st.lists(number(low, high), min_size=1, max_size=4), "cycle": st.booleans()},
        "polynomial_param": {"coefficients": st.lists(number(-width / horizon, width / horizon), min_size=1, max_size=2)
                             .map(lambda cs: [round(c / horizon**i, 12) for i, c in enumerate(cs)])},
    }
    return table.get(kind, {})


def _strategy(spec: Span | SearchStrategy) -> SearchStrategy:
    return spec.drawn() if isinstance(spec, Span) else spec


def _generic(hint: Any, low: float = 0.0, high: float = 1.0) -> SearchStrategy | None:
    """A strategy for a parameter no table names, from its type (None: leave it out)."""
    options = [o for o in _options(hint) if o is not type(None)]
    for option in options:
        if option is bool:
            return st.booleans()
        if get_origin(option) is Literal:
            return st.sampled_from(list(get_args(option)))
        if option is int:
            return st.integers(1, 10)
        if option is float:
            return number(low, high)
        if get_origin(option) is tuple and get_args(option)[0] is float:
            return st.lists(number(low, high), min_size=1, max_size=3)
    return None


# --------------------------------------------------------------------------- perturbations

def _omittable(cls: type[Perturbation], name: str) -> bool:
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


@st.composite
def _kind(draw: Any, prof: EnvProfile, kind: str, horizon: int) -> dict[str, Any]:
    cls = kinds()[kind]
    hints = _hints(cls)
    data: dict[str, Any] = {"kind": kind}
    table: dict[str, Span | SearchStrategy] = dict(domain_fields(kind, horizon))
    if cls.world == "transitions":
        table.update(transition_fields(kind, prof.sizes))
    low, high = 0.0, 1.0
    if cls.world == "params":
        name = draw(st.sampled_from(sorted(prof.params)))
        low, high = prof.param_range(name)
        data["param"] = name
        table.update(param_fields(kind, low, high, prof.params[name], horizon))
        fields = {f.name for f in dataclasses.fields(cls)}
        if {"min", "max"} <= fields:  # always bounded: the parameter stays in its range
            x0 = prof.params[name]
            data["min"] = draw(number(low, min(x0, high)))
            data["max"] = draw(number(max(x0, low), high))
    if {"start", "stop"} <= {f.name for f in dataclasses.fields(cls)}:  # interpolate_*: stop > start
        start = draw(st.integers(0, max(0, horizon - 1)))
        data["start"], data["stop"] = start, start + draw(st.integers(1, max(1, horizon)))
    for f in dataclasses.fields(cls):
        if f.name in data or f.name in WORLD_NAMES and f.name not in table:
            continue
        spec = unit() if f.name in UNIT_FIELDS else table.get(f.name)
        strategy = _strategy(spec) if spec is not None else _generic(hints[f.name], low, high)
        if strategy is None:
            continue  # an optional name this module cannot know: omitted
        if _omittable(cls, f.name):
            value = draw(st.one_of(st.none(), strategy))  # none first: shrinks to omitted
            if value is None:
                continue
        else:
            value = draw(strategy)
        data[f.name] = value
    return data


def _constructs(data: dict[str, Any]) -> bool:
    try:
        perturbation_from_dict(data)
    except PerturbationError:
        return False
    return True


PARAM_FIELDS = frozenset({"param", "min", "max", "start", "stop"})


def _covered(kind: str, horizon: int) -> bool:
    """Whether every parameter of a kind has a known valid range (else drawn values are checked)."""
    cls = kinds()[kind]
    known = set(domain_fields(kind, horizon)) | WORLD_NAMES | UNIT_FIELDS
    if cls.world == "transitions":
        return False  # a toy-text map bounds states and actions: the env checks each draw
    if cls.world == "params":
        known |= set(param_fields(kind, 0.0, 1.0, 0.5, horizon)) | PARAM_FIELDS
    return all(f.name in known for f in dataclasses.fields(cls))


def _kind_names(prof: EnvProfile, only: Sequence[str] | None, revertible: bool) -> list[str]:
    names = prof.kind_names()
    if prof.world == "params" and not prof.params:
        names = [k for k in names if kinds()[k].world != "params"]
    if only is not None:
        unknown = [k for k in only if k not in names]
        if unknown:
            raise ValueError(f"kind {unknown[0]!r} does not act on {prof.world} worlds; kinds: {', '.join(names)}")
        names = sorted(only)
    if revertible:
        names = [k for k in names if _revertible(k)]
    if not names:
        raise ValueError(f"no {'revertible ' if revertible else ''}kind to draw for {prof.world} worlds")
    return names


def _revertible(kind: str) -> bool:
    """Whether a kind can be undone (runs in a window); the property reads only the class."""
    return object.__new__(kinds()[kind]).revertible


def _perturbation(prof: EnvProfile, horizon: int, only: Sequence[str] | None, revertible: bool) -> SearchStrategy[dict[str, Any]]:
    def one(kind: str) -> SearchStrategy[dict[str, Any]]:
        drawn = _kind(prof, kind, horizon)
        if _covered(kind, horizon):
            return drawn
        return drawn.filter(_constructs).filter(prof.accepts or bool)  # a kind new to this module: checked

    return st.sampled_from(_kind_names(prof, only, revertible)).flatmap(one)


def perturbations(
    env: EnvLike,
    *,
    kinds: Sequence[str] | None = None,
    horizon: int | None = None,
    revertible: bool = False,
) -> SearchStrategy[dict[str, Any]]:
    """A perturbation the env accepts, as its wire dict (``{"kind": "crash", "pick": 0.25}``).

    ``kinds`` limits the kinds drawn; ``horizon`` scales durations and step parameters (default:
    the env's); ``revertible=True`` draws only kinds that can run in a window. Targets are left to
    the seed: ``pick``, or omitted (drawn at compile time).
    """
    prof = profile(env)
    return _perturbation(prof, prof.horizon if horizon is None else _check_horizon(horizon), kinds, revertible)


# --------------------------------------------------------------------------- schedules

def _source(prof: EnvProfile, horizon: int, revertible: bool) -> SearchStrategy[dict[str, Any]]:
    """A perturbation, or a ``choice`` of two or three (with weights or not)."""
    single = _perturbation(prof, horizon, None, revertible)
    pool = st.lists(single, min_size=2, max_size=3)
    weighted = pool.flatmap(lambda p: st.tuples(st.just(p), st.one_of(st.none(), st.lists(st.integers(1, 4), min_size=len(p), max_size=len(p)))))
    choice = weighted.map(lambda pw: {"choice": pw[0]} if pw[1] is None else {"choice": pw[0], "weights": pw[1]})
    return st.one_of(single, choice)  # a single perturbation first: shrinks away the choice


def _burst_firings(on: int, off: int, start: int, stop: int) -> list[int]:
    return [t for t in range(start, stop) if (t - start) % (on + off) < on]


@st.composite
def _entry(draw: Any, prof: EnvProfile, horizon: int, budget: int) -> tuple[dict[str, Any], int]:
    """One schedule entry that fires at most ``budget`` times in ``[0, horizon)``, and its count."""
    last = horizon - 1
    when = draw(st.sampled_from(["at", "every", "window", "poisson", "burst", "ramp"]))
    if when == "window":
        start, duration = draw(st.integers(0, last)), draw(st.integers(1, horizon))
        return {"window": [start, duration], "perturb": draw(_source(prof, horizon, True))}, 1
    perturb = draw(_source(prof, horizon, False))
    if when == "at":
        steps = sorted(draw(st.sets(st.integers(0, last), min_size=1, max_size=min(3, budget))))
        return {"at": steps[0] if len(steps) == 1 else steps, "perturb": perturb}, len(steps)
    start = draw(st.integers(0, last))
    if when == "every":
        period = draw(st.integers(1, horizon))
        full = math.ceil((horizon - start) / period)
        count = draw(st.integers(1, min(budget, full)))
        entry = {"every": period, "perturb": perturb}
        if start:
            entry["start"] = start
        if count < full:
            entry["until"] = start + (count - 1) * period + 1
        return entry, count
    if when == "poisson":
        rate = draw(number(0.01, 1.0))
        span = min(horizon - start, budget)
        entry = {"poisson": rate, "perturb": perturb}
        if start:
            entry["start"] = start
        if span < horizon - start:
            entry["until"] = start + span
        decay = draw(st.one_of(st.none(), number(0.5, 1.0)))
        if decay is not None and decay > 0:
            entry["decay"] = decay
        return entry, span
    if when == "burst":
        on, off = draw(st.integers(1, max(1, horizon // 4))), draw(st.integers(0, max(0, horizon // 4)))
        firings = _burst_firings(on, off, start, horizon)
        entry = {"burst": [on, off], "perturb": perturb}
        if start:
            entry["start"] = start
        if len(firings) > budget:
            entry["until"] = firings[budget - 1] + 1
        return entry, min(len(firings), budget)
    length = draw(st.integers(0, min(budget, horizon - start)))
    return {"ramp": [start, start + length], "perturb": perturb}, length


@st.composite
def _schedule(draw: Any, prof: EnvProfile, horizon: int, max_events: int, max_entries: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    budget = max_events
    for _ in range(draw(st.integers(0, max_entries))):
        if budget < 1:
            break
        entry, count = draw(_entry(prof, horizon, budget))
        entries.append(entry)
        budget -= count
    return entries


def schedules(
    env: EnvLike,
    *,
    max_events: int = 20,
    max_entries: int = 4,
    horizon: int | None = None,
) -> SearchStrategy[list[dict[str, Any]]]:
    """A schedule the env accepts, in the wire format (a list of entries).

    At most ``max_entries`` entries (``at``, ``every``, ``window``, ``poisson``, ``burst``,
    ``ramp``; a perturbation or a ``choice`` of two or three), which fire at most ``max_events``
    times over ``[0, horizon)`` together (default horizon: the env's). Shrinks to ``[]``.
    """
    if isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 0:
        raise ValueError(f"max_events must be a whole number >= 0 (got {max_events!r})")
    prof = profile(env)
    span = prof.horizon if horizon is None else _check_horizon(horizon)
    return _schedule(prof, span, max_events, max_entries)


def _check_horizon(horizon: Any) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise ValueError(f"horizon must be a whole number >= 1 (got {horizon!r})")
    return horizon


def seeds() -> SearchStrategy[int]:
    """A seed for ``reset(seed=...)``: shrinks to 0."""
    return st.integers(0, 2**32 - 1)


@st.composite
def _timeline(draw: Any, env: EnvLike, horizon: int, max_events: int) -> Any:
    from driftgym.perturbations.schedules import schedule_from_wire

    schedule = draw(schedules(env, max_events=max_events, horizon=horizon))
    return schedule_from_wire(schedule).compile(draw(seeds()), horizon)


def timelines(env: EnvLike, horizon: int, *, max_events: int = 20) -> SearchStrategy[Any]:
    """A compiled :class:`~driftgym.perturbations.Timeline` of a drawn schedule and seed."""
    return _timeline(env, _check_horizon(horizon), max_events)


# --------------------------------------------------------------------------- actions

def actions(space: gym.Space) -> SearchStrategy[Any]:
    """An action inside ``space`` (Discrete, MultiDiscrete, MultiBinary, Box, Dict), in its type."""
    spaces = gym.spaces
    if isinstance(space, spaces.Discrete):
        return st.integers(int(space.start), int(space.start + space.n - 1))
    if isinstance(space, spaces.MultiDiscrete):
        nvec = space.nvec.ravel().tolist()
        start = np.asarray(space.start).ravel().tolist()
        return st.tuples(*(st.integers(s, s + n - 1) for s, n in zip(start, nvec))).map(
            lambda a: np.array(a, space.dtype).reshape(space.shape)
        )
    if isinstance(space, spaces.MultiBinary):
        size = int(np.prod(space.shape))
        return st.lists(st.integers(0, 1), min_size=size, max_size=size).map(
            lambda a: np.array(a, space.dtype).reshape(space.shape)
        )
    if isinstance(space, spaces.Box):
        low = np.where(np.isfinite(space.low), space.low, -1e3).ravel().tolist()
        high = np.where(np.isfinite(space.high), space.high, 1e3).ravel().tolist()
        width = 32 if space.dtype == np.float32 else 64
        return st.tuples(*(st.floats(lo, hi, width=width) for lo, hi in zip(low, high))).map(
            lambda a: np.array(a, space.dtype).reshape(space.shape)
        )
    if isinstance(space, spaces.Dict):
        return st.fixed_dictionaries({k: actions(s) for k, s in space.spaces.items()})
    raise TypeError(f"actions: unsupported space {space!r} (Discrete, MultiDiscrete, MultiBinary, Box, Dict)")


def _action_space(env: EnvLike | gym.Space) -> gym.Space:
    if isinstance(env, gym.Space):
        return env
    if isinstance(env, str):
        import driftgym  # noqa: F401

        made = gym.make(env)
        try:
            return made.action_space
        finally:
            made.close()
    return env.action_space


def action_sequences(env: EnvLike | gym.Space, length: int) -> SearchStrategy[list[Any]]:
    """``length`` actions of the env's action space (an env, an id or a space); shrink to zeros."""
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise ValueError(f"length must be a whole number >= 0 (got {length!r})")
    return st.lists(actions(_action_space(env)), min_size=length, max_size=length)


# --------------------------------------------------------------------------- scenarios

@st.composite
def _scenario(draw: Any, env_id: str, max_horizon: int, max_events: int, max_seeds: int, agent_names: list[str]) -> dict[str, Any]:
    horizon = draw(st.integers(1, max_horizon))
    return {
        "id": "generated",
        "env": env_id,
        "horizon": horizon,
        "visibility": draw(st.sampled_from(["hidden", "flag", "magnitude", "full"])),
        "schedule": draw(schedules(env_id, max_events=max_events, horizon=horizon)),
        "seeds": sorted(draw(st.sets(st.integers(0, 10_000), min_size=1, max_size=max_seeds))),
        "agents": draw(st.lists(st.sampled_from(agent_names), min_size=1, max_size=2, unique=True)),
        "probe": {"every": draw(st.integers(1, max(1, horizon))), "facts": draw(st.integers(1, 8))},
    }


def scenarios(env_id: str, *, max_horizon: int = 50, max_events: int = 20, max_seeds: int = 2) -> SearchStrategy[dict[str, Any]]:
    """A scenario in its file form (a dict ``Scenario.from_dict`` accepts) for one env id:
    a horizon up to ``max_horizon``, a visibility, a schedule, seeds and baseline agents."""
    from driftgym import agents

    profile(env_id)  # makes the env once: an unknown id fails here, by name
    names = agents.names(env_id)
    if not names:
        raise ValueError(f"no agent is registered for {env_id}")
    return _scenario(env_id, _check_horizon(max_horizon), max_events, max_seeds, names)
