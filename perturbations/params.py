"""Parameter kinds: drift the physical parameters of an env (gravity, masses, lengths, forces).

They act on a *parameter world* (``world = "params"``) through three methods:
``get_param(name)``, ``set_param(name, value)`` and ``initial_param(name)`` (the value at the start
of the episode, the base of time-shaped drifts). The world recomputes derived quantities once per
step, in ``settle()``, after all of the step's perturbations.

========================  =====================================================================
kind                      value after a firing at step ``t`` (``x`` now, ``x0`` at episode start)
========================  =====================================================================
``set_param``             ``value``
``scale_param``           ``x * factor``                       (repeated: geometric progression)
``step_param``            ``x + delta``                        (increment; negative: decrement)
``drift_param``           ``x + rate``, meant for every step   (deterministic trend)
``oscillate_param``       ``x0 + amplitude * sin(2 pi t / period + phase)``
``decay_param``           ``to + (x0 - to) * exp(-rate * t)``  (exponential decay)
``interpolate_param``     ``x0 + (to - x0) * s((t + 1 - start) / (stop - start))``, s linear or sigmoid
``polynomial_param``      ``x0 + sum_i c_i * t ** (i + 1)``    (polynomial trend)
``list_param``            the value after ``x`` in ``values`` (``cycle``: wrap around)
``random_walk_param``     ``x + drift + reversion * (mean - x) + sigma * N(0, 1)``
                          (random walk, with drift, Ornstein-Uhlenbeck; seeded per episode)
``noop``                  nothing (a placeholder that still logs an event)
========================  =====================================================================

Every numeric kind clips to its optional ``min``/``max``. Any of them reverts (in a ``window``)
to the value it replaced.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from driftgym.perturbations.core import Perturbation, PerturbationError, register_kind

__all__ = [
    "DecayParam",
    "DriftParam",
    "InterpolateParam",
    "ListParam",
    "Noop",
    "OscillateParam",
    "PolynomialParam",
    "RandomWalkParam",
    "ScaleParam",
    "SetParam",
    "StepParam",
]



def clip(value: float, low: float | None, high: float | None) -> float:
    if low is not None and value < low:
        return low
    if high is not None and value > high:
        return high
    return value


@dataclass(frozen=True)
class ParamKind(Perturbation):
    """Shared by the parameter kinds: the parameter name, bounds and the revert."""

    world = "params"
    absolute_revert = True

    def revert(self, world: Any, target: Any, before: Any, step: int) -> tuple[Any, Any, Any]:
        now = world.get_param(target)
        world.set_param(target, before)
        return target, now, before

    def validate(self) -> None:
        low, high = getattr(self, "min", None), getattr(self, "max", None)
        if low is not None and high is not None and low > high:
            raise PerturbationError(f"min: {self.kind} needs min <= max (got min={low}, max={high})")

    def _set(self, world: Any, value: float) -> tuple[str, float, float]:
        before = world.get_param(self.param)
        after = clip(value, self.min, self.max)
        world.set_param(self.param, after)
        return self.param, before, after


@register_kind
@dataclass(frozen=True)
class SetParam(ParamKind):
    kind = "set_param"
    summary = "set a parameter to a value"
    param: str
    value: float

    def change(self, world, rng, step):
        before = world.get_param(self.param)
        world.set_param(self.param, self.value)
        return self.param, before, self.value


@register_kind
@dataclass(frozen=True)
class ScaleParam(ParamKind):
    kind = "scale_param"
    summary = "multiply a parameter by a factor"
    param: str
    factor: float
    min: float | None = None
    max: float | None = None

    def change(self, world, rng, step):
        return self._set(world, world.get_param(self.param) * self.factor)


@register_kind
@dataclass(frozen=True)
class StepParam(ParamKind):
    kind = "step_param"
    summary = "add a step (delta) to a parameter: an increment or decrement"
    param: str
    delta: float
    min: float | None = None
    max: float | None = None

    def change(self, world, rng, step):
        return self._set(world, world.get_param(self.param) + self.delta)


@register_kind
@dataclass(frozen=True)
class DriftParam(ParamKind):
    kind = "drift_param"
    summary = "continuous drift: add rate at each firing (every step for a rate per step)"
    param: str
    rate: float
    min: float | None = None
    max: float | None = None

    def change(self, world, rng, step):
        before = world.get_param(self.param)
        after = clip(before + self.rate, self.min, self.max)
        world.set_param(self.param, after)
        return self.param, before, after


@register_kind
@dataclass(frozen=True)
class OscillateParam(ParamKind):
    kind = "oscillate_param"
    summary = "sine around the episode's starting value"
    param: str
    amplitude: float
    period: float
    phase: float = 0.0
    min: float | None = None
    max: float | None = None

    def validate(self) -> None:
        super().validate()
        if self.period <= 0:
            raise PerturbationError(f"period: oscillate_param needs period > 0 (got {self.period})")

    def change(self, world, rng, step):
        base = world.initial_param(self.param)
        return self._set(world, base + self.amplitude * math.sin(2 * math.pi * step / self.period + self.phase))


@register_kind
@dataclass(frozen=True)
class DecayParam(ParamKind):
    kind = "decay_param"
    summary = "exponential decay from the starting value towards 'to'"
    param: str
    rate: float
    to: float = 0.0
    min: float | None = None
    max: float | None = None

    def change(self, world, rng, step):
        base = world.initial_param(self.param)
        return self._set(world, self.to + (base - self.to) * math.exp(-self.rate * step))


@register_kind
@dataclass(frozen=True)
class InterpolateParam(ParamKind):
    kind = "interpolate_param"
    summary = "move from the starting value to 'to' over [start, stop), linear or sigmoid"
    param: str
    to: float
    start: int
    stop: int
    shape: Literal["linear", "sigmoid"] = "linear"
    min: float | None = None
    max: float | None = None

    def validate(self) -> None:
        super().validate()
        if self.stop <= self.start:
            raise PerturbationError(f"stop: interpolate_param needs stop > start (got {self.start}, {self.stop})")

    def change(self, world, rng, step):
        base = world.initial_param(self.param)
        fraction = min(max((step + 1 - self.start) / (self.stop - self.start), 0.0), 1.0)
        if self.shape == "sigmoid":
            fraction = _sigmoid01(fraction)
        return self._set(world, base + (self.to - base) * fraction)


def _sigmoid01(x: float, steepness: float = 10.0) -> float:
    """A logistic curve rescaled to pass through (0, 0) and (1, 1)."""
    low, high = 1 / (1 + math.exp(steepness / 2)), 1 / (1 + math.exp(-steepness / 2))
    return (1 / (1 + math.exp(-steepness * (x - 0.5))) - low) / (high - low)


@register_kind
@dataclass(frozen=True)
class PolynomialParam(ParamKind):
    kind = "polynomial_param"
    summary = "starting value plus a polynomial in the step: x0 + c1 t + c2 t^2 + ..."
    param: str
    coefficients: tuple[float, ...]
    min: float | None = None
    max: float | None = None

    def change(self, world, rng, step):
        base = world.initial_param(self.param)
        trend = sum(c * step ** (i + 1) for i, c in enumerate(self.coefficients))
        return self._set(world, base + trend)


@register_kind
@dataclass(frozen=True)
class ListParam(ParamKind):
    kind = "list_param"
    summary = "step through a list of values (cycle: wrap around)"
    param: str
    values: tuple[float, ...]
    cycle: bool = False

    def validate(self) -> None:
        if not self.values:
            raise PerturbationError("values: list_param needs at least one value")

    def change(self, world, rng, step):
        before = world.get_param(self.param)
        values = self.values
        if before in values:
            index = values.index(before) + 1
            after = values[index % len(values)] if self.cycle else values[min(index, len(values) - 1)]
        else:
            after = values[0]
        world.set_param(self.param, after)
        return self.param, before, after


@register_kind
@dataclass(frozen=True)
class RandomWalkParam(ParamKind):
    kind = "random_walk_param"
    draws = True
    summary = "seeded random walk; drift adds a trend, reversion pulls towards mean (Ornstein-Uhlenbeck)"
    param: str
    sigma: float
    drift: float = 0.0
    reversion: float = 0.0
    mean: float | None = None
    min: float | None = None
    max: float | None = None

    def validate(self) -> None:
        super().validate()
        if self.sigma < 0:
            raise PerturbationError(f"sigma: random_walk_param needs sigma >= 0 (got {self.sigma})")

    def change(self, world, rng, step):
        x = world.get_param(self.param)
        mean = world.initial_param(self.param) if self.mean is None else self.mean
        after = clip(x + self.drift + self.reversion * (mean - x) + self.sigma * rng.standard_normal(), self.min, self.max)
        world.set_param(self.param, after)
        return self.param, x, after


@register_kind
@dataclass(frozen=True)
class Noop(Perturbation):
    kind = "noop"
    world = "any"
    summary = "change nothing (still logged as an event)"

    def change(self, world, rng, step):
        return None, None, None

    def revert(self, world, target, before, step):
        return None, None, None
