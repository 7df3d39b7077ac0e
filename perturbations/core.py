"""Perturbation kinds, events, random parameters and the registry of kinds by name.

A perturbation is a frozen, parameterised kind (``drift_param``, ``crash``, ``move_file``, ...).
It changes a world only through that world's public mutation methods, in ``change(world, rng,
step)``, which returns the compact record ``(target, before, after)``; an :class:`Event` is built
from such a record only when someone asks for it, so a drift that fires every step allocates
nothing but a tuple.

Every kind is constructible from a plain dict (``{"kind": "drift_param", "param": "gravity",
"rate": 0.01}``) and validated with an error that names what was wrong and what is allowed.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Union, get_args, get_origin, get_type_hints

import numpy as np

__all__ = [
    "Event",
    "Perturbation",
    "PerturbationError",
    "RandomValue",
    "canonical_json",
    "digest_of",
    "kind_names",
    "kinds",
    "perturbation_from_dict",
    "pick_sorted",
    "register_kind",
    "suggest",
]


class PerturbationError(ValueError):
    """A perturbation or schedule was described wrongly; the message says what and what is allowed."""


def canonical_json(data: Any) -> str:
    """JSON with sorted keys and no spaces: the same text for the same data in any process."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False, default=_plain)


def digest_of(data: Any) -> str:
    """sha256 of the canonical JSON of ``data`` (never Python's ``hash()``)."""
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON-able: {value!r} ({type(value).__name__})")


def suggest(name: str, allowed: typing.Iterable[str]) -> str:
    """' did you mean X?' for the closest allowed name, or ''."""
    close = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def pick_sorted(candidates: typing.Iterable[str], u: float) -> str | None:
    """The candidate a uniform number ``u`` in [0, 1) picks in canonical (sorted) order."""
    ordered = sorted(candidates)
    if not ordered:
        return None
    return ordered[min(int(u * len(ordered)), len(ordered) - 1)]


@dataclass(frozen=True)
class Event:
    """What one perturbation actually did at run time.

    ``phase`` is ``"apply"`` when the perturbation fired and ``"revert"`` when a transient one
    (a window, a burst of errors, a latency spike) ended and its effect was undone. ``source`` is
    the index of the schedule entry that fired it.
    """

    step: int
    kind: str
    target: Any
    before: Any
    after: Any
    phase: str = "apply"
    source: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def magnitude(self) -> float:
        """The size of the change: |after - before| for numbers, 1.0 for anything else."""
        return change_magnitude(self.before, self.after)


def change_magnitude(before: Any, after: Any) -> float:
    if isinstance(before, (int, float)) and isinstance(after, (int, float)):
        return abs(float(after) - float(before))
    return 0.0 if before == after else 1.0


# --------------------------------------------------------------------------- random parameters

_RANDOM_FORMS = ("uniform", "normal", "integers", "choice")


@dataclass(frozen=True)
class RandomValue:
    """A parameter drawn from the seed when the schedule is compiled.

    Wire forms: ``{"uniform": [low, high]}``, ``{"normal": [mean, std]}``,
    ``{"integers": [low, high]}`` (both ends included), ``{"choice": [a, b, ...]}``.
    """

    form: str
    args: tuple

    @classmethod
    def from_wire(cls, data: dict, where: str) -> RandomValue:
        if len(data) != 1 or next(iter(data)) not in _RANDOM_FORMS:
            raise PerturbationError(
                f"{where}: a random parameter is one of {{uniform: [low, high]}}, {{normal: [mean, std]}}, "
                f"{{integers: [low, high]}}, {{choice: [...]}} (got {data!r})"
            )
        form, args = next(iter(data.items()))
        if not isinstance(args, (list, tuple)) or not args:
            raise PerturbationError(f"{where}: {form} takes a non-empty list (got {args!r})")
        if form != "choice":
            if len(args) != 2 or not all(_is_number(a) for a in args):
                raise PerturbationError(f"{where}: {form} takes two numbers (got {args!r})")
            if form in ("uniform", "integers") and args[0] > args[1]:
                raise PerturbationError(f"{where}: {form} needs low <= high (got {list(args)!r})")
            if form == "normal" and args[1] < 0:
                raise PerturbationError(f"{where}: normal needs std >= 0 (got {args[1]!r})")
        return cls(form, tuple(args))

    def draw(self, rng: np.random.Generator) -> Any:
        if self.form == "uniform":
            return float(rng.uniform(self.args[0], self.args[1]))
        if self.form == "normal":
            return float(rng.normal(self.args[0], self.args[1]))
        if self.form == "integers":
            return int(rng.integers(int(self.args[0]), int(self.args[1]), endpoint=True))
        value = self.args[int(rng.integers(len(self.args)))]
        return list(value) if isinstance(value, tuple) else value

    def to_wire(self) -> dict:
        return {self.form: list(self.args)}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# --------------------------------------------------------------------------- perturbation base

