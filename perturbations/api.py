"""HTTP API kinds: drift the schema, routes, limits and credentials of ``driftgym/HttpApi-v0``.

They act on an *api world* (``world = "api"``) through its public mutation methods
(``rename_field``, ``set_field_type``, ``relocate``, ``bump_version``, ``set_rate_limit``,
``add_latency_spike``/``remove_latency_spike``, ``add_error_rate``/``remove_error_rate``,
``rotate_credentials``, ``set_page_size``, ``write_record``). Fields are named by their field id
(their original name, the identity used in fact keys), not by their current public name.

=======================  ==================================================================================
kind                     effect (on the latest API version; ``collection`` omitted: drawn from the seed)
=======================  ==================================================================================
``rename_field``         the field gets a new public name (``to``; default ``amount -> total`` etc.)
``change_field_type``    a money field switches integer cents <-> decimal string ``"12.34"`` (``to``)
``move_endpoint``        the collection's route moves; the old path answers 301 with ``Location``
``remove_endpoint``      the collection's route moves; the old path answers 410 with the successor
``version_bump``         new version ``/v{n+1}/...`` (one field renamed per collection); the old one is
                         deprecated (``Deprecation``, ``Sunset``, ``Link`` headers), 410 after ``sunset_after``
``rate_limit``           token bucket of ``limit`` requests per ``window`` steps (reverts in a window)
``latency_spike``        latency times ``factor`` for ``duration`` steps (transient)
``error_burst``          each request fails with 500 with probability ``rate`` for ``duration`` steps
``rotate_credentials``   the bearer token stops working (401) until the client authenticates again
``change_page_size``     list endpoints return ``size`` records per page (reverts in a window)
``mutate_records``       third-party writers set ``count`` random fields of random records of a collection
=======================  ==================================================================================

With ``collection`` omitted, ``rename_field`` and ``change_field_type`` draw a (collection, field)
pair; with a named collection and no ``field``, they take the collection's first field in sorted
order (``change_field_type``: its first money field).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from driftgym.perturbations.core import Perturbation, PerturbationError, pick_sorted, register_kind

__all__ = [
    "ChangeFieldType",
    "ChangePageSize",
    "ErrorBurst",
    "LatencySpike",
    "MoveEndpoint",
    "MutateRecords",
    "RateLimit",
    "RemoveEndpoint",
    "RenameField",
    "RotateCredentials",
    "VersionBump",
]


def _check_path(kind: str, name: str, path: str | None) -> None:
    if path is None:
        return
    last = path.rstrip("/").rpartition("/")[2]
    if not path.startswith("/") or "?" in path or path.endswith("/") or not last or last.isdigit():
        raise PerturbationError(
            f"{name}: {kind} needs a path like '/v1/accounts' (starts with '/', no query, "
            f"last segment not a number) (got {path!r})"
        )


@dataclass(frozen=True)
class ApiKind(Perturbation):
    world = "api"

    def _collection(self, world: Any) -> str:
        named = getattr(self, "collection", None)
        if named is not None:
            return world.check_collection(named)
        return self.target(world.collection_names())

    def _field_pair(self, world: Any, money_only: bool) -> tuple[str, str]:
        if self.collection is None:
            pair = pick_sorted(world.field_pairs(money_only), self.pick or 0.0)
            collection, _, field = pair.partition(".")
            return collection, field
        collection = world.check_collection(self.collection)
        if self.field is not None:
            return collection, world.check_field(collection, self.field)
        fields = [p.partition(".")[2] for p in world.field_pairs(money_only) if p.partition(".")[0] == collection]
        return collection, sorted(fields)[0] if fields else ""


@register_kind
@dataclass(frozen=True)
class RenameField(ApiKind):
    kind = "rename_field"
    target_field = "collection"
    summary = "rename a field of a collection's schema (latest version)"
    collection: str | None = None
    field: str | None = None
    to: str | None = None
    pick: float | None = None

    def change(self, world, rng, step):
        collection, field = self._field_pair(world, money_only=False)
        before, after = world.rename_field(collection, field, self.to)
        return f"{collection}.{field}", before, after

    def revert(self, world, target, before, step):
        collection, _, field = target.partition(".")
        now, after = world.rename_field(collection, field, before)
        return target, now, after


@register_kind
@dataclass(frozen=True)
class ChangeFieldType(ApiKind):
    kind = "change_field_type"
    target_field = "collection"
    summary = "switch a money field between integer cents and a decimal string"
    collection: str | None = None
    field: str | None = None
    to: Literal["integer", "decimal"] | None = None
    pick: float | None = None

    def change(self, world, rng, step):
        collection, field = self._field_pair(world, money_only=True)
        before, after = world.set_field_type(collection, field, self.to)
        return f"{collection}.{field}", before, after

    def revert(self, world, target, before, step):
        collection, _, field = target.partition(".")
        now, after = world.set_field_type(collection, field, before)
        return target, now, after


@register_kind
@dataclass(frozen=True)
class MoveEndpoint(ApiKind):
    kind = "move_endpoint"
    target_field = "collection"
    summary = "move a collection's route; the old path answers 301 with Location"
    collection: str | None = None
    to: str | None = None
    pick: float | None = None

    def validate(self) -> None:
        _check_path(self.kind, "to", self.to)

    def change(self, world, rng, step):
        collection = self._collection(world)
        before, after = world.relocate(collection, self.to, gone=False)
        return collection, before, after


@register_kind
@dataclass(frozen=True)
class RemoveEndpoint(ApiKind):
    kind = "remove_endpoint"
    target_field = "collection"
    summary = "remove a collection's route; it answers 410 with the successor in the body"
    collection: str | None = None
    successor: str | None = None
    pick: float | None = None

    def validate(self) -> None:
        _check_path(self.kind, "successor", self.successor)

    def change(self, world, rng, step):
        collection = self._collection(world)
        before, after = world.relocate(collection, self.successor, gone=True)
        return collection, before, after


@register_kind
@dataclass(frozen=True)
class VersionBump(ApiKind):
    kind = "version_bump"
    target_field = "field"
    summary = "publish a new API version (a field renamed per collection); deprecate, later remove, the old"
    sunset_after: int = 50
    field: str | None = None
    rename: bool = True
    pick: float | None = None

    def validate(self) -> None:
        if self.sunset_after < 1:
            raise PerturbationError(f"sunset_after: version_bump needs sunset_after >= 1 (got {self.sunset_after})")

    def change(self, world, rng, step):
        before, after = world.bump_version(step, self.sunset_after, self.field, self.pick or 0.0, self.rename)
        return "version", before, after


@register_kind
@dataclass(frozen=True)
class RateLimit(ApiKind):
    kind = "rate_limit"
    summary = "token bucket: limit requests per window steps (429 with Retry-After beyond)"
    limit: int
    window: int = 1

    def validate(self) -> None:
        if self.limit < 1 or self.window < 1:
            raise PerturbationError(f"limit: rate_limit needs limit >= 1 and window >= 1 (got {self.limit}, {self.window})")

    def change(self, world, rng, step):
        return "rate_limit", world.set_rate_limit(self.limit, self.window), [self.limit, self.window]

    def revert(self, world, target, before, step):
        return target, world.set_rate_limit(*before), list(before)


@register_kind
@dataclass(frozen=True)
class LatencySpike(ApiKind):
    kind = "latency_spike"
    transient = True
    summary = "multiply latency by factor for duration steps"
    factor: float
    duration: int

    def validate(self) -> None:
        if self.factor <= 0 or self.duration < 1:
            raise PerturbationError(f"factor: latency_spike needs factor > 0 and duration >= 1 (got {self.factor}, {self.duration})")

    def change(self, world, rng, step):
        before = world.latency_factor
        world.add_latency_spike(self.factor)
        return "latency", before, world.latency_factor

    def revert(self, world, target, before, step):
        now = world.latency_factor
        world.remove_latency_spike(self.factor)
        return target, now, world.latency_factor


@register_kind
@dataclass(frozen=True)
class ErrorBurst(ApiKind):
    kind = "error_burst"
    transient = True
    summary = "each request fails with 500 with probability rate, for duration steps"
    rate: float
    duration: int

    def validate(self) -> None:
        if not 0.0 <= self.rate <= 1.0 or self.duration < 1:
            raise PerturbationError(f"rate: error_burst needs 0 <= rate <= 1 and duration >= 1 (got {self.rate}, {self.duration})")

    def change(self, world, rng, step):
        before = world.error_rate
        world.add_error_rate(self.rate)
        return "errors", before, world.error_rate

    def revert(self, world, target, before, step):
        now = world.error_rate
        world.remove_error_rate(self.rate)
        return target, now, world.error_rate


@register_kind
@dataclass(frozen=True)
class RotateCredentials(ApiKind):
    kind = "rotate_credentials"
    summary = "invalidate the bearer token: 401 until the client authenticates again"

    def change(self, world, rng, step):
        before, after = world.rotate_credentials()
        return "credentials", before, after


@register_kind
@dataclass(frozen=True)
class ChangePageSize(ApiKind):
    kind = "change_page_size"
    summary = "list endpoints return size records per page"
    size: int

    def validate(self) -> None:
        if self.size < 1:
            raise PerturbationError(f"size: change_page_size needs size >= 1 (got {self.size})")

    def change(self, world, rng, step):
        return "page_size", world.set_page_size(self.size), self.size

    def revert(self, world, target, before, step):
        return target, world.set_page_size(before), before


@register_kind
@dataclass(frozen=True)
class MutateRecords(ApiKind):
    kind = "mutate_records"
    target_field = "collection"
    draws = True
    summary = "third-party writers change count random fields of random records of a collection"
    collection: str | None = None
    count: int = 5
    pick: float | None = None

    def validate(self) -> None:
        if self.count < 1:
            raise PerturbationError(f"count: mutate_records needs count >= 1 (got {self.count})")

    def change(self, world, rng, step):
        collection = self._collection(world)
        fields = world.slots[collection]
        before, after = [], []
        for _ in range(self.count):  # three draws per write, always
            record = min(int(rng.random() * world.n_records), world.n_records - 1)
            field = fields[min(int(rng.random() * len(fields)), len(fields) - 1)]
            value = min(int(rng.random() * world.field_modulus(field)), world.field_modulus(field) - 1)
            before.append([record, field, world.write_record(collection, record, field, value)])
            after.append([record, field, value])
        return collection, before, after

    def revert(self, world, target, before, step):
        now = []
        for record, field, value in reversed(before):
            now.append([record, field, world.write_record(target, record, field, value)])
        return target, now[::-1], before
