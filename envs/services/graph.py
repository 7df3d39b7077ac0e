"""Topology of a service graph: generation from the seed, and the level structure of one DAG.

The graph is a networkx ``DiGraph`` rooted at ``gateway`` (every service reachable from it, no
cycle). networkx is consulted only when the topology changes; the per-step dynamics run over the
numpy edge arrays grouped by the topological level of their caller (:class:`Levels`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np

__all__ = ["Levels", "TOPOLOGIES", "generate_topology", "service_names"]

TOPOLOGIES = ("layered", "random")
ROLES = ("auth", "catalog", "cart", "cache", "queue")


def service_names(n_services: int) -> list[str]:
    """gateway, api, auth, catalog, cart, cache, queue, ..., db (generic names past the roles)."""
    width = len(str(n_services))
    middle = [ROLES[i] if i < len(ROLES) else f"svc{i + 2:0{width}d}" for i in range(n_services - 3)]
    return ["gateway", "api", *middle, "db"]


def layer_widths(n_services: int) -> list[int]:
    """gateway alone, api alone, the middle services in layers of about sqrt(n), then db."""
    middle = n_services - 3
    width = max(3, math.ceil(math.sqrt(max(middle, 1))))
    chunks = [min(width, middle - i) for i in range(0, middle, width)]
    return [1, 1, *chunks, 1]


def _layered_edges(n_services: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    widths = layer_widths(n_services)
    starts = np.cumsum([0, *widths])
    layers = [list(range(starts[i], starts[i + 1])) for i in range(len(widths))]
    edges: set[tuple[int, int]] = set()
    for above, below in zip(layers, layers[1:]):
        callers: set[int] = set()
        for node in below:
            count = min(len(above), 1 + int(rng.random() < 0.5))
            for parent in rng.choice(above, size=count, replace=False):
                edges.add((int(parent), node))
                callers.add(int(parent))
        for parent in above:
            if parent not in callers:
                edges.add((parent, int(below[int(rng.integers(len(below)))])))
    return sorted(edges)


def _random_dag_edges(n_services: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    edges: set[tuple[int, int]] = set()
    for node in range(1, n_services):
        count = min(node, 1 + int(rng.random() < 0.5))
        for parent in rng.choice(node, size=count, replace=False):
            edges.add((int(parent), node))
    return sorted(edges)


def generate_topology(n_services: int, topology: str, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Edges (caller index, callee index) of a DAG over ``service_names(n_services)``.

    Index order is a topological order; a ``cache`` always calls ``db`` (its backing store).
    """
    if topology not in TOPOLOGIES:
        raise ValueError(f"topology must be one of {', '.join(TOPOLOGIES)} (got {topology!r})")
    edges = _layered_edges(n_services, rng) if topology == "layered" else _random_dag_edges(n_services, rng)
    names = service_names(n_services)
    if "cache" in names:
        backing = (names.index("cache"), n_services - 1)
        if backing not in edges:
            edges = sorted([*edges, backing])
    return edges


SMALL_GRAPH_EDGES = 64


@dataclass
class Levels:
    """Edge arrays grouped by the topological level of the caller, for O(V+E) passes.

    ``order`` is the topological order (level by level, index order within a level);
    ``groups`` holds per caller level ``(edge slice, callers, callees)`` with edges sorted by
    (caller level, caller, callee). A pass over a graph of at most ``SMALL_GRAPH_EDGES`` calls
    runs edge by edge over Python lists (``pairs``), where numpy's per-call overhead would
    dominate; both give the same numbers (up to rounding), tests check it.
    """

    order: list[int]
    position: np.ndarray
    permutation: np.ndarray
    groups: list[tuple[slice, np.ndarray, np.ndarray]]
    pairs: list[tuple[int, int]] | None = None

    @classmethod
    def of(cls, graph: nx.DiGraph, n_services: int, src: np.ndarray, dst: np.ndarray) -> Levels:
        level = np.zeros(n_services, dtype=np.int64)
        order: list[int] = []
        for depth, generation in enumerate(nx.topological_generations(graph)):
            members = sorted(generation)
            level[members] = depth
            order.extend(members)
        position = np.empty(n_services, dtype=np.int64)
        position[order] = np.arange(n_services)
        permutation = np.lexsort((dst, src, level[src])) if len(src) else np.zeros(0, dtype=np.int64)
        src_sorted, dst_sorted = src[permutation], dst[permutation]
        groups: list[tuple[slice, np.ndarray, np.ndarray]] = []
        caller_levels = level[src_sorted]
        bounds = np.flatnonzero(np.diff(caller_levels)) + 1
        for start, stop in zip([0, *bounds.tolist()], [*bounds.tolist(), len(src_sorted)]):
            if stop > start:
                groups.append((slice(start, stop), src_sorted[start:stop], dst_sorted[start:stop]))
        pairs = list(zip(src_sorted.tolist(), dst_sorted.tolist())) if len(src) <= SMALL_GRAPH_EDGES else None
        return cls(order, position, permutation, groups, pairs)

    def forward(self, seed: np.ndarray, factor: np.ndarray, vectorised: bool = False) -> np.ndarray:
        """x[:, callee] += x[:, caller] * factor[:, edge], callers first: load or reach from the gateway.

        ``seed`` is (k, V) and ``factor`` (k, E): k propagations in one pass.
        """
        if self.pairs is not None and not vectorised and len(seed) == 2:
            x, y = seed.tolist()
            f, g = factor.tolist()
            for (caller, callee), a, b in zip(self.pairs, f, g):
                x[callee] += x[caller] * a
                y[callee] += y[caller] * b
            return np.array([x, y])
        x = seed.copy()
        for edges, callers, callees in self.groups:
            np.add.at(x, (slice(None), callees), x[:, callers] * factor[:, edges])
        return x

    def backward(self, own: np.ndarray, constant: np.ndarray, slope: np.ndarray, vectorised: bool = False) -> np.ndarray:
        """s[caller] *= constant[edge] + slope[edge] * s[callee], callees first: success rates."""
        if self.pairs is not None and not vectorised:
            s = own.tolist()
            for (caller, callee), c, k in zip(reversed(self.pairs), constant[::-1].tolist(), slope[::-1].tolist()):
                s[caller] *= c + k * s[callee]
            return np.array(s)
        s = own.copy()
        for edges, callers, callees in reversed(self.groups):
            np.multiply.at(s, callers, constant[edges] + slope[edges] * s[callees])
        return s