_KINDS: dict[str, type[Perturbation]] = {}


@dataclass(frozen=True)
class Perturbation:
    """Base of every kind. Subclasses are frozen dataclasses whose fields are the parameters.

    Class attributes a kind sets:
      ``kind``: its wire name; ``world``: which world it acts on (``"params"``, ``"files"``,
      ``"api"``, ``"services"``); ``target_field``: the field naming its target, when an omitted
      target is drawn from the seed (it is then resolved against a sorted order at apply time
      through the ``pick`` number); ``transient``: whether it reverts by itself after its
      ``duration`` field; ``draws``: whether ``change`` draws from the perturbation stream;
      ``absolute_revert``: whether ``revert`` restores ``before`` as an absolute value (then
      overlapping transient entries on one target unwind like a stack); ``summary``: one line for
      ``driftgym list``.

    A kind implements ``change(world, rng, step) -> (target, before, after)`` and, when it can be
    undone, ``revert(world, target, before, step) -> (target, before, after)``. ``rng`` is the
    episode's perturbation stream: a kind may draw from it, always the same number of draws, so
    the stream stays exogenous.
    """

    kind: ClassVar[str] = ""
    world: ClassVar[str] = ""
    target_field: ClassVar[str | None] = None
    transient: ClassVar[bool] = False
    draws: ClassVar[bool] = False
    absolute_revert: ClassVar[bool] = False
    summary: ClassVar[str] = ""

    # ----- what a kind implements
    def change(self, world: Any, rng: np.random.Generator, step: int) -> tuple[Any, Any, Any]:
        raise NotImplementedError(f"{type(self).__name__}.change")

    def revert(self, world: Any, target: Any, before: Any, step: int) -> tuple[Any, Any, Any]:
        raise PerturbationError(f"{self.kind} cannot be reverted, so it cannot run in a window")

    @property
    def revertible(self) -> bool:
        """Whether this kind can be undone (run in a window, or be transient)."""
        return type(self).revert is not Perturbation.revert

    # ----- shared machinery
    def apply(self, world: Any, rng: np.random.Generator, step: int = 0) -> Event:
        """Apply once and return the :class:`Event` (the env uses the compact ``change``)."""
        target, before, after = self.change(world, rng, step)
        return Event(step, self.kind, target, before, after)

    @property
    def random(self) -> bool:
        """Whether compiling needs the seed: a random parameter or a target left to the draw."""
        return self.__dict__["_random"]

    def _target_undrawn(self) -> bool:
        field = self.target_field
        return field is not None and getattr(self, field) is None and getattr(self, "pick", None) is None

    def target(self, candidates: typing.Iterable[str]) -> str | None:
        """The named target, or the one ``pick`` draws from ``candidates`` in sorted order."""
        named = getattr(self, self.target_field) if self.target_field else None
        if named is not None:
            return named
        return pick_sorted(candidates, getattr(self, "pick", None) or 0.0)

    def resolve(self, rng: np.random.Generator) -> Perturbation:
        """This perturbation with every random parameter drawn (and an omitted target picked)."""
        if not self.random:
            return self
        resolved = object.__new__(type(self))
        values = resolved.__dict__
        values.update(self.__dict__)
        for name, value, convert in self.__dict__["_random_fields"]:
            values[name] = convert(value.draw(rng))
        if self._target_undrawn():
            values["pick"] = float(rng.random())
        values["_random"] = False
        values["_random_fields"] = ()
        if self.__dict__["_unbounded"]:
            resolved.validate()  # a normal draw can leave the range validate() accepts
        return resolved

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue  # an omitted optional parameter (None is every optional default)
            if isinstance(value, RandomValue):
                value = value.to_wire()
            elif isinstance(value, tuple):
                value = list(value)
            data[f.name] = value
        return data

    @classmethod
    def parameters(cls) -> dict[str, str]:
        """Parameter name -> what it accepts (for errors and ``driftgym list``)."""
        return {f.name: _describe(_hints(cls)[f.name]) for f in dataclasses.fields(cls) if f.name != "pick"}

    @classmethod
    def required(cls) -> list[str]:
        return [
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f in dataclasses.fields(self):
            given = value = getattr(self, f.name)
            if isinstance(value, dict) and value and set(value) <= set(_RANDOM_FORMS):
                value = RandomValue.from_wire(value, f.name)
            coerced = _coerce(self.kind, f.name, hints[f.name], value, True)
            if coerced is not given:
                object.__setattr__(self, f.name, coerced)
        undrawn = tuple(
            (f.name, getattr(self, f.name), _converter(self.kind, f.name, hints[f.name], getattr(self, f.name)))
            for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), RandomValue)
        )
        object.__setattr__(self, "_random_fields", undrawn)
        object.__setattr__(self, "_unbounded", any(value.form == "normal" for _, value, _ in undrawn))
        object.__setattr__(self, "_random", bool(undrawn) or self._target_undrawn())
        for example in self._examples():
            example.validate()

    def _examples(self) -> list[Perturbation]:
        """This perturbation, or for random parameters the values at the ends of their ranges
        (every option of a choice), so ``validate`` checks what the draws can produce."""
        fields = self.__dict__["_random_fields"]
        if not fields:
            return [self]
        base = {name: convert(_extremes(value)[0]) for name, value, convert in fields}
        examples = []
        for name, value, convert in fields:
            for extreme in _extremes(value):
                example = object.__new__(type(self))
                example.__dict__.update(self.__dict__)
                example.__dict__.update(base)
                example.__dict__[name] = convert(extreme)
                examples.append(example)
        return examples

    def validate(self) -> None:
        """Cross-parameter checks of a kind (e.g. ``min <= max``); raise PerturbationError."""


