"""Service-graph kinds: incidents of a microservice graph (``world = "services"``).

They act on a service world through its public mutation methods only (never an env import):
``service_names``, ``edge_names()``, ``region_names``, ``cache_names``, ``health_of``,
``set_crashed``, ``set_degrade``, ``set_edge_up``, ``set_leak``, ``set_version``,
``scale_load``, ``add_dependency``, ``remove_dependency``, ``new_dependency``,
``removable_edges``, ``set_hit_ratio``, ``set_region_down``. Edges are named ``"caller->callee"``.

=====================  =============================================================  ==========
kind                   effect                                                         reverts to
=====================  =============================================================  ==========
``crash``              the service is down until restarted (or failed over)           not down
``degrade``            latency x ``latency_factor``, + ``error_rate`` errors;          before
                       ``duration`` omitted: lasting (until failover)
``partition``          the call ``edge`` is cut (calls over it fail, time out);       before
                       ``duration`` omitted: lasting (until either end fails over)
``memory_leak``        memory grows by ``rate`` (of the limit) per step; at the       before
                       limit the service crashes. ``restart`` fixes it
``bad_deploy``         the version becomes bad: + ``error_rate`` errors. ``rollback``  before
``load_spike``         gateway load x ``factor`` for ``duration`` steps               / factor
``add_dependency``     a new call ``edge`` (``weight``, ``fallback``); never a cycle  removed
``remove_dependency``  a call disappears (never the last caller of a service)         re-added
``cache_flush``        the cache's hit ratio drops to 0 (the backing store takes the  before
                       load); it re-warms by itself
``region_outage``      every service in ``region`` is down; ``duration`` omitted:     up
                       lasting (failover moves a service out)
=====================  =============================================================  ==========

An omitted target (``service``, ``edge``, ``region``) is drawn at compile time as ``pick`` and
resolved against the sorted candidates when the kind fires: every service; the edges that are up
(``partition``); the removable edges (``remove_dependency``); the caches (``cache_flush``); the
regions. ``add_dependency`` without ``edge`` takes the pair ``pick`` names in the world's
topological order (a caller before its callee), so the graph stays acyclic. A kind whose target
does not exist when it fires (no cache, a cycle, an edge gone) changes nothing and logs
``after = None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from driftgym.perturbations.core import Perturbation, PerturbationError, register_kind

__all__ = [
    "AddDependency",
    "BadDeploy",
    "CacheFlush",
    "Crash",
    "Degrade",
    "LoadSpike",
    "MemoryLeak",
    "Partition",
    "RegionOutage",
    "RemoveDependency",
]


def _number(value: Any) -> bool:
    """Whether a parameter is a plain number now (a random one is checked when drawn)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_positive(kind: str, name: str, value: float) -> None:
    if _number(value) and not value > 0:
        raise PerturbationError(f"{name}: {kind} needs {name} > 0 (got {value})")


def _check_rate(kind: str, name: str, value: float) -> None:
    if _number(value) and not 0.0 <= value <= 1.0:
        raise PerturbationError(f"{name}: {kind} needs 0 <= {name} <= 1 (got {value})")


def _check_duration(kind: str, duration: int | None) -> None:
    if _number(duration) and duration < 1:
        raise PerturbationError(f"duration: {kind} needs duration >= 1 or omitted (got {duration})")


@dataclass(frozen=True)
class ServiceKind(Perturbation):
    """A kind aimed at one service (``service`` omitted: picked from every service)."""

    world = "services"
    target_field = "service"

    def service_target(self, world: Any) -> str | None:
        name = self.target(world.service_names)
        return name if name in world.index else None


@register_kind
@dataclass(frozen=True)
class Crash(ServiceKind):
    kind = "crash"
    summary = "a service goes down until restarted"
    service: str | None = None
    pick: float | None = None

    def change(self, world, rng, step):
        name = self.service_target(world)
        if name is None:
            return self.service, None, None
        before = world.health_of(name)
        world.set_crashed(name, True)
        return name, before, world.health_of(name)

    def revert(self, world, target, before, step):
        if target is None or before is None:
            return target, None, None
        now = world.health_of(target)
        world.set_crashed(target, False)
        return target, now, world.health_of(target)


@register_kind
@dataclass(frozen=True)
class Degrade(ServiceKind):
    kind = "degrade"
    transient = True
    summary = "a service gets slower (latency_factor) and fails more (error_rate); lasting without duration"
    service: str | None = None
    latency_factor: float = 3.0
    error_rate: float = 0.05
    duration: int | None = None
    pick: float | None = None

    def validate(self) -> None:
        _check_positive(self.kind, "latency_factor", self.latency_factor)
        _check_rate(self.kind, "error_rate", self.error_rate)
        _check_duration(self.kind, self.duration)

    def change(self, world, rng, step):
        name = self.service_target(world)
        if name is None:
            return self.service, None, None
        before = world.set_degrade(name, [self.latency_factor, self.error_rate])
        return name, before, [self.latency_factor, self.error_rate]

    def revert(self, world, target, before, step):
        if target is None or before is None:
            return target, None, None
        return target, world.set_degrade(target, before), before


@dataclass(frozen=True)
class EdgeKind(Perturbation):
    """A kind aimed at one call ``edge`` named ``"caller->callee"``."""

    world = "services"
    target_field = "edge"

    def validate(self) -> None:
        edge = getattr(self, "edge", None)
        if isinstance(edge, str) and edge.count("->") != 1:
            raise PerturbationError(f"edge: {self.kind} names an edge as 'caller->callee' (got {edge!r})")


