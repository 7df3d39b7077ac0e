"""Scripted text agents for ``driftgym/HttpApi-text-v0``."""

from __future__ import annotations

import json
import re
from typing import Any


from driftgym.agents.text.base import TextAgent

API_TEXT = ("driftgym/HttpApi-text-v0",)

JOB = re.compile(r"^job #(\d+): (read|update|list) (\w+)/(\d+) field (\w+)(?: to (\S+))?", re.M)
ROUTE = re.compile(r"^  (/\S+)/\{id\}  (\w+): (.*)$", re.M)
FIELD = re.compile(r"(\w+) \((integer|decimal|string)")


def parse_response(text: str) -> tuple[int | None, dict[str, str], Any]:
    match = re.search(r"^HTTP/1\.1 (\d{3})", text, re.M)
    if match is None:
        return None, {}, None
    block = text[match.start():]
    head, _, rest = block.partition("\n\n")
    headers = dict(line.split(": ", 1) for line in head.split("\n")[1:] if ": " in line)
    body_line = rest.split("\n", 1)[0]
    try:
        body = json.loads(body_line) if body_line else None
    except ValueError:
        body = None
    return int(match.group(1)), headers, body


class ApiTextAgent(TextAgent):
    learns = False

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.routes: dict[str, str] = {}
        self.names: dict[str, dict[str, str]] = {}
        self.types: dict[str, dict[str, str]] = {}
        self.token, self.page_size, self.token_ok = "", 10, True
        self.policy: list[int] | None = None
        self.t, self.retry_until, self.last_job = 0, 0, None

    def read_briefing(self, text: str) -> None:
        self.token = re.search(r"You hold the token (\S+) ", text).group(1)
        self.page_size = int(re.search(r"page size (\d+)", text).group(1))
        for route, collection, fields in ROUTE.findall(text):
            self.routes[collection] = route
            self.names[collection] = {f: f for f, _ in FIELD.findall(fields)}
            self.types[collection] = dict(FIELD.findall(fields))

    def job(self, text: str) -> tuple | None:
        match = JOB.search(text)
        return None if match is None else match.groups()

    def request_for(self, job: tuple) -> str:
        number, kind, collection, record, field_id, value = job
        route, auth = self.routes[collection], f"Authorization: Bearer {self.token}"
        if kind == "read":
            return f"GET {route}/{record}\n{auth}"
        if kind == "list":
            return f"GET {route}?page={int(record) // self.page_size}\n{auth}"
        kind_of = self.types[collection][field_id]
        raw: Any = value
        if kind_of == "integer":
            raw = int(value)
        elif kind_of == "decimal":
            raw = f"{int(value) // 100}.{int(value) % 100:02d}"
        return f"PATCH {route}/{record}\n{auth}\n\n{json.dumps({self.names[collection][field_id]: raw})}"

    def observe(self, text: str) -> tuple[int | None, dict[str, str], Any]:
        status, headers, body = parse_response(text)
        if "RateLimit-Policy" in headers:
            limit, _, window = headers["RateLimit-Policy"].partition(";w=")
            self.policy = [int(limit), int(window)]
        if isinstance(body, dict) and "page_size" in body and "items" in body:
            self.page_size = int(body["page_size"])
        return status, headers, body

    def memory(self) -> dict[str, tuple[Any, float]]:
        facts: dict[str, tuple[Any, float]] = {}
        for c, route in self.routes.items():
            facts[f"api:{c}:route"] = (route, 1.0)
            for f, name in self.names[c].items():
                facts[f"api:{c}.{f}:name"] = (name, 1.0)
                facts[f"api:{c}.{f}:type"] = (self.types[c][f], 1.0)
        facts["api:auth_valid"] = (self.token_ok, 1.0)
        facts["api:page_size"] = (self.page_size, 1.0)
        if self.policy is not None:
            facts["api:rate_limit"] = (list(self.policy), 1.0)
        return facts


class ApiStale(ApiTextAgent):
    def act(self, observation: str, info: dict[str, Any]) -> str:
        if not self.routes:
            self.read_briefing(observation)
        else:
            self.observe(observation)
        job = self.job(observation)
        return "wait 1" if job is None else self.request_for(job)


class ApiAdaptive(ApiTextAgent):
    max_schema_age = 60

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.schema_at, self.tried = 0, None

    def act(self, observation: str, info: dict[str, Any]) -> str:
        if not self.routes:
            self.read_briefing(observation)
            status, headers, body = None, {}, None
        else:
            status, headers, body = self.observe(observation)
        self.t += int(re.search(r"waited (\d+) s", observation).group(1)) if "waited" in observation else 1
        job = self.job(observation)
        if isinstance(body, dict) and "access_token" in body:
            self.token, self.token_ok = body["access_token"], True
        if isinstance(body, dict) and "x-collections" in body:
            self.learn_schema(body)
        if status == 429 and "Retry-After" in headers:
            self.retry_until = self.t + int(headers["Retry-After"]) - 1
        if job is None:
            return "wait 1"
        if self.retry_until > self.t:
            return f"wait {self.retry_until - self.t}"
        collection = job[2]
        if status == 401:
            self.token_ok = False
            return "auth"
        moved = None
        if status == 301 and "Location" in headers:
            moved = headers["Location"].split("?")[0].rsplit("/", 1)[0] if job[1] != "list" else headers["Location"].split("?")[0]
        elif status == 410 and isinstance(body, dict) and "successor" in body:
            moved = body["successor"]
        elif "Link" in headers:
            moved = headers["Link"].partition(">")[0].lstrip("<")
        if moved is not None and moved != self.routes[collection]:
            self.routes[collection] = moved
            return self.request_for(job)
        repeated = self.tried == job[0] and status == 200
        if status in (404, 422) or repeated or self.t - self.schema_at > self.max_schema_age:
            self.tried = None
            return "GET /openapi.json"
        self.tried = job[0]
        return self.request_for(job)

    def learn_schema(self, document: dict[str, Any]) -> None:
        self.schema_at = self.t
        self.page_size = int(document.get("x-page-size", self.page_size))
        for c, entry in document.get("x-collections", {}).items():
            if c not in self.routes:
                continue
            self.routes[c] = entry["path"]
            for name, prop in document["components"]["schemas"][entry["schema"]]["properties"].items():
                f = prop.get("x-field-id")
                if f in self.names[c]:
                    self.names[c][f] = name
                    self.types[c][f] = "integer" if prop.get("type") == "integer" else \
                        "decimal" if prop.get("format") == "decimal" else "string"


# --------------------------------------------------------------------------- services
