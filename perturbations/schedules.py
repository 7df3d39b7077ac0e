"""Schedules: when perturbations fire. ``schedule.compile(seed, horizon) -> Timeline``.

Every schedule writes (``to_wire``), and :mod:`driftgym.perturbations.wire` reads, the wire
format of design.md (a list of entries, each a *when* and a ``perturb``), the same in a scenario
file, a ``schedule=`` kwarg and ``reset(options={"schedule": ...})``::

    - at: 120                                  # At: one step, or a list of steps
      perturb: {kind: set_param, param: gravity, value: 15.0}
    - every: 50                                # Every: periodic, optional start/until
      start: 20
      perturb: {kind: scale_param, param: masspole, factor: {uniform: [1.5, 3.0]}}
    - poisson: 0.01                            # Poisson: per-step arrival probability
      perturb: {kind: step_param, param: length, delta: 0.05}
    - window: [80, 20]                         # Window: start, duration; reverts at the end
      perturb: {kind: set_param, param: force_mag, value: 5.0}
    - burst: [10, 30]                          # Burst: fires every step for 10, quiet for 30, ...
      perturb: {kind: random_walk_param, param: gravity, sigma: 0.05}
    - ramp: [100, 200]                         # Ramp: every step of [start, stop)
      perturb: {kind: interpolate_param, param: gravity, to: 20.0, start: 100, stop: 200}
    - at: [30, 60]                             # Choice: one of a pool, drawn per firing
      perturb: {choice: [{kind: set_param, param: gravity, value: 5.0}, {kind: noop}], weights: [3, 1]}

Compiling is exogenous: the timeline depends on (schedule, seed, horizon) only. The entry at
position ``i`` of a schedule draws from ``SeedSequence(seed, spawn_key=(i,))`` (the ``i``-th child
of ``SeedSequence(seed)``), so appending an entry does not change the draws of the others.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from driftgym.perturbations.core import (
    Perturbation,
    PerturbationError,
    perturbation_from_dict,
    suggest,
)
from driftgym.perturbations.timeline import Timeline, TimelineEntry

__all__ = [
    "At",
    "Burst",
    "Choice",
    "Every",
    "Poisson",
    "Ramp",
    "Schedule",
    "Union",
    "Window",
]

Seed = int | np.random.SeedSequence | None


@dataclass(frozen=True)
class Choice:
    """One perturbation of a pool, drawn (with ``weights``) each time the schedule fires."""

    pool: tuple[Perturbation, ...]
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        pool = tuple(perturbation_from_dict(p, f"choice[{i}]") for i, p in enumerate(self.pool))
        object.__setattr__(self, "pool", pool)
        if not pool:
            raise PerturbationError("choice: the pool is empty; give at least one perturbation")
        if self.weights is not None:
            weights = tuple(float(w) for w in self.weights)
            if len(weights) != len(pool) or any(w < 0 or not math.isfinite(w) for w in weights) or sum(weights) <= 0:
                raise PerturbationError(
                    f"weights: choice needs {len(pool)} non-negative weights with a positive sum (got {list(self.weights)!r})"
                )
            object.__setattr__(self, "weights", weights)

    random = True

    def resolve(self, rng: np.random.Generator) -> Perturbation:
        if self.weights is None:
            index = int(rng.integers(len(self.pool)))
        else:
            p = np.asarray(self.weights) / sum(self.weights)
            index = int(rng.choice(len(self.pool), p=p))
        return self.pool[index].resolve(rng)

    def to_wire(self) -> dict[str, Any]:
        data: dict[str, Any] = {"choice": [p.to_dict() for p in self.pool]}
        if self.weights is not None:
            data["weights"] = list(self.weights)
        return data

    def kinds(self) -> list[Perturbation]:
        return list(self.pool)


Source = Perturbation | Choice


def as_source(value: Any, where: str) -> Source:
    if isinstance(value, (Perturbation, Choice)):
        return value
    if isinstance(value, dict) and "choice" in value:
        extra = set(value) - {"choice", "weights"}
        if extra:
            key = sorted(extra)[0]
            raise PerturbationError(f"{where}.{key}: a choice takes only 'choice' and 'weights'{suggest(key, ['choice', 'weights'])}")
        if not isinstance(value["choice"], list):
            raise PerturbationError(f"{where}.choice: a list of perturbations (got {value['choice']!r})")
        pool = tuple(perturbation_from_dict(p, f"{where}.choice[{i}]") for i, p in enumerate(value["choice"]))
        try:
            return Choice(pool, value.get("weights"))
        except PerturbationError as error:
            raise PerturbationError(f"{where}.{error}") from None
    return perturbation_from_dict(value, where)


def _perturbations_of(source: Source) -> list[Perturbation]:
    return source.kinds() if isinstance(source, Choice) else [source]


def _seed_sequence(seed: Seed) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0):
        raise PerturbationError(f"seed must be a non-negative whole number or None (got {seed!r})")
    return np.random.SeedSequence(None if seed is None else int(seed))


class Schedule:
    """Base of all schedules. Subclasses implement ``steps`` and ``_when``.

    ``compile`` keeps the seed-independent part of a schedule compiled once per horizon and
    draws only the random part per call: that is what makes a ``reset`` cheap.
    """

    perturbation: Source

    def compile(self, seed: Seed, horizon: int) -> Timeline:
        """The timeline of one episode: every firing in ``[0, horizon)`` with parameters drawn."""
        if not isinstance(horizon, int) or isinstance(horizon, bool) or horizon < 1:
            raise PerturbationError(f"horizon must be a whole number >= 1 (got {horizon!r})")
        static = self._static(horizon)
        if not self.random:
            return static
        return static.with_entries(self._random_entries(_seed_sequence(seed), horizon))

    def _parts(self) -> tuple[Schedule, ...]:
        return (self,)

    def _static(self, horizon: int) -> Timeline:
        cache = self.__dict__.setdefault("_static_cache", {})
        if horizon not in cache:
            entries = []
            for source, part in enumerate(self._parts()):
                if not part.random:
                    entries.extend(part._entries(np.random.default_rng(0), horizon, source))
            cache[horizon] = Timeline(entries, horizon)
        return cache[horizon]

    def _random_entries(self, seq: np.random.SeedSequence, horizon: int) -> list[TimelineEntry]:
        entries: list[TimelineEntry] = []
        for source, part in enumerate(self._parts()):
            if part.random:
                child = np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, source))
                entries.extend(part._entries(np.random.default_rng(child), horizon, source))
        return entries

    def _entries(self, rng: np.random.Generator, horizon: int, source: int) -> list[TimelineEntry]:
        perturbation = self.perturbation
        if not perturbation.random:
            duration = self._duration(perturbation)
            return [TimelineEntry(step, perturbation, duration, source) for step in self.steps(rng, horizon)]
        entries = []
        for step in self.steps(rng, horizon):
            resolved = perturbation.resolve(rng)
            entries.append(TimelineEntry(step, resolved, self._duration(resolved), source))
        return entries

    def _duration(self, perturbation: Perturbation) -> int | None:
        """How long an effect lasts before it reverts: a transient kind's own ``duration``."""
        return perturbation.duration if perturbation.transient else None

    def steps(self, rng: np.random.Generator, horizon: int) -> Iterable[int]:
        raise NotImplementedError

    @property
    def random(self) -> bool:
        """Whether the timeline depends on the seed (else it is compiled once and reused)."""
        return self.perturbation.random

    @property
    def draws(self) -> bool:
        """Whether a kind of this schedule draws from the perturbation stream when it fires."""
        return any(p.draws for p in self.perturbations())

    def perturbations(self) -> list[Perturbation]:
        return _perturbations_of(self.perturbation)

    def to_wire(self) -> list[dict[str, Any]]:
        return [{**self._when(), "perturb": _wireas_source(self.perturbation)}]

    def _when(self) -> dict[str, Any]:
        raise NotImplementedError

    def __add__(self, other: Schedule) -> Union:
        return Union(self, other)


