"""Baseline agents for ``driftgym/HttpApi-v0``.

- ``stale``: the client as written against v1 — it only ever sends ``request``.
- ``adaptive``: reacts to what the responses say: waits out a live ``Retry-After``,
  re-authenticates on 401 or a dead token, follows a known ``Location``/successor on 301/410 or a
  deprecation, fetches the schema on 404, a missing field, a type that does not parse, on the
  ``changed`` bit when the env shows it, and when its schema is older than ``max_schema_age``.
- ``oracle``: reads the ground truth (labelled upper bound): it compares the client's view with the
  world before each request and repairs exactly what is stale, and waits when the rate limiter
  would refuse.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from driftgym.agents.base import Agent, Oracle, register_agent

__all__ = ["AdaptiveClient", "OracleClient", "StaleClient"]

ENV_IDS = ("driftgym/HttpApi-v0",)
REQUEST, FOLLOW, FETCH_SCHEMA, AUTHENTICATE, WAIT, GIVE_UP = range(6)
STATUS_301, STATUS_401, STATUS_404, STATUS_410, STATUS_OTHER_4XX = 2, 3, 4, 5, 6
RETRY_AFTER_LIVE, DEPRECATED, LOCATION_KNOWN, FIELD_PRESENT, TYPE_OK, TOKEN_OK = range(6)


class StaleClient(Agent):
    name = "stale"

    def act(self, observation: Any, info: dict[str, Any]) -> int:
        return REQUEST


class AdaptiveClient(Agent):
    name = "adaptive"
    max_schema_age = 60

    def act(self, observation: Any, info: dict[str, Any]) -> int:
        kind, signals, status = int(observation["job"][0]), observation["signals"], int(observation["status"])
        if kind == 0 or signals[RETRY_AFTER_LIVE]:
            return WAIT
        if not signals[TOKEN_OK] or status == STATUS_401:
            return AUTHENTICATE
        if signals[LOCATION_KNOWN] and (status in (STATUS_301, STATUS_410) or signals[DEPRECATED]):
            return FOLLOW
        changed = "changed" in observation and observation["changed"][0] > 0
        stale_schema = observation["schema_age"][0] > self.max_schema_age
        if status in (STATUS_404, STATUS_OTHER_4XX) or not signals[FIELD_PRESENT] or not signals[TYPE_OK] or changed or stale_schema:
            return FETCH_SCHEMA
        return REQUEST


class OracleClient(Oracle, AdaptiveClient):
    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.base = env.unwrapped

    def act(self, observation: Any, info: dict[str, Any]) -> int:
        kind = int(observation["job"][0])
        if kind == 0:
            return WAIT
        truth, view = self.base.facts(), self.base.view_facts()
        if not truth["api:auth_valid"]:
            return AUTHENTICATE
        collection = self.base.world.collections[int(observation["job"][1])]
        stale = [k for k, v in view.items() if k.startswith(f"api:{collection}") and truth.get(k) != v]
        if any(k.endswith(":route") for k in stale) and observation["signals"][LOCATION_KNOWN]:
            return FOLLOW
        if stale or view.get("api:page_size") != truth["api:page_size"]:
            return FETCH_SCHEMA
        if observation["signals"][RETRY_AFTER_LIVE]:
            return WAIT
        return REQUEST


register_agent("stale", ENV_IDS)(StaleClient)
register_agent("adaptive", ENV_IDS)(AdaptiveClient)
register_agent("oracle", ENV_IDS)(OracleClient)