def register_kind(cls: type[Perturbation]) -> type[Perturbation]:
    """Class decorator: make a kind constructible by name."""
    if not cls.kind or not cls.world:
        raise TypeError(f"{cls.__name__} must set the class attributes kind and world")
    if cls.kind in _KINDS and _KINDS[cls.kind] is not cls:
        raise TypeError(f"perturbation kind {cls.kind!r} is registered twice")
    _KINDS[cls.kind] = cls
    return cls


def kinds(world: str | None = None) -> dict[str, type[Perturbation]]:
    """Registered kinds by name (sorted), optionally only those acting on one world."""
    return {k: c for k, c in sorted(_KINDS.items()) if world is None or c.world == world}


def kind_names(world: str | None = None) -> list[str]:
    return list(kinds(world))


def perturbation_from_dict(data: Any, where: str = "perturb") -> Perturbation:
    """Build a kind from its plain-dict form, with errors that name the key and what is allowed."""
    if isinstance(data, Perturbation):
        return data
    if not isinstance(data, dict):
        raise PerturbationError(f"{where}: a perturbation is a mapping with a 'kind' (got {data!r})")
    if "kind" not in data:
        raise PerturbationError(f"{where}: missing 'kind'; known kinds: {', '.join(kind_names())}")
    name = data["kind"]
    if not isinstance(name, str) or name not in _KINDS:
        raise PerturbationError(
            f"{where}.kind: unknown perturbation kind {name!r}{suggest(str(name), _KINDS)} "
            f"known kinds: {', '.join(kind_names())}"
        )
    cls = _KINDS[name]
    params = {k: v for k, v in data.items() if k != "kind"}
    accepted = [f.name for f in dataclasses.fields(cls)]
    for key in params:
        if key not in accepted:
            shown = [a for a in accepted if a != "pick"]
            raise PerturbationError(
                f"{where}.{key}: {name} has no parameter {key!r}{suggest(key, shown)} "
                f"accepted: {', '.join(shown) or 'none'}"
            )
    for key in cls.required():
        if key not in params:
            raise PerturbationError(
                f"{where}.{key}: {name} needs parameter {key!r} ({cls.parameters()[key]})"
            )
    try:
        return cls(**params)
    except PerturbationError as error:
        raise PerturbationError(f"{where}.{error}") from None