def _wireas_source(source: Source) -> dict[str, Any]:
    return source.to_wire() if isinstance(source, Choice) else source.to_dict()


def check_step(name: str, value: Any, low: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise PerturbationError(f"{name}: a whole number >= {low} (got {value!r})")
    return value


@dataclass(frozen=True)
class At(Schedule):
    """Fire at one step, or at each of a set of steps."""

    step: int | tuple[int, ...]
    perturbation: Source

    def __post_init__(self) -> None:
        steps = self.step if isinstance(self.step, (list, tuple)) else None
        if steps is not None:
            object.__setattr__(self, "step", tuple(sorted({check_step("at", s) for s in steps})))
        else:
            check_step("at", self.step)
        object.__setattr__(self, "perturbation", as_source(self.perturbation, "perturb"))

    def steps(self, rng: np.random.Generator, horizon: int) -> list[int]:
        steps = self.step if isinstance(self.step, tuple) else (self.step,)
        return [s for s in steps if s < horizon]

    def _when(self) -> dict[str, Any]:
        return {"at": list(self.step) if isinstance(self.step, tuple) else self.step}


@dataclass(frozen=True)
class Every(Schedule):
    """Fire every ``period`` steps from ``start`` (inclusive) to ``until`` (exclusive)."""

    period: int
    perturbation: Source
    start: int = 0
    until: int | None = None

    def __post_init__(self) -> None:
        check_step("every", self.period, 1)
        check_step("start", self.start)
        if self.until is not None:
            check_step("until", self.until)
        object.__setattr__(self, "perturbation", as_source(self.perturbation, "perturb"))

    def steps(self, rng: np.random.Generator, horizon: int) -> range:
        stop = horizon if self.until is None else min(self.until, horizon)
        return range(self.start, stop, self.period)

    def _when(self) -> dict[str, Any]:
        when: dict[str, Any] = {"every": self.period}
        if self.start:
            when["start"] = self.start
        if self.until is not None:
            when["until"] = self.until
        return when


class Ramp(Every):
    """Continuous change: fire every step of ``[start, stop)`` (a drift over a step range)."""

    def __init__(self, start: int, stop: int, perturbation: Source) -> None:
        super().__init__(1, perturbation, start, stop)
        if stop < start:
            raise PerturbationError(f"ramp: stop must be >= start (got [{start}, {stop}])")

    def _when(self) -> dict[str, Any]:
        return {"ramp": [self.start, self.until]}


@dataclass(frozen=True)
class Poisson(Schedule):
    """Memoryless arrivals: each step in ``[start, until)`` fires with probability ``rate``.

    In discrete time this is the Bernoulli process; it is drawn as geometric gaps, so compiling
    costs in proportion to the arrivals. With ``decay`` the probability at step ``t`` is
    ``rate * decay ** (t - start)`` (a decaying hazard), drawn as one uniform per step.
    """

    rate: float
    perturbation: Source
    start: int = 0
    until: int | None = None
    decay: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.rate, bool) or not isinstance(self.rate, (int, float)) or not 0 < self.rate <= 1:
            raise PerturbationError(f"poisson: a rate per step in (0, 1] (got {self.rate!r})")
        if isinstance(self.decay, bool) or not isinstance(self.decay, (int, float)) or not 0 < self.decay <= 1:
            raise PerturbationError(f"decay: a factor per step in (0, 1] (got {self.decay!r})")
        check_step("start", self.start)
        if self.until is not None:
            check_step("until", self.until)
        object.__setattr__(self, "perturbation", as_source(self.perturbation, "perturb"))

    def steps(self, rng: np.random.Generator, horizon: int) -> list[int]:
        stop = horizon if self.until is None else min(self.until, horizon)
        span = stop - self.start
        if span <= 0:
            return []
        if self.decay != 1.0:
            hits = rng.random(span) < self.rate * self.decay ** np.arange(span)
            return (np.flatnonzero(hits) + self.start).tolist()
        # Geometric gaps (the Bernoulli process's): draws proportional to the events, not the span.
        expected = self.rate * span
        arrivals = np.cumsum(rng.geometric(self.rate, int(expected + 6 * expected**0.5 + 8)))
        while arrivals[-1] < span:
            more = np.cumsum(rng.geometric(self.rate, int(expected + 8))) + arrivals[-1]
            arrivals = np.concatenate([arrivals, more])
        return (arrivals[arrivals <= span] - 1 + self.start).tolist()

    @property
    def random(self) -> bool:
        return True

    def _when(self) -> dict[str, Any]:
        when: dict[str, Any] = {"poisson": self.rate}
        if self.start:
            when["start"] = self.start
        if self.until is not None:
            when["until"] = self.until
        if self.decay != 1.0:
            when["decay"] = self.decay
        return when


