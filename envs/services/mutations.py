"""The public mutation methods of a :class:`~driftgym.envs.services.world.ServiceGraph`.

:class:`GraphMutations` holds what changes a service graph: the topology (add or remove a call,
kept in the edge arrays sorted by caller level and in the networkx graph), the setters the kinds
of ``driftgym.perturbations.services`` call, and the on-call actions (restart, scale, rollback,
failover). It is a mixin over the state that ``ServiceGraph.__init__`` builds; each method marks
what it invalidates (``dirty``, ``dirty_errors``, ``dirty_capacity``) for the model's next settle.
"""

from __future__ import annotations

import heapq

import networkx as nx
import numpy as np

from driftgym.envs.services.graph import Levels

__all__ = ["GraphMutations", "edge_name"]


def edge_name(caller: str, callee: str) -> str:
    return f"{caller}->{callee}"


class GraphMutations:
    """Topology changes, the kinds' setters and the on-call actions of a ``ServiceGraph``."""

    # ------------------------------------------------------------------ topology
    def _set_edges(self, calls: list[tuple[int, int, float, bool, bool]]) -> None:
        """Edge arrays from (caller, callee, weight, fallback, up), sorted by caller level."""
        src = np.array([c[0] for c in calls], dtype=np.int64)
        dst = np.array([c[1] for c in calls], dtype=np.int64)
        self.levels = Levels.of(self.graph, len(self.names), src, dst)
        p = self.levels.permutation
        self.src, self.dst = src[p], dst[p]
        self.weight = np.array([c[2] for c in calls], dtype=np.float64)[p]
        self.fallback = np.array([c[3] for c in calls], dtype=bool)[p]
        self.up = np.array([c[4] for c in calls], dtype=bool)[p]
        self.hard_weight = self.weight * ~self.fallback
        self.call_slope = self.hard_weight * self.up  # a cut call always fails
        self.call_constant = 1.0 - self.hard_weight
        self.call_constant_list = self.call_constant.tolist()
        self.edge_index = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(self.src.tolist(), self.dst.tolist()))}
        self.dirty = True

    def _calls(self) -> list[tuple[int, int, float, bool, bool]]:
        return list(zip(self.src.tolist(), self.dst.tolist(), self.weight.tolist(), self.fallback.tolist(), self.up.tolist()))

    def _endpoints(self, edge: str) -> tuple[int, int] | None:
        caller, _, callee = edge.partition("->")
        if caller not in self.index or callee not in self.index:
            return None
        return self.index[caller], self.index[callee]

    def has_edge(self, edge: str) -> bool:
        ends = self._endpoints(edge)
        return ends is not None and ends in self.edge_index

    def edge_names(self, up_only: bool = False) -> list[str]:
        names = self.names
        return sorted(
            edge_name(names[a], names[b]) for (a, b), i in self.edge_index.items() if not up_only or self.up[i]
        )

    def removable_edges(self) -> list[str]:
        """Calls whose callee has another caller (removing one never orphans a service)."""
        callers = np.bincount(self.dst, minlength=len(self.names))
        names = self.names
        return sorted(edge_name(names[a], names[b]) for a, b in self.edge_index if callers[b] >= 2)

    def new_dependency(self, u: float) -> str | None:
        """The new call ``u`` picks: a caller, then a later service in topological order."""
        order = self.levels.order
        n = len(order)
        if n < 2:
            return None
        scaled = min(max(u, 0.0), 1.0 - 1e-12) * (n - 1)
        first, fraction = int(scaled), scaled - int(scaled)
        for shift in range(n - 1):
            position = (first + shift) % (n - 1)
            caller = order[position]
            free = [c for c in order[position + 1 :] if (caller, c) not in self.edge_index]
            if free:
                callee = free[min(int(fraction * len(free)), len(free) - 1)]
                return edge_name(self.names[caller], self.names[callee])
        return None

    def add_dependency(self, edge: str, weight: float, fallback: bool, up: bool = True) -> bool:
        """Add a call; refused (False) if it exists, calls the gateway, or would close a cycle."""
        ends = self._endpoints(edge)
        if ends is None or ends in self.edge_index or ends[1] == self.root or ends[0] == ends[1]:
            return False
        if nx.has_path(self.graph, ends[1], ends[0]):
            return False
        self.graph.add_edge(*ends)
        self._set_edges([*self._calls(), (ends[0], ends[1], float(weight), bool(fallback), bool(up))])
        return True

    def remove_dependency(self, edge: str) -> list | None:
        """Remove a call; returns its [weight, fallback, up], or None if it would orphan its callee."""
        ends = self._endpoints(edge)
        if ends is None or ends not in self.edge_index or self.graph.in_degree(ends[1]) < 2:
            return None
        i = self.edge_index[ends]
        removed = [float(self.weight[i]), bool(self.fallback[i]), bool(self.up[i])]
        self.graph.remove_edge(*ends)
        self._set_edges([c for c in self._calls() if (c[0], c[1]) != ends])
        return removed

    # ------------------------------------------------------------------ mutations (kinds and actions)
    def set_crashed(self, name: str, crashed: bool) -> None:
        self.crashed[self.index[name]] = crashed
        self.dirty = True

    def set_degrade(self, name: str, degrade: list[float]) -> list[float]:
        i = self.index[name]
        before = [float(self.latency_factor[i]), float(self.degrade_error[i])]
        self.latency_factor[i], self.degrade_error[i] = degrade
        self._service_changed(i)
        self.dirty = True
        return before

    def set_edge_up(self, edge: str, up: bool) -> bool:
        i = self.edge_index[self._endpoints(edge)]
        before = bool(self.up[i])
        self.up[i] = up
        self.call_slope[i] = self.hard_weight[i] if up else 0.0
        self.dirty = True
        return before

    def set_leak(self, name: str, rate: float) -> float:
        i = self.index[name]
        before = float(self.leak[i])
        self.leak[i] = rate
        self.leaking = bool(self.leak.any())
        return before

    def set_version(self, name: str, version: str, error_rate: float = 0.0) -> str:
        i = self.index[name]
        before = "bad" if self.bad[i] else "good"
        self.bad[i] = version == "bad"
        self.bad_error[i] = error_rate if version == "bad" else 0.0
        self._service_changed(i)
        self.dirty_errors = True
        return before

    def scale_load(self, factor: float) -> None:
        self.load_factor *= factor

    def set_hit_ratio(self, name: str, ratio: float) -> float:
        i = self.index[name]
        before = float(self.hit[i])
        self.hit[i] = ratio
        self.warming = bool((self.hit < self.warm_hit).any())
        self.dirty = True
        return before

    def set_region_down(self, region: str, down: bool) -> bool:
        r = self.regions.index(region)
        before = bool(self.region_down[r])
        self.region_down[r] = down
        self.dirty = True
        return before

    def _service_changed(self, i: int) -> None:
        """Own latency and error rate of service ``i`` after its degrade or version changed."""
        self.own_latency[i] = self.base_latency[i] * self.latency_factor[i]
        errors = self.base_error[i] + self.degrade_error[i] + (self.bad_error[i] if self.bad[i] else 0.0)
        self.own_error[i] = min(errors, 1.0)

    # ----- the on-call actions: True if it did something, False if it could not
    def restart(self, i: int) -> bool:
        if self.region_down[self.region[i]]:
            return False
        self.crashed[i] = False
        until = self.step + 1 + self.dynamics.restart_steps
        self.restart_until[i] = until
        heapq.heappush(self.restart_ends, (until, i))
        self.memory[i] = self.memory_base[i]
        if self.leak[i]:
            self.leak[i] = 0.0
            self.leaking = bool(self.leak.any())
        self.overload[i] = 0
        # a service already down or restarting stays out of the graph: nothing cached changes
        self.dirty = self.dirty or bool(self.alive[i])
        return True

    def scale(self, i: int, delta: int) -> bool:
        replicas = self.replicas[i] + delta
        if not 1 <= replicas <= self.dynamics.max_replicas:
            return False
        self.replicas[i] = replicas
        self.total_replicas += delta
        self.service_capacity[i] = replicas * self.capacity[i]
        self.dirty_capacity = True
        return True

    def rollback(self, i: int) -> bool:
        if not self.bad[i]:
            return False
        self.bad[i] = False
        self.bad_error[i] = 0.0
        self._service_changed(i)
        self.dirty_errors = True
        return True

    def failover(self, i: int) -> bool:
        """Restart in the next region that is up; fresh hosts drop a degrade and heal its cut calls."""
        count = len(self.regions)
        targets = [(self.region[i] + k) % count for k in range(1, count)]
        target = next((r for r in targets if not self.region_down[r]), None)
        if target is None:
            return False
        self.region[i] = target
        self.restart(i)
        self.dirty = True
        self.latency_factor[i], self.degrade_error[i] = 1.0, 0.0
        self._service_changed(i)
        touching = np.flatnonzero((self.src == i) | (self.dst == i))
        self.up[touching] = True
        self.call_slope[touching] = self.hard_weight[touching]
        return True
