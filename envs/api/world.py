"""`ApiWorld`: a versioned REST service held in memory, answering ``handle(Request) -> Response``.

Ground truth of ``driftgym/HttpApi-v0``. Collections of records with typed fields, one schema and
one set of routes per API version, a token-bucket rate limiter, bearer tokens that rotate, an
injected 5xx mode, simulated latency, a page size, and the public mutation methods the kinds of
:mod:`driftgym.perturbations.api` call. Time is virtual: ``now`` is the env step, set by the env.
Field types and `Version` live in schema.py, the published OpenAPI document in openapi.py.

Order of checks in ``handle``: rate limit (429) -> injected errors (500) -> ``/openapi.json`` and
``/auth/token`` -> routing (404, 301, 410) -> bearer token (401) -> method (405) -> record (404)
-> body (400, 422) -> 200. Every request costs O(1) (or O(page size)) whatever the world's size.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np

from driftgym.envs.api.http import Request, Response, http_date, http_violations, split_path
from driftgym.envs.api.openapi import OpenApiPublisher
from driftgym.envs.api.schema import (CLIENT_ID, CLIENT_SECRET, ENUMS, FIELDS, FIELDS_PER_COLLECTION, OPTIONAL_FIELDS,
                                      RENAMES, Version, initial_type, make_collection_names, parse_value, present_value)
from driftgym.envs.api.schema import DECIMAL, type_of_schema  # noqa: F401  (re-exported: envs/text/api.py, tests)
from driftgym.envs.base import World
from driftgym.perturbations import PerturbationError, suggest

__all__ = ["ApiWorld", "CLIENT_ID", "CLIENT_SECRET", "FIELDS", "Version", "parse_value", "present_value"]


class ApiWorld(OpenApiPublisher, World):
    """The simulated service. Build it with a generator (the world stream); set ``now`` each step
    and ``rng`` to the dynamics stream (latency jitter and injected 5xx draw from it)."""

    kind = "api"

    def __init__(self, rng: np.random.Generator, n_collections: int = 4, n_records: int = 50,
                 page_size: int = 10, rate_limit: tuple[int, int] = (30, 10), base_latency_ms: float = 40.0) -> None:
        self.collections = make_collection_names(n_collections)
        self.index = {c: i for i, c in enumerate(self.collections)}
        self.n_records = n_records
        self.slots: dict[str, tuple[str, ...]] = {}
        for c in self.collections:
            extra = rng.choice(len(OPTIONAL_FIELDS), FIELDS_PER_COLLECTION - 1, replace=False)
            self.slots[c] = ("amount", *sorted(OPTIONAL_FIELDS[int(i)] for i in extra))
        moduli = np.array([[FIELDS[f][1] for f in self.slots[c]] for c in self.collections], np.int64)
        self.values = rng.integers(0, 10**9, size=(n_collections, FIELDS_PER_COLLECTION, n_records)) % moduli[:, :, None]
        self.initial_values = hashlib.sha256(self.values.tobytes()).hexdigest()
        self.writes: dict[str, Any] = {}
        first = Version(1, {c: f"/v1/{c}" for c in self.collections},
                        {c: {f: f for f in self.slots[c]} for c in self.collections},
                        {c: {f: initial_type(f) for f in self.slots[c]} for c in self.collections})
        self.versions: list[Version] = [first]
        self.bases: dict[str, tuple] = {path: ("live", 1, c) for c, path in first.routes.items()}
        self.page_size = page_size
        self.rate_limit = (int(rate_limit[0]), int(rate_limit[1]))
        self.tokens = float(self.rate_limit[0])
        self.stamp = 0
        self.credential_generation = 0
        self.issued_token = self.valid_token = "tok-0"
        self.latency_spikes: list[float] = []
        self.error_rates: list[float] = []
        self.base_latency_ms = base_latency_ms
        self.route_changes = 0
        self.now = 0
        self.rng = np.random.default_rng(rng.integers(2**63))
        self._refresh_derived()
        self._doc: dict[str, Any] | None = None  # the OpenAPI document, built on first request
        self._published: list[int] = []
        self._pairs: dict[bool, list[str]] = {}
        self.openapi()  # built with the world (O(size)), then kept up to date in O(1) per change

    # ----------------------------------------------------------------- derived, cached values
    def _refresh_derived(self) -> None:
        self.latency_factor = math.prod(self.latency_spikes) if self.latency_spikes else 1.0
        self.error_rate = 1.0 - math.prod(1.0 - r for r in self.error_rates) if self.error_rates else 0.0
        self._bearer = f"Bearer {self.valid_token}"
        self._common = {"Content-Type": "application/json", "RateLimit-Policy": f"{self.rate_limit[0]};w={self.rate_limit[1]}"}

    @property
    def latest(self) -> Version:
        return self.versions[-1]

    # ----------------------------------------------------------------- the handler
    def handle(self, request: Request) -> Response:
        latency = self.base_latency_ms * self.latency_factor * (0.5 + self.rng.random())
        retry = self._take_token(self.now)
        if retry:
            return self._respond(429, {"error": "rate_limited", "retry_after": retry}, latency, {"Retry-After": str(retry)})
        if self.error_rate and self.rng.random() < self.error_rate:
            return self._respond(500, {"error": "internal_error"}, latency)
        path = request.path
        if path == "/openapi.json":
            if request.method != "GET":
                return self._respond(405, {"error": "method_not_allowed"}, latency, {"Allow": "GET"})
            return self._respond(200, self.openapi(), latency)
        if path == "/auth/token":
            return self._authenticate(request, latency)
        base, record_id = split_path(path)
        entry = self.bases.get(base)
        if entry is None:
            return self._respond(404, {"error": "not_found", "path": path}, latency)
        if entry[0] == "moved":
            return self._respond(301, {"error": "moved"}, latency, {"Location": self._location(entry[1], record_id, request.query)})
        if entry[0] == "gone":
            return self._respond(410, {"error": "gone", "successor": entry[1]}, latency)
        version, collection = self.versions[entry[1] - 1], entry[2]
        if version.gone(self.now):
            return self._respond(410, {"error": "gone", "successor": self.latest.routes[collection]}, latency)
        if request.headers.get("Authorization") != self._bearer:
            challenge = 'Bearer error="invalid_token"' if "Authorization" in request.headers else "Bearer"
            return self._respond(401, {"error": "unauthorized"}, latency, {"WWW-Authenticate": challenge})
        extra = self._deprecation(version, collection)
        if record_id is None:
            if request.method != "GET":
                return self._respond(405, {"error": "method_not_allowed"}, latency, {"Allow": "GET", **extra})
            return self._list(version, collection, request.query, latency, extra)
        if request.method not in ("GET", "PATCH"):
            return self._respond(405, {"error": "method_not_allowed"}, latency, {"Allow": "GET, PATCH", **extra})
        if record_id >= self.n_records:
            return self._respond(404, {"error": "not_found", "path": path}, latency, extra)
        if request.method == "PATCH":
            return self._patch(version, collection, record_id, request.body, latency, extra)
        return self._respond(200, self.record(version, collection, record_id), latency, extra)

    def _respond(self, status: int, body: Any, latency: float, headers: dict[str, str] | None = None) -> Response:
        merged = dict(self._common)
        if headers:
            merged.update(headers)
        return Response(status, merged, body, latency)

    def _take_token(self, now: int) -> int:
        """Token bucket: ``limit`` requests per ``window`` steps; the steps to wait, or 0 if served."""
        limit, window = self.rate_limit
        rate = limit / window
        tokens = min(float(limit), self.tokens + max(0, now - self.stamp) * rate)
        self.stamp = max(self.stamp, now)
        if tokens >= 1.0:
            self.tokens = tokens - 1.0
            return 0
        self.tokens = tokens
        return max(1, math.ceil((1.0 - tokens) / rate))

    def _authenticate(self, request: Request, latency: float) -> Response:
        if request.method != "POST":
            return self._respond(405, {"error": "method_not_allowed"}, latency, {"Allow": "POST"})
        body = request.body if isinstance(request.body, dict) else {}
        if body.get("client_id") != CLIENT_ID or body.get("client_secret") != CLIENT_SECRET:
            return self._respond(400, {"error": "invalid_client"}, latency)
        self.issued_token = self.valid_token
        return self._respond(200, {"access_token": self.valid_token, "token_type": "Bearer"}, latency)

    def _location(self, target: str, record_id: int | None, query: dict[str, str]) -> str:
        for _ in range(64):  # follow a chain of moves to its end
            entry = self.bases.get(target)
            if entry is None or entry[0] != "moved":
                break
            target = entry[1]
        location = target + (f"/{record_id}" if record_id is not None else "")
        if query:
            location += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        return location

    def _deprecation(self, version: Version, collection: str) -> dict[str, str]:
        if version.deprecated_at is None:
            return {}
        return {"Deprecation": f"@{version.deprecated_at}", "Sunset": http_date(version.sunset_at),
                "Link": f'<{self.latest.routes[collection]}>; rel="successor-version"'}

    def record(self, version: Version, collection: str, record_id: int) -> dict[str, Any]:
        """One record as ``version`` presents it."""
        values = self.values[self.index[collection], :, record_id].tolist()
        return self._present(version, collection, record_id, values)

    def _present(self, version: Version, collection: str, record_id: int, values: list[int]) -> dict[str, Any]:
        names, types = version.names[collection], version.types[collection]
        body: dict[str, Any] = {"id": record_id}
        for field_id, value in zip(self.slots[collection], values):
            body[names[field_id]] = present_value(types[field_id], value, field_id)
        return body

    def _list(self, version: Version, collection: str, query: dict[str, str], latency: float, extra: dict[str, str]) -> Response:
        page_text = query.get("page", "0")
        if not page_text.isdigit():
            return self._respond(400, {"error": "bad_request", "detail": "page must be a whole number"}, latency, extra)
        page, size = int(page_text), self.page_size
        start, stop = min(page * size, self.n_records), min((page + 1) * size, self.n_records)
        rows = self.values[self.index[collection], :, start:stop].T.tolist()
        items = [self._present(version, collection, start + i, row) for i, row in enumerate(rows)]
        base = version.routes[collection]
        body = {"items": items, "page": page, "page_size": size, "total": self.n_records,
                "next": f"{base}?page={page + 1}" if stop < self.n_records else None}
        return self._respond(200, body, latency + 0.5 * len(items), extra)

    def _patch(self, version: Version, collection: str, record_id: int, body: Any, latency: float, extra: dict[str, str]) -> Response:
        if not isinstance(body, dict) or not body:
            return self._respond(400, {"error": "bad_request", "detail": "body must be a non-empty JSON object"}, latency, extra)
        by_name, types = version.by_name[collection], version.types[collection]
        updates = []
        for name, raw in body.items():
            field_id = by_name.get(name)
            if field_id is None:
                return self._respond(422, {"error": "unknown_field", "field": name}, latency, extra)
            value = parse_value(types[field_id], raw, field_id)
            if value is None:
                return self._respond(422, {"error": "invalid_type", "field": name, "expected": types[field_id]}, latency, extra)
            updates.append((field_id, value))
        for field_id, value in updates:
            self.write_record(collection, record_id, field_id, value)
        return self._respond(200, self.record(version, collection, record_id), latency, extra)

    # ----------------------------------------------------------------- HTTP semantics, for tests
    def http_violations(self, response: Response) -> list[str]:
        """What in ``response`` breaks HTTP semantics (or this simulator's promises); [] if nothing."""
        return http_violations(response, bool(self.error_rate))

    # ----------------------------------------------------------------- mutation methods (the kinds')
    def collection_names(self) -> list[str]:
        return self.collections

    def check_collection(self, collection: str) -> str:
        if collection not in self.index:
            raise PerturbationError(f"collection: no collection {collection!r}{suggest(collection, self.collections)} "
                                    f"collections: {', '.join(self.collections[:20])}")
        return collection

    def check_field(self, collection: str, field_id: str) -> str:
        fields = self.slots[self.check_collection(collection)]
        if field_id not in fields:
            raise PerturbationError(f"field: {collection} has no field {field_id!r}{suggest(field_id, fields)} "
                                    f"fields: {', '.join(fields)}")
        return field_id

    def field_pairs(self, money_only: bool = False) -> list[str]:
        """``"collection.field"`` for every field (money fields only), in sorted order."""
        if money_only not in self._pairs:
            self._pairs[money_only] = self._field_pairs(money_only)
        return self._pairs[money_only]

    def _field_pairs(self, money_only: bool) -> list[str]:
        return sorted(f"{c}.{f}" for c in self.collections for f in self.slots[c] if not money_only or FIELDS[f][0] == "money")

    def rename_field(self, collection: str, field_id: str, to: str | None = None) -> tuple[str, str]:
        return self._rename(self.latest, collection, self.check_field(collection, field_id), to)

    def _rename(self, version: Version, collection: str, field_id: str, to: str | None, publish: bool = True) -> tuple[str, str]:
        before = version.names[collection][field_id]
        taken = set(version.by_name[collection]) | {"id"}
        after = to if to is not None and to != before else (RENAMES[field_id] if before == field_id else f"{field_id}_{version.number}")
        suffix = 2
        while after in taken and after != before:
            after, suffix = f"{field_id}_{suffix}", suffix + 1
        del version.by_name[collection][before]
        version.names[collection][field_id] = after
        version.by_name[collection][after] = field_id
        if publish:
            self._publish(version, collection)
        return before, after

    def set_field_type(self, collection: str, field_id: str, to: str | None = None) -> tuple[str, str]:
        self.check_field(collection, field_id)
        if FIELDS[field_id][0] != "money":
            raise PerturbationError(f"field: change_field_type acts on money fields (amount, price), not {field_id!r}")
        types = self.latest.types[collection]
        before = types[field_id]
        types[field_id] = to if to is not None else ("decimal" if before == "integer" else "integer")
        self._publish(self.latest, collection)
        return before, types[field_id]

    def _fresh_path(self, path: str) -> str:
        candidate, suffix = path, 1
        while candidate in self.bases:
            candidate, suffix = f"{path}-{suffix}", suffix + 1
        return candidate

    def relocate(self, collection: str, to: str | None = None, gone: bool = False) -> tuple[str, str]:
        """Move the collection's route in the latest version: the old one answers 301 (or 410 if ``gone``)."""
        latest = self.latest
        before = latest.routes[self.check_collection(collection)]
        self.route_changes += 1
        after = self._fresh_path(to if to is not None else f"/v{latest.number}/{collection}-{self.route_changes}")
        self.bases[before] = ("gone" if gone else "moved", after)
        self.bases[after] = ("live", latest.number, collection)
        latest.routes[collection] = after
        self._unpublish(latest, collection, before)
        self._publish(latest, collection)
        return before, after

    def bump_version(self, step: int, sunset_after: int, field_id: str | None, pick: float, rename: bool = True) -> tuple[int, int]:
        """A new version with fresh routes (and one renamed field per collection); the old one
        deprecated now and removed ``sunset_after`` steps later."""
        old = self.latest
        number = old.number + 1
        routes = {c: self._fresh_path(f"/v{number}/{c}") for c in self.collections}
        new = Version(number, routes, {c: dict(n) for c, n in old.names.items()}, {c: dict(t) for c, t in old.types.items()})
        if rename:
            for c in self.collections:
                fields = sorted(self.slots[c])
                chosen = field_id if field_id is not None else fields[min(int(pick * len(fields)), len(fields) - 1)]
                if chosen in self.slots[c]:
                    self._rename(new, c, chosen, None, publish=False)
        if old.deprecated_at is None:
            old.deprecated_at, old.sunset_at = step, step + sunset_after
        self.versions.append(new)
        for c, path in routes.items():
            self.bases[path] = ("live", number, c)
        self._publish_version(old, new)
        return old.number, number

    def set_rate_limit(self, limit: int, window: int) -> list[int]:
        before = list(self.rate_limit)
        self.rate_limit = (limit, window)
        self.tokens = min(self.tokens, float(limit))
        self._refresh_derived()
        return before

    def add_latency_spike(self, factor: float) -> None:
        self.latency_spikes.append(factor)
        self._refresh_derived()

    def remove_latency_spike(self, factor: float) -> None:
        self.latency_spikes.remove(factor)
        self._refresh_derived()

    def add_error_rate(self, rate: float) -> None:
        self.error_rates.append(rate)
        self._refresh_derived()

    def remove_error_rate(self, rate: float) -> None:
        self.error_rates.remove(rate)
        self._refresh_derived()

    def rotate_credentials(self) -> tuple[int, int]:
        self.credential_generation += 1
        self.valid_token = f"tok-{self.credential_generation}"
        self._refresh_derived()
        return self.credential_generation - 1, self.credential_generation

    def set_page_size(self, size: int) -> int:
        before, self.page_size = self.page_size, size
        return before

    def field_modulus(self, field_id: str) -> int:
        return FIELDS[field_id][1]

    def write_record(self, collection: str, record_id: int, field_id: str, value: int) -> int:
        """Set a stored value (a third-party writer or a PATCH); returns the value it replaced."""
        slot = self.slots[collection].index(field_id)
        ci = self.index[collection]
        before = int(self.values[ci, slot, record_id])
        self.values[ci, slot, record_id] = value
        self.writes[f"{collection}/{record_id}.{field_id}"] = value
        return before

    def stored_value(self, collection: str, record_id: int, field_id: str) -> Any:
        """The canonical value of a field: integer cents / count, or the enum string."""
        value = int(self.values[self.index[collection], self.slots[collection].index(field_id), record_id])
        return ENUMS[field_id][value] if field_id in ENUMS else value

    # ----------------------------------------------------------------- World
    def facts(self) -> dict[str, Any]:
        latest, out = self.latest, {}
        for c in self.collections:
            out[f"api:{c}:route"] = latest.routes[c]
            for f in self.slots[c]:
                out[f"api:{c}.{f}:name"] = latest.names[c][f]
                out[f"api:{c}.{f}:type"] = latest.types[c][f]
        out["api:auth_valid"] = self.issued_token == self.valid_token
        out["api:rate_limit"] = list(self.rate_limit)
        out["api:page_size"] = self.page_size
        out["api:version"] = latest.number
        for ci, c in enumerate(self.collections):
            for slot, f in enumerate(self.slots[c]):
                enum = ENUMS.get(f)
                for r, value in enumerate(self.values[ci, slot].tolist()):
                    out[f"record:{c}/{r}.{f}"] = enum[value] if enum else value
        return out

    def state_dict(self) -> dict[str, Any]:
        return {
            "now": self.now, "collections": self.slots, "n_records": self.n_records,
            "versions": [v.state() for v in self.versions], "bases": sorted([k, list(v)] for k, v in self.bases.items()),
            "page_size": self.page_size, "rate_limit": list(self.rate_limit), "tokens": self.tokens, "stamp": self.stamp,
            "credential_generation": self.credential_generation, "issued_token": self.issued_token,
            "latency_spikes": self.latency_spikes, "error_rates": self.error_rates, "route_changes": self.route_changes,
            "records": {"initial": self.initial_values, "writes": self.writes},
        }