@register_kind
@dataclass(frozen=True)
class Partition(EdgeKind):
    kind = "partition"
    transient = True
    summary = "cut a call edge (calls over it fail); lasting without duration"
    edge: str | None = None
    duration: int | None = None
    pick: float | None = None

    def validate(self) -> None:
        super().validate()
        _check_duration(self.kind, self.duration)

    def change(self, world, rng, step):
        edge = self.target(world.edge_names(up_only=True))
        if edge is None or not world.has_edge(edge):
            return edge, None, None
        return edge, world.set_edge_up(edge, False), False

    def revert(self, world, target, before, step):
        if target is None or before is None or not world.has_edge(target):
            return target, None, None
        return target, world.set_edge_up(target, before), before


@register_kind
@dataclass(frozen=True)
class MemoryLeak(ServiceKind):
    kind = "memory_leak"
    summary = "memory grows by rate (of the limit) per step until the service crashes; restart fixes it"
    service: str | None = None
    rate: float = 0.02
    pick: float | None = None

    def validate(self) -> None:
        _check_positive(self.kind, "rate", self.rate)

    def change(self, world, rng, step):
        name = self.service_target(world)
        if name is None:
            return self.service, None, None
        return name, world.set_leak(name, self.rate), self.rate

    def revert(self, world, target, before, step):
        if target is None or before is None:
            return target, None, None
        return target, world.set_leak(target, before), before


@register_kind
@dataclass(frozen=True)
class BadDeploy(ServiceKind):
    kind = "bad_deploy"
    summary = "a bad version is deployed (adds error_rate errors); rollback fixes it"
    service: str | None = None
    error_rate: float = 0.3
    pick: float | None = None

    def validate(self) -> None:
        _check_rate(self.kind, "error_rate", self.error_rate)

    def change(self, world, rng, step):
        name = self.service_target(world)
        if name is None:
            return self.service, None, None
        before = world.set_version(name, "bad", self.error_rate)
        return name, before, "bad"

    def revert(self, world, target, before, step):
        if target is None or before is None:
            return target, None, None
        return target, world.set_version(target, before), before


@register_kind
@dataclass(frozen=True)
class LoadSpike(Perturbation):
    kind = "load_spike"
    world = "services"
    transient = True
    summary = "the load entering at the gateway is multiplied by factor for duration steps"
    factor: float = 3.0
    duration: int | None = 10

    def validate(self) -> None:
        _check_positive(self.kind, "factor", self.factor)
        _check_duration(self.kind, self.duration)

    def change(self, world, rng, step):
        before = world.load_factor
        world.scale_load(self.factor)
        return "gateway", before, world.load_factor

    def revert(self, world, target, before, step):
        now = world.load_factor
        world.scale_load(1.0 / self.factor)
        return target, now, world.load_factor


@register_kind
@dataclass(frozen=True)
class AddDependency(EdgeKind):
    kind = "add_dependency"
    summary = "a new call edge appears (weight: fraction of requests that make it); never a cycle"
    edge: str | None = None
    weight: float = 0.5
    fallback: bool = False
    pick: float | None = None

    def validate(self) -> None:
        super().validate()
        if _number(self.weight) and not 0.0 < self.weight <= 1.0:
            raise PerturbationError(f"weight: add_dependency needs 0 < weight <= 1 (got {self.weight})")

    def change(self, world, rng, step):
        edge = self.edge if self.edge is not None else world.new_dependency(self.pick or 0.0)
        if edge is None or not world.add_dependency(edge, self.weight, self.fallback):
            return edge, None, None
        return edge, False, True

    def revert(self, world, target, before, step):
        if target is None or before is None or not world.remove_dependency(target):
            return target, None, None
        return target, True, False


@register_kind
@dataclass(frozen=True)
class RemoveDependency(EdgeKind):
    kind = "remove_dependency"
    summary = "a call edge disappears (never the last caller of a service)"
    edge: str | None = None
    pick: float | None = None

    def change(self, world, rng, step):
        edge = self.target(world.removable_edges())
        removed = world.remove_dependency(edge) if edge is not None else None
        if not removed:
            return edge, None, None
        return edge, removed, False

    def revert(self, world, target, before, step):
        if target is None or before is None:
            return target, None, None
        weight, fallback, up = before
        if not world.add_dependency(target, weight, fallback, up):
            return target, None, None
        return target, False, before


@register_kind
@dataclass(frozen=True)
class CacheFlush(ServiceKind):
    kind = "cache_flush"
    summary = "a cache loses its entries: hit ratio 0, the backing store takes the load; it re-warms"
    service: str | None = None
    pick: float | None = None

    def change(self, world, rng, step):
        name = self.target(world.cache_names)
        if name is None or name not in world.cache_names:
            return name, None, None
        return name, world.set_hit_ratio(name, 0.0), 0.0

    def revert(self, world, target, before, step):
        if target is None or before is None:
            return target, None, None
        return target, world.set_hit_ratio(target, before), before


@register_kind
@dataclass(frozen=True)
class RegionOutage(Perturbation):
    kind = "region_outage"
    world = "services"
    target_field = "region"
    transient = True
    summary = "every service in a region is down; lasting without duration (failover moves out)"
    region: str | None = None
    duration: int | None = None
    pick: float | None = None

    def validate(self) -> None:
        _check_duration(self.kind, self.duration)

    def change(self, world, rng, step):
        region = self.target(world.region_names)
        if region not in world.region_names:
            return region, None, None
        return region, world.set_region_down(region, True), True

    def revert(self, world, target, before, step):
        if target is None or before is None:
            return target, None, None
        return target, world.set_region_down(target, before), before
