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

Two equivalent implementations of every pass: numpy vectors for large graphs, and plain Python
lists for a graph of at most ``SMALL_GRAPH_EDGES`` calls (``levels.pairs`` is set), where
numpy's per-call overhead (about a microsecond per operation) would cost more than the
arithmetic. The cached parts (``unit_load``, ``latency_coef``, ``own_ok``, ``unit_util``) are
lists on the small path and arrays on the large one; ``alive`` is always a boolean array. Both
paths give the same numbers up to rounding (tests check them against a plain recursion).
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


# ---------------------------------------------------------------------- the cached parts
# The world keeps ``own_latency``, ``own_error``, ``call_slope`` and ``service_capacity`` up to
# date in its mutation methods (one entry per change); what follows depends on health too.


def refresh(world: Any) -> None:
    """Recompute what depends on health, topology and capacity only (O(V+E))."""
    if world.levels.pairs is not None:
        alive = _refresh_topology_small(world)
        world.alive = np.array(alive)
    else:
        alive = world.alive = _refresh_topology(world)
    refresh_errors(world, alive)
    refresh_capacity(world, alive)
    world.dirty = False


def _refresh_topology(world: Any) -> np.ndarray:
    """Unit load, latency reach and the latency coefficients: numpy vectors (large graphs)."""
    d, n, levels = world.dynamics, len(world.names), world.levels
    dead = world.crashed | world.region_down[world.region]
    dead |= world.restart_until >= 0
    alive = ~dead
    caller_alive = alive[world.src]
    calls = caller_alive * world.weight * world.up  # live calls: the reach of latency
    edge_factor = calls * (1.0 - world.hit)[world.src]  # the load each call carries per unit
    seed = np.zeros((2, n))
    seed[:, world.root] = 1.0
    world.unit_load, reach = levels.forward(seed, np.array([edge_factor, calls]))
    timeouts = np.bincount(world.src, (caller_alive > world.up) * world.weight, n)
    world.latency_coef = reach * alive * world.own_latency
    world.latency_const = d.timeout_ms * float(reach @ timeouts + reach @ dead)
    return alive


def _refresh_topology_small(world: Any) -> list[bool]:
    """The same as :func:`_refresh_topology`, one pass over the calls in Python lists."""
    n, root = len(world.names), world.root
    region_down = world.region_down.tolist()
    alive = [
        not (crashed or region_down[region] or until >= 0)
        for crashed, region, until in zip(world.crashed.tolist(), world.region.tolist(), world.restart_until.tolist())
    ]
    passes = [1.0 - h for h in world.hit.tolist()]
    load, reach = [0.0] * n, [0.0] * n
    load[root] = reach[root] = 1.0
    cut = 0.0  # reach-weighted calls from live callers over cut edges: each one times out
    for (caller, callee), w, live in zip(world.levels.pairs, world.weight.tolist(), world.up.tolist()):
        if alive[caller]:
            if live:
                load[callee] += load[caller] * (w * passes[caller])
                reach[callee] += reach[caller] * w
            else:
                cut += reach[caller] * w
    world.unit_load = load
    world.latency_coef = [r * lat if a else 0.0 for r, a, lat in zip(reach, alive, world.own_latency.tolist())]
    dead_reach = sum([r for r, a in zip(reach, alive) if not a])
    world.latency_const = world.dynamics.timeout_ms * (cut + dead_reach)
    return alive


def refresh_errors(world: Any, alive: Any = None) -> None:
    """Own success rates and the end-to-end success when nothing is overloaded."""
    if world.levels.pairs is not None:
        alive = world.alive.tolist() if alive is None else alive
        world.own_ok = [1.0 - e if a else 0.0 for e, a in zip(world.own_error.tolist(), alive)]
        world.static_success = _backward_small(world, world.own_ok)
    else:
        world.own_ok = np.where(world.alive, 1.0 - world.own_error, 0.0)
        world.static_success = float(world.levels.backward(world.own_ok, world.call_constant, world.call_slope)[world.root])
    world.dirty_errors = False


def refresh_capacity(world: Any, alive: Any = None) -> None:
    """Utilisation per unit of gateway load, and the gateway load that overloads a service."""
    if world.levels.pairs is not None:
        alive = world.alive.tolist() if alive is None else alive
        world.unit_util = [load / c for load, c in zip(world.unit_load, world.service_capacity.tolist())]
        peak = max([u for u, a in zip(world.unit_util, alive) if a], default=0.0)
    else:
        world.unit_util = world.unit_load / world.service_capacity
        peak = float((world.unit_util * world.alive).max())
    world.overload_load = 1.0 / peak if peak > 0 else math.inf
    world.dirty_capacity = False


def _backward_small(world: Any, own: list[float]) -> float:
    """The gateway's end-to-end success over Python lists, callees first."""
    s = list(own)
    slope = world.call_slope.tolist()
    for (caller, callee), c, k in zip(reversed(world.levels.pairs), reversed(world.call_constant_list), reversed(slope)):
        s[caller] *= c + k * s[callee]
    return s[world.root]


def settle(world: Any) -> None:
    """Bring the cached parts up to date after changes (only the parts that changed)."""
    if world.dirty:
        refresh(world)
        return
    if world.dirty_errors:
        refresh_errors(world)
    if world.dirty_capacity:
        refresh_capacity(world)


# ---------------------------------------------------------------------- one step


def gateway_load(world: Any, step: int, noise: float) -> float:
    """The load entering at the gateway at ``step`` with standard-normal ``noise``."""
    d = world.dynamics
    daily = 1.0 + d.daily_amplitude * math.sin(2.0 * math.pi * step / d.day_length)
    return d.base_load * world.load_factor * daily * max(0.0, 1.0 + d.noise_sigma * noise)


def measure(world: Any, load: float) -> None:
    """End-to-end latency and success under gateway ``load`` (utilisation: ``unit_util * load``)."""
    settle(world)
    world.gateway_load = load
    cap = world.dynamics.utilisation_cap
    world.overloaded = load > world.overload_load
    if world.levels.pairs is not None:
        latency = world.latency_const
        for coef, unit in zip(world.latency_coef, world.unit_util):
            if coef:
                util = unit * load
                latency += coef / (1.0 - (util if util < cap else cap))  # noqa: FURB136 (min() is slower)
        world.latency = latency
        if world.overloaded:
            ok = [o * min(1.0, 1.0 / max(u * load, 1e-12)) for o, u in zip(world.own_ok, world.unit_util)]
            world.success = _backward_small(world, ok)
        else:
            world.success = world.static_success
        return
    util = world.unit_util * load
    queueing = 1.0 / (1.0 - np.minimum(util, cap))
    world.latency = float(world.latency_coef @ queueing) + world.latency_const
    if world.overloaded:
        ok = world.own_ok * np.minimum(1.0, 1.0 / np.maximum(util, 1e-12))
        world.success = float(world.levels.backward(ok, world.call_constant, world.call_slope)[world.root])
    else:
        world.success = world.static_success
