"""Transition kinds: drift a categorical transition model (FrozenLake's and CliffWalking's slip).

They act on a *transition world* (``world = "transitions"``): for every state ``s`` and action
``a`` a categorical distribution over the same few outcomes (for the toy-text grids: the move
to the left of the intended one, the intended move, the move to its right). The world offers

- ``transition_probs(state, action) -> (n, K) array``: the targeted rows now (a copy);
- ``initial_transition_probs(state, action)``: the same rows at the start of the episode;
- ``set_transition_probs(state, action, probs)``: write ``(n, K)`` rows or one ``(K,)`` row for
  all of them (the world re-normalises and refreshes its samplers once, in ``settle()``);
- ``intended``: the index of the intended outcome; ``outcomes``: ``K``;
- ``transition_label(state, action)``: the event target, ``P[5][*]`` in gymnasium's ``P[s][a]``.

``state`` / ``action`` omitted means every state / every action (a global change). Every kind
builds the new rows as a convex combination of valid distributions, or re-scales one part of a
row to the mass left by another, so rows stay non-negative and sum to one by construction.

==========================  =================================================================
kind                        new row ``p'`` of a firing at step ``t`` (``p`` now, ``p0`` at start)
==========================  =================================================================
``set_transition``          ``probs`` (normalised)
``shift_transition``        intended mass ``+ delta`` (clipped to [0, 1]); the others re-scaled
                            to the rest (negative ``delta``: mass moves away from the intended move)
``list_transition``         the distribution after ``p`` in ``values`` (``cycle``: wrap around)
``interpolate_transition``  ``p0 + (to - p0) * (t + 1 - start) / (stop - start)``, clipped to [0, 1]
``uniform_transition``      ``(1 - rate) p + rate / K``         (drift towards the uniform row)
``revert_transition``       ``p + rate (target - p)``; target ``to``, or ``p0`` when omitted
``random_transition``       ``(1 - mix) p + mix q``, ``q ~ Dirichlet(concentration)``, one ``q``
                            per firing shared by the targeted rows
``wasserstein_transition``  towards ``q ~ Dirichlet(1)`` (one per firing) just far enough that the
                            1-Wasserstein distance (outcomes on a line, unit spacing) is ``<= bound``
==========================  =================================================================

An event's ``before``/``after`` are the targeted rows as lists: one row when they are all equal,
else every row in (state, action) order. Every kind reverts (in a ``window``) to those rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from driftgym.perturbations.core import Perturbation, PerturbationError, register_kind

__all__ = [
    "InterpolateTransition",
    "ListTransition",
    "RandomTransition",
    "RevertTransition",
    "SetTransition",
    "ShiftTransition",
    "UniformTransition",
    "WassersteinTransition",
    "compact_rows",
    "normalised",
    "shift_intended",
    "wasserstein_1",
]


def compact_rows(rows: np.ndarray) -> list:
    """The JSON form of targeted rows: one row if all are equal, else the list of rows."""
    if len(rows) == 1 or bool((rows == rows[0]).all()):
        return rows[0].tolist()
    return rows.tolist()


def normalised(values: tuple[float, ...] | list[float] | np.ndarray) -> np.ndarray:
    """A distribution from non-negative weights (checked by the kinds' ``validate``)."""
    array = np.asarray(values, dtype=np.float64)
    return array / array.sum()


def shift_intended(rows: np.ndarray, intended: int, mass: np.ndarray | float) -> np.ndarray:
    """Rows whose intended outcome has ``mass`` (in [0, 1]) and whose other outcomes share the
    rest in their present proportions (evenly where they had none)."""
    mass = np.clip(mass, 0.0, 1.0)
    others = rows.copy()
    others[:, intended] = 0.0
    total = others.sum(axis=1, keepdims=True)
    even = np.full_like(others, 1.0 / (rows.shape[1] - 1))
    even[:, intended] = 0.0
    share = np.where(total > 0, others / np.where(total > 0, total, 1.0), even)
    result = share * (1.0 - np.reshape(mass, (-1, 1)))
    result[:, intended] = mass
    return result


def wasserstein_1(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Row-wise 1-Wasserstein distance of distributions over outcomes 0..K-1 on a line."""
    return np.abs(np.cumsum(p - q, axis=-1)[..., :-1]).sum(axis=-1)


def _check_weights(kind: str, name: str, values: tuple[float, ...]) -> None:
    if len(values) < 2 or any(v < 0 or not math.isfinite(v) for v in values) or sum(values) <= 0:
        raise PerturbationError(
            f"{name}: {kind} needs at least two non-negative weights with a positive sum (got {list(values)!r})"
        )


def _check_fraction(kind: str, name: str, value: float, low: float = 0.0) -> None:
    if not low <= value <= 1.0:
        raise PerturbationError(f"{name}: {kind} needs {low:g} <= {name} <= 1 (got {value})")


@dataclass(frozen=True)
class TransitionKind(Perturbation):
    """Shared by the transition kinds: the targeted rows, the event record and the revert."""

    world = "transitions"
    absolute_revert = True

    def new_rows(self, world: Any, rows: np.ndarray, rng: Any, step: int) -> np.ndarray:
        raise NotImplementedError

    def change(self, world, rng, step):
        state, action = self.state, self.action
        rows = world.transition_probs(state, action)
        after = self.new_rows(world, rows, rng, step)
        world.set_transition_probs(state, action, after)
        return world.transition_label(state, action), compact_rows(rows), compact_rows(np.asarray(after))

    def revert(self, world, target, before, step):
        state, action = self.state, self.action
        now = compact_rows(world.transition_probs(state, action))
        world.set_transition_probs(state, action, np.asarray(before, dtype=np.float64))
        return target, now, before

    def validate(self) -> None:
        for name in ("state", "action"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise PerturbationError(f"{name}: {self.kind} needs {name} >= 0 or omitted for all (got {value})")


@register_kind
@dataclass(frozen=True)
class SetTransition(TransitionKind):
    kind = "set_transition"
    summary = "set the transition distribution (intended and unintended moves) to given weights"
    probs: tuple[float, ...]
    state: int | None = None
    action: int | None = None

    def validate(self) -> None:
        super().validate()
        _check_weights(self.kind, "probs", self.probs)

    def new_rows(self, world, rows, rng, step):
        return np.broadcast_to(normalised(self.probs), rows.shape)


@register_kind
@dataclass(frozen=True)
class ShiftTransition(TransitionKind):
    kind = "shift_transition"
    summary = "move probability mass toward (delta > 0) or away from (delta < 0) the intended move"
    delta: float
    state: int | None = None
    action: int | None = None

    def validate(self) -> None:
        super().validate()
        _check_fraction(self.kind, "delta", self.delta, -1.0)

    def new_rows(self, world, rows, rng, step):
        return shift_intended(rows, world.intended, rows[:, world.intended] + self.delta)


@register_kind
@dataclass(frozen=True)
class ListTransition(TransitionKind):
    kind = "list_transition"
    summary = "step through a list of distributions (cycle: wrap around)"
    values: tuple[tuple[float, ...], ...]
    cycle: bool = False
    state: int | None = None
    action: int | None = None

    def validate(self) -> None:
        super().validate()
        if not self.values:
            raise PerturbationError("values: list_transition needs at least one distribution")
        for i, row in enumerate(self.values):
            _check_weights(self.kind, f"values[{i}]", row)
        if len({len(row) for row in self.values}) != 1:
            raise PerturbationError("values: list_transition needs distributions of one length")

    def new_rows(self, world, rows, rng, step):
        options = [normalised(v) for v in self.values]
        index = next((i for i, v in enumerate(options) if v.shape == rows[0].shape and np.abs(rows[0] - v).max() < 1e-12), None)
        if index is None:
            chosen = options[0]
        elif self.cycle:
            chosen = options[(index + 1) % len(options)]
        else:
            chosen = options[min(index + 1, len(options) - 1)]
        return np.broadcast_to(chosen, rows.shape)


@register_kind
@dataclass(frozen=True)
class InterpolateTransition(TransitionKind):
    kind = "interpolate_transition"
    summary = "move linearly from the episode's starting distribution to 'to' over [start, stop)"
    to: tuple[float, ...]
    start: int
    stop: int
    state: int | None = None
    action: int | None = None

    def validate(self) -> None:
        super().validate()
        _check_weights(self.kind, "to", self.to)
        if self.stop <= self.start:
            raise PerturbationError(f"stop: interpolate_transition needs stop > start (got {self.start}, {self.stop})")

    def new_rows(self, world, rows, rng, step):
        base = world.initial_transition_probs(self.state, self.action)
        fraction = min(max((step + 1 - self.start) / (self.stop - self.start), 0.0), 1.0)
        return (1.0 - fraction) * base + fraction * normalised(self.to)


@register_kind
@dataclass(frozen=True)
class UniformTransition(TransitionKind):
    kind = "uniform_transition"
    summary = "uniform drift: move a fraction 'rate' of the way to the uniform distribution"
    rate: float
    state: int | None = None
    action: int | None = None

    def validate(self) -> None:
        super().validate()
        _check_fraction(self.kind, "rate", self.rate)

    def new_rows(self, world, rows, rng, step):
        return (1.0 - self.rate) * rows + self.rate / rows.shape[1]


@register_kind
@dataclass(frozen=True)
class RevertTransition(TransitionKind):
    kind = "revert_transition"
    summary = "revert a fraction 'rate' of the way to a target (default: the starting distribution)"
    rate: float
    to: tuple[float, ...] | None = None
    state: int | None = None
    action: int | None = None

    def validate(self) -> None:
        super().validate()
        _check_fraction(self.kind, "rate", self.rate)
        if self.to is not None:
            _check_weights(self.kind, "to", self.to)

    def new_rows(self, world, rows, rng, step):
        target = world.initial_transition_probs(self.state, self.action) if self.to is None else normalised(self.to)
        return (1.0 - self.rate) * rows + self.rate * target


@register_kind
@dataclass(frozen=True)
class RandomTransition(TransitionKind):
    kind = "random_transition"
    draws = True
    summary = "mix in a random categorical q ~ Dirichlet(concentration) (one per firing)"
    concentration: float = 1.0
    mix: float = 1.0
    state: int | None = None
    action: int | None = None

    def validate(self) -> None:
        super().validate()
        if not self.concentration > 0:
            raise PerturbationError(f"concentration: random_transition needs concentration > 0 (got {self.concentration})")
        _check_fraction(self.kind, "mix", self.mix)

    def new_rows(self, world, rows, rng, step):
        q = _dirichlet(rng, self.concentration, world.outcomes)
        return (1.0 - self.mix) * rows + self.mix * q


@register_kind
@dataclass(frozen=True)
class WassersteinTransition(TransitionKind):
    kind = "wasserstein_transition"
    draws = True
    summary = "a random change of at most 'bound' in 1-Wasserstein distance (outcomes on a line)"
    bound: float
    state: int | None = None
    action: int | None = None

    def validate(self) -> None:
        super().validate()
        if not self.bound > 0:
            raise PerturbationError(f"bound: wasserstein_transition needs bound > 0 (got {self.bound})")

    def new_rows(self, world, rows, rng, step):
        q = _dirichlet(rng, 1.0, world.outcomes)
        distance = wasserstein_1(rows, q)
        # W1 grows linearly along the segment from p to q, so moving a fraction t of the way
        # costs t * W1(p, q); the 0.999999 margin keeps rounding from overshooting the bound.
        fraction = np.where(distance > self.bound, self.bound * 0.999999 / np.where(distance > 0, distance, 1.0), 1.0)
        return rows + fraction[:, None] * (q - rows)


def _dirichlet(rng: Any, concentration: float, outcomes: int) -> np.ndarray:
    """One Dirichlet draw from ``outcomes`` gamma variates: a fixed number of draws per firing."""
    gammas = np.array([rng.standard_gamma(concentration) for _ in range(outcomes)], dtype=np.float64)
    total = gammas.sum()
    return gammas / total if total > 0 else np.full(outcomes, 1.0 / outcomes)
