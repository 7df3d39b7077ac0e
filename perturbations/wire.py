"""The wire format of schedules: a list of entries, each a *when* and a ``perturb``.

The same text in a scenario file, a ``schedule=`` kwarg and ``reset(options={"schedule": ...})``
(see :mod:`driftgym.perturbations.schedules` for the entries). Errors name the entry's path
(``schedule[2].perturb.kind``) and what is allowed, with a did-you-mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from driftgym.perturbations.core import PerturbationError, suggest
from driftgym.perturbations.schedules import (
    At,
    Burst,
    Every,
    Poisson,
    Ramp,
    Schedule,
    Union,
    Window,
    as_source,
    check_step,
)

__all__ = ["as_schedule", "schedule_from_wire"]


_WHEN_KEYS = {
    "at": (),
    "every": ("start", "until"),
    "poisson": ("start", "until", "decay"),
    "window": (),
    "burst": ("start", "until"),
    "ramp": (),
}


def _pair(value: Any, where: str, names: str) -> tuple[int, int]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise PerturbationError(f"{where}: a pair [{names}] (got {value!r})")
    return value[0], value[1]


def _entry_from_wire(entry: Any, where: str) -> Schedule:
    if not isinstance(entry, dict):
        raise PerturbationError(f"{where}: a schedule entry is a mapping with a when and a 'perturb' (got {entry!r})")
    whens = [k for k in entry if k in _WHEN_KEYS]
    if not whens:
        for key in entry:
            if key != "perturb" and suggest(key, _WHEN_KEYS):
                raise PerturbationError(f"{where}.{key}: unknown key{suggest(key, _WHEN_KEYS)} an entry takes one of {', '.join(_WHEN_KEYS)}")
    if len(whens) != 1:
        found = f"both {whens[0]!r} and {whens[1]!r}" if len(whens) > 1 else "none"
        raise PerturbationError(f"{where}: an entry takes exactly one of {', '.join(_WHEN_KEYS)} (found {found})")
    when = whens[0]
    allowed = {when, "perturb", *_WHEN_KEYS[when]}
    for key in entry:
        if key not in allowed:
            raise PerturbationError(
                f"{where}.{key}: unknown key for a {when!r} entry{suggest(key, sorted(allowed))} "
                f"allowed: {', '.join(sorted(allowed))}"
            )
    if "perturb" not in entry:
        raise PerturbationError(f"{where}.perturb: missing; every entry names the perturbation it fires")
    source = as_source(entry["perturb"], f"{where}.perturb")
    options = {k: entry[k] for k in _WHEN_KEYS[when] if k in entry}
    try:
        if when == "at":
            return At(entry["at"], source)
        if when == "every":
            return Every(entry["every"], source, **options)
        if when == "poisson":
            return Poisson(entry["poisson"], source, **options)
        if when == "window":
            start, duration = _pair(entry["window"], "window", "start, duration")
            return Window(start, duration, source)
        if when == "burst":
            on, off = _pair(entry["burst"], "burst", "on, off")
            return Burst(on, off, source, **options)
        start, stop = _pair(entry["ramp"], "ramp", "start, stop")
        return Ramp(check_step("ramp start", start), check_step("ramp stop", stop), source)
    except PerturbationError as error:
        raise PerturbationError(f"{where}.{error}") from None


def schedule_from_wire(entries: Any, where: str = "schedule") -> Union:
    """Parse the wire format (a list of entries) into a schedule."""
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, (list, tuple)):
        raise PerturbationError(f"{where}: a list of entries (got {type(entries).__name__})")
    return Union(*(_entry_from_wire(e, f"{where}[{i}]") for i, e in enumerate(entries)))


def as_schedule(value: Schedule | Sequence | dict | None, default: Schedule | Sequence | None = None) -> Schedule:
    """A Schedule from a Schedule, the wire format, ``[]`` (no perturbations) or None (``default``)."""
    if value is None:
        value = default if default is not None else []
    if isinstance(value, Schedule):
        return value
    return schedule_from_wire(value)

