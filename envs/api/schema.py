"""The data model of the simulated API: field domains and types, their JSON forms, and `Version`.

A record's fields have a fixed logical id (``amount``, ``status``...) and a stored integer; each API
version gives every field a public name and a type (``integer``, ``decimal`` or ``string``) that
decide how the value is presented and parsed. Pure values and functions: no world state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "DECIMAL", "ENUMS", "FIELDS", "FIELDS_PER_COLLECTION", "OPTIONAL_FIELDS",
           "RENAMES", "Version", "initial_type", "make_collection_names", "parse_value", "present_value",
           "type_of_schema", "type_schema"]

CLIENT_ID = "driftgym-client"
CLIENT_SECRET = "driftgym-secret"
ENUMS = {
    "status": ("active", "closed", "pending", "suspended"),
    "tier": ("enterprise", "free", "pro", "team"),
    "region": ("apac", "eu", "latam", "us"),
}
# logical field -> (domain, modulus of its stored integer). Money is stored in integer cents.
FIELDS = {"amount": ("money", 100_000), "price": ("money", 100_000), "quantity": ("count", 1000),
          "status": ("enum", 4), "tier": ("enum", 4), "region": ("enum", 4)}
OPTIONAL_FIELDS = ("price", "quantity", "region", "status", "tier")
RENAMES = {"amount": "total", "price": "unit_price", "quantity": "qty", "status": "state", "tier": "plan", "region": "zone"}
COLLECTION_NAMES = ("users", "orders", "products", "invoices", "payments", "shipments", "reviews", "carts",
                    "refunds", "tickets", "coupons", "subscriptions")
DECIMAL = re.compile(r"^\d+\.\d{2}$")
FIELDS_PER_COLLECTION = 3


def make_collection_names(n: int) -> list[str]:
    base = len(COLLECTION_NAMES)
    return sorted(COLLECTION_NAMES[i % base] + (str(i // base) if i >= base else "") for i in range(n))


def present_value(kind: str, value: int, field_id: str) -> Any:
    """The JSON form of a stored value under a field type: integer, decimal string or enum string."""
    if kind == "integer":
        return value
    if kind == "decimal":
        return f"{value // 100}.{value % 100:02d}"
    return ENUMS[field_id][value]


def parse_value(kind: str, raw: Any, field_id: str) -> int | None:
    """The stored integer a JSON value stands for under a field type, or None if it does not fit."""
    if kind == "integer":
        if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < FIELDS[field_id][1]:
            return raw
        return None
    if kind == "decimal":
        if isinstance(raw, str) and DECIMAL.match(raw):
            whole, cents = raw.split(".")
            value = int(whole) * 100 + int(cents)
            return value if value < FIELDS[field_id][1] else None
        return None
    values = ENUMS.get(field_id, ())
    return values.index(raw) if isinstance(raw, str) and raw in values else None


def initial_type(field_id: str) -> str:
    return "string" if FIELDS[field_id][0] == "enum" else "integer"


def type_schema(kind: str, field_id: str) -> dict[str, Any]:
    if kind == "integer":
        return {"type": "integer", "minimum": 0, "x-field-id": field_id}
    if kind == "decimal":
        return {"type": "string", "format": "decimal", "pattern": r"^\d+\.\d{2}$", "x-field-id": field_id}
    return {"type": "string", "enum": list(ENUMS[field_id]), "x-field-id": field_id}


def type_of_schema(schema: dict[str, Any]) -> str:
    if schema.get("type") == "integer":
        return "integer"
    return "decimal" if schema.get("format") == "decimal" else "string"


@dataclass
class Version:
    """One API version: per collection, its base route and field names and types."""

    number: int
    routes: dict[str, str]
    names: dict[str, dict[str, str]]  # collection -> field id -> public name
    types: dict[str, dict[str, str]]  # collection -> field id -> integer | decimal | string
    deprecated_at: int | None = None
    sunset_at: int | None = None
    by_name: dict[str, dict[str, str]] = field(default_factory=dict)  # collection -> public name -> id

    def __post_init__(self) -> None:
        if not self.by_name:
            self.by_name = {c: {n: f for f, n in names.items()} for c, names in self.names.items()}

    def gone(self, now: int) -> bool:
        return self.sunset_at is not None and now >= self.sunset_at

    def state(self) -> dict[str, Any]:
        return {"number": self.number, "routes": self.routes, "names": self.names, "types": self.types,
                "deprecated_at": self.deprecated_at, "sunset_at": self.sunset_at}