@dataclass(frozen=True)
class Window(Schedule):
    """Apply at ``start``; revert at ``start + duration`` (a transient effect)."""

    start: int
    duration: int
    perturbation: Source

    def __post_init__(self) -> None:
        check_step("window start", self.start)
        check_step("window duration", self.duration, 1)
        object.__setattr__(self, "perturbation", as_source(self.perturbation, "perturb"))
        for perturbation in self.perturbations():
            if not perturbation.revertible:
                raise PerturbationError(f"perturb.kind: {perturbation.kind} cannot be undone, so it cannot run in a window")

    def steps(self, rng: np.random.Generator, horizon: int) -> list[int]:
        return [self.start] if self.start < horizon else []

    def _duration(self, perturbation: Perturbation) -> int:
        return self.duration

    def _when(self) -> dict[str, Any]:
        return {"window": [self.start, self.duration]}


@dataclass(frozen=True)
class Burst(Schedule):
    """On/off bursts: every step for ``on`` steps, then quiet for ``off``, repeating from ``start``."""

    on: int
    off: int
    perturbation: Source
    start: int = 0
    until: int | None = None

    def __post_init__(self) -> None:
        check_step("burst on", self.on, 1)
        check_step("burst off", self.off)
        check_step("start", self.start)
        if self.until is not None:
            check_step("until", self.until)
        object.__setattr__(self, "perturbation", as_source(self.perturbation, "perturb"))

    def steps(self, rng: np.random.Generator, horizon: int) -> list[int]:
        stop = horizon if self.until is None else min(self.until, horizon)
        cycle = self.on + self.off
        return [t for t in range(self.start, stop) if (t - self.start) % cycle < self.on]

    def _when(self) -> dict[str, Any]:
        when: dict[str, Any] = {"burst": [self.on, self.off]}
        if self.start:
            when["start"] = self.start
        if self.until is not None:
            when["until"] = self.until
        return when


@dataclass(frozen=True, init=False)
class Union(Schedule):
    """Several schedules at once; each draws from its own child seed."""

    schedules: tuple[Schedule, ...] = field(default=())

    def __init__(self, *schedules: Schedule) -> None:
        flat: list[Schedule] = []
        for s in schedules:
            if not isinstance(s, Schedule):
                raise PerturbationError(f"Union takes schedules (got {s!r})")
            flat.extend(s.schedules if isinstance(s, Union) else (s,))
        object.__setattr__(self, "schedules", tuple(flat))

    def _parts(self) -> tuple[Schedule, ...]:
        return self.schedules

    @property
    def random(self) -> bool:
        return any(s.random for s in self.schedules)

    def perturbations(self) -> list[Perturbation]:
        return [p for s in self.schedules for p in s.perturbations()]

    def to_wire(self) -> list[dict[str, Any]]:
        return [entry for s in self.schedules for entry in s.to_wire()]
