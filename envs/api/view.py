"""`ClientView`: what the integration client has learned of the API through its own requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from driftgym.envs.api.schema import type_of_schema
from driftgym.envs.api.world import ApiWorld

__all__ = ["ClientView"]


@dataclass
class ClientView:
    """The client's beliefs: per collection the route and field names/types it last learned (and
    when), the last ``Location``/successor it saw and has not followed, its token and whether it
    still worked, the page size, the rate-limit policy, a live ``Retry-After`` and the record
    values it last read. It starts as the client was written: against the initial API."""

    routes: dict[str, str]
    names: dict[str, dict[str, str]]
    types: dict[str, dict[str, str]]
    token: str
    page_size: int
    learned_at: dict[str, int] = field(default_factory=dict)
    hints: dict[str, str] = field(default_factory=dict)
    token_ok: bool = True
    rate_limit: list[int] | None = None
    rate_policy: str = ""
    retry_until: int = 0
    records: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of_initial(cls, world: ApiWorld) -> ClientView:
        first = world.versions[0]
        return cls(dict(first.routes), {c: dict(n) for c, n in first.names.items()},
                   {c: dict(t) for c, t in first.types.items()}, world.issued_token, world.page_size)

    def schema_age(self, collection: str, now: int) -> int:
        return now - self.learned_at.get(collection, 0)

    def learn_schema(self, document: dict[str, Any], collection: str | None, now: int) -> None:
        """Read the OpenAPI document: the page size, and the collection's route, names and types."""
        self.page_size = int(document.get("x-page-size", self.page_size))
        entry = document.get("x-collections", {}).get(collection) if collection is not None else None
        if entry is None:
            return
        schema = document["components"]["schemas"][entry["schema"]]
        for name, prop in schema["properties"].items():
            field_id = prop.get("x-field-id")
            if field_id in self.names[collection]:
                self.names[collection][field_id] = name
                self.types[collection][field_id] = type_of_schema(prop)
        self.routes[collection] = entry["path"]
        self.learned_at[collection] = now
        self.hints.pop(collection, None)

    def learn_policy(self, policy: str | None) -> None:
        if policy and policy != self.rate_policy:
            limit, _, window = policy.partition(";w=")
            self.rate_policy, self.rate_limit = policy, [int(limit), int(window)]

    def facts(self, slots: dict[str, tuple[str, ...]]) -> dict[str, Any]:
        """The facts this view implies (same keys as ``ApiWorld.facts``, only those it has an opinion on)."""
        out: dict[str, Any] = {}
        for c, route in self.routes.items():
            out[f"api:{c}:route"] = route
            for f in slots[c]:
                out[f"api:{c}.{f}:name"] = self.names[c][f]
                out[f"api:{c}.{f}:type"] = self.types[c][f]
        out["api:auth_valid"] = self.token_ok
        if self.rate_limit is not None:
            out["api:rate_limit"] = list(self.rate_limit)
        out["api:page_size"] = self.page_size
        for key, value in self.records.items():
            out[f"record:{key}"] = value
        return out
