"""`ServiceGraph`: the ground truth of driftgym/Services-v0, a microservice dependency graph.

Per-service state lives in numpy vectors and the calls in edge arrays (``src``, ``dst``,
``weight``, ``up``, ``fallback``) sorted by the caller's topological level; networkx holds the
topology and is consulted only when it changes (add/remove dependency) and for checks. The
kinds of ``driftgym.perturbations.services`` and the on-call actions change it through the
public mutation methods (``driftgym.envs.services.mutations``); the step's dynamics are in
``driftgym.envs.services.model``.
"""

from __future__ import annotations

import heapq
import math
from typing import Any

import networkx as nx
import numpy as np

from driftgym.envs.base import World, invariant
from driftgym.envs.services import model
from driftgym.envs.services.graph import Levels, generate_topology, service_names  # noqa: F401  (Levels: importable here as before)
from driftgym.envs.services.model import Dynamics
from driftgym.envs.services.mutations import GraphMutations, edge_name

__all__ = ["Dynamics", "HEALTH", "REGIONS", "ServiceGraph"]

HEALTH = ("up", "degraded", "down", "restarting")
UP, DEGRADED, DOWN, RESTARTING = range(4)
REGIONS = ("us-east", "us-west", "eu-west", "ap-south")


class ServiceGraph(GraphMutations, World):
    """A DAG of services rooted at ``gateway``; the model is in ``driftgym.envs.services.model``,
    the topology changes, the kinds' setters and the on-call actions in
    ``driftgym.envs.services.mutations``."""

    kind = "services"

    def __init__(
        self,
        names: list[str],
        edges: list[tuple[str, str, float, bool]],
        *,
        replicas: list[int] | None = None,
        capacity: list[float] | None = None,
        utilisation: list[float] | None = None,
        base_latency: list[float] | None = None,
        base_error: list[float] | None = None,
        memory: list[float] | None = None,
        region: list[int] | None = None,
        hit_ratio: list[float] | None = None,
        regions: tuple[str, ...] = REGIONS[:2],
        dynamics: Dynamics = Dynamics(),
        slo_success: float | None = None,
        slo_latency: float | None = None,
    ) -> None:
        n = len(names)
        if "gateway" not in names:
            raise ValueError("a service graph needs a service named 'gateway'")
        self.names = list(names)
        self.index = {name: i for i, name in enumerate(self.names)}
        self.service_names = sorted(self.names)
        self.root = self.index["gateway"]
        self.regions = tuple(regions)
        self.region_names = sorted(self.regions)
        self.dynamics = dynamics
        self.replicas = np.array(replicas if replicas is not None else [2] * n, dtype=np.int64)
        self.base_latency = np.array(base_latency if base_latency is not None else [5.0] * n, dtype=np.float64)
        self.base_error = np.array(base_error if base_error is not None else [0.0] * n, dtype=np.float64)
        self.memory_base = np.array(memory if memory is not None else [0.4] * n, dtype=np.float64)
        self.memory = self.memory_base.copy()
        self.region = np.array(region if region is not None else [0] * n, dtype=np.int64)
        self.warm_hit = np.array(hit_ratio if hit_ratio is not None else [0.0] * n, dtype=np.float64)
        self.hit = self.warm_hit.copy()
        self.warming = False
        self.cache_names = sorted(self.names[i] for i in np.flatnonzero(self.warm_hit > 0))
        self.region_down = np.zeros(len(self.regions), dtype=bool)
        self.crashed = np.zeros(n, dtype=bool)
        self.restart_until = np.full(n, -1, dtype=np.int64)
        self.latency_factor = np.ones(n)
        self.degrade_error = np.zeros(n)
        self.bad = np.zeros(n, dtype=bool)
        self.bad_error = np.zeros(n)
        self.leak = np.zeros(n)
        self.overload = np.zeros(n, dtype=np.int64)
        self.overload_active = False
        self.leaking = False
        self.restart_ends: list[tuple[int, int]] = []  # heap of (restart_until, service); stale entries skipped
        self.load_factor = 1.0
        self.graph = nx.DiGraph()
        self.graph.add_nodes_from(range(n))
        calls = [(self.index[a], self.index[b], float(w), bool(f), True) for a, b, w, f in edges]
        self.graph.add_edges_from((a, b) for a, b, *_ in calls)
        self._set_edges(calls)
        self.own_latency = self.base_latency * self.latency_factor
        self.own_error = np.minimum(self.base_error + self.degrade_error + self.bad * self.bad_error, 1.0)
        self.capacity = np.ones(n)
        self.service_capacity = self.replicas * self.capacity
        self.refresh()
        if capacity is None:  # sized so that the nominal load uses `utilisation` (default half)
            target = np.array(utilisation if utilisation is not None else [0.5] * n, dtype=np.float64)
            capacity = np.round(dynamics.base_load * np.asarray(self.unit_load) / (self.replicas * target), 3)
        self.capacity = np.maximum(np.array(capacity, dtype=np.float64), 1e-3)
        self.service_capacity = self.replicas * self.capacity
        self.total_replicas = int(self.replicas.sum())
        self.refresh()
        self.step = -1
        self.incidents: list[list[int | None]] = []
        self._measure(dynamics.base_load)
        self.slo_success = slo_success if slo_success is not None else min(0.99, math.floor((self.success - 0.005) * 1e4) / 1e4)
        self.slo_latency = slo_latency if slo_latency is not None else round(2.0 * self.latency, 1)
        self._measure(self.gateway_load_at(0, 0.0))
        self.slo_met = self._slo_met()

    # ------------------------------------------------------------------ generation
    @classmethod
    def generate(
        cls,
        rng: np.random.Generator,
        n_services: int = 8,
        topology: str = "layered",
        n_regions: int = 2,
        slo_success: float | None = None,
        slo_latency: float | None = None,
    ) -> ServiceGraph:
        names = service_names(n_services)
        calls = generate_topology(n_services, topology, rng)
        weights = np.round(rng.uniform(0.4, 1.0, len(calls)), 2)
        fallback = rng.random(len(calls)) < 0.2
        edges = [(names[a], names[b], float(w), bool(f)) for (a, b), w, f in zip(calls, weights, fallback)]
        world = cls(
            names,
            edges,
            replicas=rng.integers(2, 5, n_services).tolist(),
            base_latency=np.round(rng.uniform(2.0, 10.0, n_services), 2).tolist(),
            base_error=np.round(rng.uniform(1e-4, 5e-4, n_services), 6).tolist(),
            memory=np.round(rng.uniform(0.3, 0.5, n_services), 3).tolist(),
            region=rng.integers(0, n_regions, n_services).tolist(),
            hit_ratio=[0.8 if name.startswith("cache") else 0.0 for name in names],
            regions=REGIONS[:n_regions],
            utilisation=np.round(rng.uniform(0.35, 0.55, n_services), 3).tolist(),
            slo_success=slo_success,
            slo_latency=slo_latency,
        )
        return world

    # ------------------------------------------------------------------ dynamics (driftgym.envs.services.model)
    def refresh(self) -> None:
        """Recompute what depends on health, topology and capacity only (O(V+E))."""
        model.refresh(self)

    def _settle_parts(self) -> None:
        model.settle(self)

    def gateway_load_at(self, step: int, noise: float) -> float:
        return model.gateway_load(self, step, noise)

    def _measure(self, load: float) -> None:
        model.measure(self, load)

    def _slo_met(self) -> bool:
        return self.success >= self.slo_success and self.latency <= self.slo_latency

    def copy(self) -> ServiceGraph:
        """An independent copy (arrays, graph and incidents copied; immutable parts shared)."""
        twin = object.__new__(ServiceGraph)
        twin.__dict__.update(self.__dict__)
        for key, value in self.__dict__.items():
            if isinstance(value, np.ndarray):
                twin.__dict__[key] = value.copy()
        twin.graph = self.graph.copy()
        twin.edge_index = dict(self.edge_index)
        twin.incidents = [list(i) for i in self.incidents]
        twin.restart_ends = list(self.restart_ends)
        return twin

    def settle(self) -> None:
        self._settle_parts()

    def advance(self, step: int, noise: float) -> None:
        """One step of the dynamics at ``step`` (after the step's perturbations and action)."""
        d = self.dynamics
        self.step = step
        ends = self.restart_ends
        while ends and ends[0][0] <= step:
            until, i = heapq.heappop(ends)
            if self.restart_until[i] == until:  # not restarted again since
                self.restart_until[i] = -1
                if not (self.crashed[i] or self.region_down[self.region[i]]):
                    self.dirty = True  # back up
        if self.warming:
            self.hit = np.minimum(self.hit + d.warm_rate, self.warm_hit)
            self.warming = bool((self.hit < self.warm_hit).any())
            self.dirty = True
        if self.leaking:
            self.memory = np.minimum(self.memory + self.leak * self.alive, 1.0)
            full = (self.memory >= 1.0 - 1e-9) & ~self.crashed  # at the limit, up to rounding
            if full.any():
                self.crashed |= full
                self.dirty = True
        load = self.gateway_load_at(step, noise)
        self._measure(load)
        if self.overloaded or self.overload_active:
            self.overload = np.where((self.utilisation > 1.0) & self.alive, self.overload + 1, 0)
            self.overload_active = self.overloaded
            fallen = self.overload >= d.overload_patience
            if fallen.any():
                self.crashed |= fallen
                self.overload[fallen] = 0
                self.dirty = True
                self._measure(load)
        self.slo_met = self._slo_met()
        self._record_incident(step)

    def _record_incident(self, step: int) -> None:
        open_incident = bool(self.incidents) and self.incidents[-1][1] is None
        if not self.slo_met and not open_incident:
            self.incidents.append([step, None])
        elif self.slo_met and open_incident:
            self.incidents[-1][1] = step

    # ------------------------------------------------------------------ reading
    def health_codes(self) -> np.ndarray:
        down = self.crashed | self.region_down[self.region]
        degraded = (self.latency_factor != 1.0) | (self.degrade_error > 0)
        return np.where(self.restart_until >= 0, RESTARTING, np.where(down, DOWN, np.where(degraded, DEGRADED, UP)))

    def health_of(self, name: str) -> str:
        i = self.index[name]
        if self.restart_until[i] >= 0:
            return "restarting"
        if self.crashed[i] or self.region_down[self.region[i]]:
            return "down"
        if self.latency_factor[i] != 1.0 or self.degrade_error[i] > 0:
            return "degraded"
        return "up"

    @property
    def utilisation(self) -> np.ndarray:
        """Load over capacity of each service this step."""
        return np.asarray(self.unit_util) * self.gateway_load

    def edge_factor(self) -> np.ndarray:
        """The load each call carries per unit of its caller's load (0 from a down caller or over a cut)."""
        return self.alive[self.src] * self.weight * self.up * (1.0 - self.hit)[self.src]

    def service_loads(self) -> np.ndarray:
        return np.asarray(self.unit_load) * self.gateway_load

    def edge_flows(self) -> dict[str, float]:
        """Load sent along each call this step."""
        flows = np.asarray(self.unit_load)[self.src] * self.edge_factor() * self.gateway_load
        names = self.names
        return {edge_name(names[a], names[b]): float(flows[i]) for (a, b), i in self.edge_index.items()}

    def service_metrics(self, i: int) -> list[float]:
        """[utilisation, latency ms, error rate, memory, replicas, cut calls] of one service now."""
        util = float(self.unit_util[i]) * self.gateway_load
        alive = bool(self.alive[i])
        queueing = 1.0 / (1.0 - min(util, self.dynamics.utilisation_cap))
        latency = float(self.own_latency[i]) * queueing if alive else self.dynamics.timeout_ms
        ok = float(self.own_ok[i]) * min(1.0, 1.0 / util) if util > 1.0 else float(self.own_ok[i])
        cut = int((~self.up[self.src == i]).sum())
        return [util, latency, 1.0 - ok, float(self.memory[i]), float(self.replicas[i]), float(cut)]

    def calls_of(self, i: int) -> list[tuple[int, bool]]:
        out = np.flatnonzero(self.src == i)
        return [(int(self.dst[e]), bool(self.up[e])) for e in out]

    def mean_time_to_recovery(self) -> float | None:
        closed = [b - a for a, b in self.incidents if b is not None]
        return sum(closed) / len(closed) if closed else None

    def facts(self) -> dict[str, Any]:
        health = self.health_codes().tolist()
        facts: dict[str, Any] = {}
        for i, name in enumerate(self.names):
            facts[f"svc:{name}:health"] = HEALTH[health[i]]
            facts[f"svc:{name}:version"] = "bad" if self.bad[i] else "good"
            facts[f"svc:{name}:replicas"] = int(self.replicas[i])
            facts[f"svc:{name}:region"] = self.regions[int(self.region[i])]
        for (a, b), i in self.edge_index.items():
            facts[f"edge:{edge_name(self.names[a], self.names[b])}:up"] = bool(self.up[i])
        return facts

    def state_dict(self) -> dict[str, Any]:
        names = self.names
        return {
            "step": self.step,
            "services": {
                name: {
                    "replicas": int(self.replicas[i]),
                    "capacity": float(self.capacity[i]),
                    "crashed": bool(self.crashed[i]),
                    "restart_until": int(self.restart_until[i]),
                    "latency_factor": float(self.latency_factor[i]),
                    "degrade_error": float(self.degrade_error[i]),
                    "bad": bool(self.bad[i]),
                    "bad_error": float(self.bad_error[i]),
                    "memory": float(self.memory[i]),
                    "leak": float(self.leak[i]),
                    "hit_ratio": float(self.hit[i]),
                    "overload": int(self.overload[i]),
                    "region": self.regions[int(self.region[i])],
                }
                for i, name in enumerate(names)
            },
            "edges": [
                [names[a], names[b], float(w), bool(f), bool(u)] for a, b, w, f, u in sorted(self._calls())
            ],
            "region_down": self.region_down.tolist(),
            "load_factor": self.load_factor,
            "metrics": [self.gateway_load, self.success, self.latency],
            "incidents": [list(i) for i in self.incidents],
        }

    def check_invariants(self) -> None:
        """Raise AssertionError naming the first broken promise (tests call this)."""
        graph, n = self.graph, len(self.names)
        invariant(nx.is_directed_acyclic_graph(graph), "the service graph has a cycle")
        invariant(graph.in_degree(self.root) == 0, "the gateway has a caller")
        invariant(nx.descendants(graph, self.root) == set(range(n)) - {self.root}, "a service is unreachable from the gateway")
        invariant(set(graph.edges) == set(self.edge_index), "edge arrays and graph disagree")
        invariant(all(self.levels.position[a] < self.levels.position[b] for a, b in self.edge_index), "edge against the order")
        unit_load = np.asarray(self.unit_load)
        for label, values in (("utilisation", self.utilisation), ("memory", self.memory), ("unit load", unit_load)):
            invariant(np.isfinite(values).all() and (values >= 0).all(), f"{label} is not finite and >= 0")
        invariant(0.0 <= self.success <= 1.0, f"success rate {self.success} outside [0, 1]")
        invariant(math.isfinite(self.latency) and self.latency >= 0, f"latency {self.latency} is not finite and >= 0")
        invariant(((self.replicas >= 1) & (self.replicas <= self.dynamics.max_replicas)).all(), "replicas out of range")
        inflow = np.bincount(self.dst, unit_load[self.src] * self.edge_factor(), n)
        inflow[self.root] = 1.0
        invariant(np.allclose(inflow, unit_load, rtol=1e-9, atol=1e-12), "load is not conserved along the calls")
