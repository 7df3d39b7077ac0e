"""Baseline agents for ``driftgym/Services-v0`` (actions are ``[operation, service]``).

- ``stale``: probes every service once at the start of the shift, then trusts that picture: it
  never probes again and so never finds what breaks (it only ever sees healthy services).
- ``adaptive``: on the SLO alert probes services oldest-probe first, and on the ``changed`` bit
  (``visibility="flag"``) probes them all in that order; it repairs what a fresh probe shows: restart a down service or one whose memory is filling,
  roll back a bad version, fail over a degraded service or one with cut calls, scale up an
  overloaded one; without an alert it re-probes a service whose probe is older than 40 steps.
- ``oracle``: reads the ground truth (labelled upper bound) and applies the repair for the
  worst fault it finds, else waits.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from driftgym.agents.base import Agent, Oracle, register_agent
from driftgym.envs.services import world as truth

__all__ = ["AdaptiveOnCall", "OracleOnCall", "StaleOnCall"]

ENV_IDS = ("driftgym/Services-v0",)
NOOP, PROBE, RESTART, SCALE_UP, SCALE_DOWN, ROLLBACK, FAILOVER = range(7)
NEVER, UP, DEGRADED, DOWN, RESTARTING = range(5)
BAD = 2
UTILISATION, LATENCY, ERROR_RATE, MEMORY, REPLICAS, CUT_CALLS = range(6)
MEMORY_ALARM = 0.75
OVERLOADED = 0.9


def services_of(env: gym.Env) -> int:
    return int(env.action_space.nvec[1])


def action(operation: int, service: int = 0) -> np.ndarray:
    return np.array([operation, service], np.int64)


class StaleOnCall(Agent):
    name = "stale"

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.probed = 0

    def act(self, observation: Any, info: dict[str, Any]) -> np.ndarray:
        if self.probed < services_of(self.env):
            self.probed += 1
            return action(PROBE, self.probed - 1)
        return action(NOOP)


def repair(health: int, version: int, probe: np.ndarray) -> int | None:
    """The operation a fresh probe of one service calls for, or None when it looks fine."""
    if health == DOWN:
        return RESTART
    if version == BAD:
        return ROLLBACK
    if health == DEGRADED or probe[CUT_CALLS] > 0:
        return FAILOVER
    if probe[MEMORY] > MEMORY_ALARM:
        return RESTART
    if probe[UTILISATION] > OVERLOADED:
        return SCALE_UP
    return None


class AdaptiveOnCall(Agent):
    name = "adaptive"
    max_probe_age = 40

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.sweep: list[int] = []  # services still to probe after a ``changed`` bit

    def act(self, observation: Any, info: dict[str, Any]) -> np.ndarray:
        age = observation["age"]
        for service in np.flatnonzero(age == 0).tolist():
            operation = repair(int(observation["health"][service]), int(observation["version"][service]), observation["probe"][service])
            if operation is not None:
                return action(operation, service)
        order = np.flatnonzero(age < 0).tolist() + [int(s) for s in np.argsort(-age, kind="stable") if age[s] >= 0]
        if "changed" in observation and observation["changed"][0] > 0:
            self.sweep = list(order)
        if self.sweep:
            return action(PROBE, self.sweep.pop(0))
        if observation["alert"][0] or age[order[0]] < 0 or age[order[0]] > self.max_probe_age:
            return action(PROBE, order[0])
        return action(NOOP)


class OracleOnCall(Oracle):
    def act(self, observation: Any, info: dict[str, Any]) -> np.ndarray:
        world = self.env.unwrapped.world
        health = world.health_codes()
        for service in range(len(world.names)):
            if health[service] == truth.RESTARTING:
                continue
            if health[service] == truth.DOWN:
                region_down = world.region_down[world.region[service]]
                return action(FAILOVER if region_down else RESTART, service)
            if world.bad[service]:
                return action(ROLLBACK, service)
            cut = not world.up[(world.src == service) | (world.dst == service)].all()
            if health[service] == truth.DEGRADED or cut:
                return action(FAILOVER, service)
            if world.leak[service] > 0:
                return action(RESTART, service)
            if world.utilisation[service] > OVERLOADED and world.replicas[service] < 10:
                return action(SCALE_UP, service)
        return action(NOOP)


register_agent("stale", ENV_IDS)(StaleOnCall)
register_agent("adaptive", ENV_IDS)(AdaptiveOnCall)
register_agent("oracle", ENV_IDS)(OracleOnCall)
