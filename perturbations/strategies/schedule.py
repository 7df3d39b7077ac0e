"""Drawing schedules (wire format), seeds and compiled timelines an env accepts."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from driftgym.perturbations.strategies.perturbation import _perturbation
from driftgym.perturbations.strategies.profiles import EnvLike, EnvProfile, _check_horizon, profile
from driftgym.perturbations.strategies.ranges import number

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


def seeds() -> SearchStrategy[int]:
    """A seed for ``reset(seed=...)``: shrinks to 0."""
    return st.integers(0, 2**32 - 1)


@st.composite
def _timeline(draw: Any, env: EnvLike, horizon: int, max_events: int) -> Any:
    from driftgym.perturbations.wire import schedule_from_wire

    schedule = draw(schedules(env, max_events=max_events, horizon=horizon))
    return schedule_from_wire(schedule).compile(draw(seeds()), horizon)


def timelines(env: EnvLike, horizon: int, *, max_events: int = 20) -> SearchStrategy[Any]:
    """A compiled :class:`~driftgym.perturbations.Timeline` of a drawn schedule and seed."""
    return _timeline(env, _check_horizon(horizon), max_events)

