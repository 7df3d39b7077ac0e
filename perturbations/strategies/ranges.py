"""The per-kind tables of valid parameter values, and numbers that read well (and shrink well)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from driftgym.perturbations.core import _options

# Fields naming a target inside the generated world: left out (the seed picks through ``pick``).
WORLD_NAMES = frozenset({"path", "to", "name", "key", "collection", "field", "successor", "service", "edge", "region"})
UNIT_FIELDS = frozenset({"pick", "where", "key_pick", "value_pick"})
PARAM_FIELDS = frozenset({"param", "min", "max", "start", "stop"})


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