# --------------------------------------------------------------------------- parameter checking

_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


def _options(hint: Any) -> tuple[Any, ...]:
    if get_origin(hint) in (Union, types.UnionType):
        return get_args(hint)
    return (hint,)


def _describe(hint: Any) -> str:
    parts = []
    for option in _options(hint):
        if option is type(None):
            parts.append("omitted")
        elif option is float:
            parts.append("a number")
        elif option is int:
            parts.append("a whole number")
        elif option is str:
            parts.append("a name")
        elif option is bool:
            parts.append("true or false")
        elif get_origin(option) is Literal:
            parts.append("one of " + ", ".join(repr(a) for a in get_args(option)))
        elif get_origin(option) is tuple:
            parts.append(f"a list of {_describe(get_args(option)[0])}s")
        else:
            parts.append(str(option))
    return " or ".join(parts)


def _extremes(random: RandomValue) -> tuple:
    if random.form == "choice":
        return tuple(list(v) if isinstance(v, tuple) else v for v in random.args)
    if random.form == "normal":
        return (random.args[0],)
    low, high = random.args
    if random.form == "uniform" and high > low:
        return low, math.nextafter(high, low)  # a uniform draw stays below its high end
    return low, high


def _converter(kind: str, name: str, hint: Any, random: RandomValue) -> Any:
    """How a drawn value becomes the parameter's type; a choice's options are checked now."""
    if random.form == "choice":
        for option in random.args:
            _coerce(kind, name, hint, option, False)
        return lambda value: _coerce(kind, name, hint, value, False)
    if float in _options(hint):
        return float
    if int in _options(hint) and random.form == "integers":
        return int
    raise PerturbationError(f"{name}: {kind} parameter {name!r} must be {_describe(hint)}; it cannot be {random.form}")


def _coerce(kind: str, name: str, hint: Any, value: Any, allow_random: bool) -> Any:
    """``value`` converted to the parameter's type, or a PerturbationError naming it."""
    options = _options(hint)
    if value is None and type(None) in options:
        return None
    if isinstance(value, RandomValue):
        if allow_random and any(o in (float, int, str) or get_origin(o) is Literal for o in options):
            return value
        raise PerturbationError(f"{name}: {kind} parameter {name!r} cannot be random")
    for option in options:
        if option is float and _is_number(value):
            return float(value)
        if option is float and isinstance(value, float) and math.isinf(value):
            return value
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if option is int and isinstance(value, float) and value.is_integer():
            return int(value)
        if option is str and isinstance(value, str):
            return value
        if option is bool and isinstance(value, bool):
            return value
        if get_origin(option) is Literal and value in get_args(option):
            return value
        if get_origin(option) is tuple and isinstance(value, (list, tuple)):
            item = get_args(option)[0]
            return tuple(_coerce(kind, name, item, v, False) for v in value)
    raise PerturbationError(
        f"{name}: {kind} parameter {name!r} must be {_describe(hint)} (got {value!r})"
    )
