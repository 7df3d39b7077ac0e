"""Drawing one perturbation an env accepts, as its wire dict: :func:`perturbations`."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from driftgym.perturbations.core import Perturbation, PerturbationError, _hints, kinds, perturbation_from_dict
from driftgym.perturbations.strategies.profiles import EnvLike, EnvProfile, _check_horizon, profile
from driftgym.perturbations.strategies.ranges import (
    PARAM_FIELDS,
    UNIT_FIELDS,
    WORLD_NAMES,
    Span,
    _generic,
    _strategy,
    domain_fields,
    number,
    param_fields,
    transition_fields,
    unit,
)

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

