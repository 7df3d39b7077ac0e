"""The model of a service graph: load, utilisation, latency and success, all O(V+E).

Functions over a :class:`~driftgym.envs.services.world.ServiceGraph` (its arrays); the world's
``refresh``, ``settle`` and ``advance`` call them. The model:

- load: ``L_t = base_load * load_factor * (1 + a sin(2 pi t / day)) * max(0, 1 + sigma z_t)``
  enters at the gateway; a live service forwards ``load * (1 - hit_ratio)`` and each call edge
  that is up carries ``weight`` of it (the fraction of requests that make the call), so
  ``load[v] = sum over calls u->v of weight * (1 - hit[u]) * load[u]`` (a down caller sends
  nothing);
- utilisation ``u = load / (replicas * capacity)``; own latency
  ``base_latency * latency_factor / (1 - min(u, 0.95))`` (so at most 20x), a down service
  answers after ``timeout_ms``;
- own success ``(1 - clip(base_error + degrade_error + bad_error)) * min(1, 1/u)`` (overload
  sheds ``1 - 1/u``), 0 when down;
- end to end, callees first: ``s[v] = own[v] * prod over hard calls v->c of
  (1 - w + w * up * s[c])`` (a call with ``fallback`` never fails the request) and
  ``latency[v] = own_latency[v] + sum over calls of w * (latency[c] if up else timeout_ms)``;
- a service overloaded (``u > 1``) for ``overload_patience`` steps in a row, or whose memory
  reaches its limit (it leaks ``leak`` of the limit per step), crashes.

What depends only on health and topology (the unit load, the latency reach, the success when
nothing is overloaded) is recomputed when something changed, and only the part that changed
(a scale touches the capacity, a rollback the error rates); a quiet step costs a handful of
vector operations. The topology passes run in :class:`~driftgym.envs.services.graph.Levels`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Dynamics", "gateway_load", "measure", "refresh", "settle"]


@dataclass(frozen=True)
class Dynamics:
    """The constants of the model (documented in the env's manual)."""

    base_load: float = 1000.0
    daily_amplitude: float = 0.3
    day_length: int = 100
    noise_sigma: float = 0.05
    timeout_ms: float = 1000.0
    utilisation_cap: float = 0.95
    restart_steps: int = 3
    overload_patience: int = 5
    max_replicas: int = 10
    warm_rate: float = 0.05


def refresh(world: Any) -> None:
    """Recompute what depends on health, topology and capacity only (O(V+E))."""
    d, n, levels = world.dynamics, len(world.names), world.levels
    dead = world.crashed | world.region_down[world.region]
    dead |= world.restart_until >= 0
    alive = ~dead
    caller_alive = alive[world.src]
    calls = caller_alive * world.weight * world.up  # live calls: the reach of latency
    world.edge_factor = calls * (1.0 - world.hit)[world.src]  # the load each call carries per unit
    seed = np.zeros((2, n))
    seed[:, world.root] = 1.0
    world.unit_load, reach = levels.forward(seed, np.array([world.edge_factor, calls]))
    timeouts = np.bincount(world.src, (caller_alive > world.up) * world.weight, n)
    world.own_latency = world.base_latency * world.latency_factor
    world.latency_coef = reach * alive * world.own_latency
    world.latency_const = d.timeout_ms * float(reach @ timeouts + reach @ dead)
    world.call_slope = world.hard_weight * world.up
    world.alive = alive
    refresh_errors(world)
    refresh_capacity(world)
    world.dirty = False


def refresh_errors(world: Any) -> None:
    """Own success rates and the end-to-end success when nothing is overloaded."""
    errors = np.minimum(world.base_error + world.degrade_error + world.bad * world.bad_error, 1.0)
    world.own_ok = np.where(world.alive, 1.0 - errors, 0.0)
    world.static_success = float(world.levels.backward(world.own_ok, world.call_constant, world.call_slope)[world.root])
    world.dirty_errors = False


def refresh_capacity(world: Any) -> None:
    """Utilisation per unit of gateway load, and the gateway load that overloads a service."""
    world.unit_util = world.unit_load / (world.replicas * world.capacity)
    peak = float((world.unit_util * world.alive).max())
    world.overload_load = 1.0 / peak if peak > 0 else math.inf
    world.dirty_capacity = False


def settle(world: Any) -> None:
    """Bring the cached parts up to date after changes (only the parts that changed)."""
    if world.dirty:
        refresh(world)
        return
    if world.dirty_errors:
        refresh_errors(world)
    if world.dirty_capacity:
        refresh_capacity(world)


def gateway_load(world: Any, step: int, noise: float) -> float:
    """The load entering at the gateway at ``step`` with standard-normal ``noise``."""
    d = world.dynamics
    daily = 1.0 + d.daily_amplitude * math.sin(2.0 * math.pi * step / d.day_length)
    return d.base_load * world.load_factor * daily * max(0.0, 1.0 + d.noise_sigma * noise)


def measure(world: Any, load: float) -> None:
    """Utilisation, end-to-end latency and success under gateway ``load``."""
    settle(world)
    world.gateway_load = load
    util = world.unit_util * load
    world.utilisation = util
    world.queueing = 1.0 / (1.0 - np.minimum(util, world.dynamics.utilisation_cap))
    world.latency = float(world.latency_coef @ world.queueing) + world.latency_const
    world.overloaded = load > world.overload_load
    if world.overloaded:
        ok = world.own_ok * np.minimum(1.0, 1.0 / np.maximum(util, 1e-12))
        world.success = float(world.levels.backward(ok, world.call_constant, world.call_slope)[world.root])
    else:
        world.success = world.static_success
