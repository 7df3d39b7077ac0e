"""`ServicesEnv`: driftgym/Services-v0, on-call incident response over a microservice graph."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from driftgym.envs.base import DriftEnv, check_whole
from driftgym.envs.services.graph import TOPOLOGIES
from driftgym.envs.services.world import HEALTH, REGIONS, ServiceGraph

__all__ = ["ACTION_COSTS", "DEFAULT_SCHEDULE", "OPERATIONS", "ServicesEnv"]

OPERATIONS = ("noop", "probe", "restart", "scale_up", "scale_down", "rollback", "failover")
NOOP, PROBE, RESTART, SCALE_UP, SCALE_DOWN, ROLLBACK, FAILOVER = range(len(OPERATIONS))
ACTION_COSTS = (0.0, 0.01, 0.05, 0.02, 0.02, 0.05, 0.1)
OUTCOMES = ("none", "done", "failed")
PROBE_COLUMNS = ("utilisation", "latency_ms", "error_rate", "memory", "replicas", "cut_calls")
ALERTS = (np.array([1], dtype=np.int8), np.array([0], dtype=np.int8))  # by slo_met; copied into each observation
OUTCOME_CODES = tuple(np.array([code], dtype=np.int64) for code in range(len(OUTCOMES)))

DEFAULT_SCHEDULE = (
    {"at": 30, "perturb": {"kind": "memory_leak", "rate": 0.01}},
    {"at": 60, "perturb": {"kind": "bad_deploy", "error_rate": 0.3}},
    {"at": 100, "perturb": {"kind": "cache_flush"}},
    {"at": 120, "perturb": {"kind": "degrade", "latency_factor": 4.0, "error_rate": 0.05}},
    {"at": 150, "perturb": {"kind": "partition", "duration": 25}},
    {"at": 180, "perturb": {"kind": "load_spike", "factor": 2.5, "duration": 20}},
    {"at": 220, "perturb": {"kind": "crash"}},
    {"at": 240, "perturb": {"kind": "add_dependency", "weight": 0.5}},
    {"at": 250, "perturb": {"kind": "region_outage", "duration": 15}},
    {"at": 270, "perturb": {"kind": "remove_dependency"}},
)


class ServicesEnv(DriftEnv):
    """On call for a microservice graph that crashes, degrades, leaks, gets partitioned and re-wired.

    ## Description
    A dependency graph of ``n_services`` services rooted at ``gateway`` (``layered``: gateway ->
    api -> auth, catalog, cart -> cache, queue -> db at the default size; ``random``: a random
    DAG), generated from the seed. Each service has replicas, a capacity per replica, a base
    latency and error rate, a health (up / degraded / down / restarting), a version (good or
    bad), memory in use and a region; each call edge has a weight (the fraction of the caller's
    requests that make the call), may have a fallback (its failure does not fail the request)
    and can be cut. A daily load curve with seeded noise enters at the gateway and flows along
    the calls; utilisation gives latency (queueing, capped at 20x) and overload errors; the end
    to end success rate and latency come from the graph, callees first. A service overloaded
    for 5 steps in a row, or whose leaking memory reaches its limit, crashes. The model is
    written out in ``driftgym.envs.services.world``.

    ## Action Space
    ``MultiDiscrete([7, n_services])``: (operation, service); the service is ignored by noop.

    | op | name       | effect                                                             | cost |
    |----|------------|--------------------------------------------------------------------|------|
    | 0  | noop       | nothing                                                            | 0    |
    | 1  | probe      | read the service's metrics, health, version, region and calls now  | 0.01 |
    | 2  | restart    | down for 3 steps, then up: fixes a crash and a memory leak          | 0.05 |
    | 3  | scale_up   | one more replica (at most 10)                                      | 0.02 |
    | 4  | scale_down | one replica fewer (at least 1)                                     | 0.02 |
    | 5  | rollback   | back to the good version: fixes a bad deploy (no downtime)         | 0.05 |
    | 6  | failover   | restart in the next region that is up: also drops a degrade and    | 0.1  |
    |    |            | heals the cut calls of the service                                 |      |

    An action that cannot act (restart in a region that is down, rollback of a good version,
    scaling past the bounds, failover with no region up) fails: ``outcome`` 2, cost charged.

    ## Observation Space
    A ``Dict``; the global metrics every step, per service only what the agent last probed:

    | key       | space                                 | meaning                                          |
    |-----------|---------------------------------------|--------------------------------------------------|
    | metrics   | Box(0, [1, inf, inf], (3,), float32)  | end-to-end success rate, latency ms, gateway load |
    | alert     | MultiBinary(1)                        | 1 if the SLO is broken (never says where)        |
    | health    | MultiDiscrete([5] * V)                | 0 never probed, 1 up, 2 degraded, 3 down, 4 restarting |
    | version   | MultiDiscrete([3] * V)                | 0 never probed, 1 good, 2 bad                    |
    | region    | MultiDiscrete([R + 1] * V)            | 0 never probed, else 1 + region index            |
    | probe     | Box(0, inf, (V, 6), float32)          | utilisation, latency ms, error rate, memory, replicas, cut calls |
    | age       | Box(-1, inf, (V,), float32)           | steps since the probe (-1 never)                  |
    | outcome   | MultiDiscrete([3])                    | last action: 0 noop, 1 done, 2 failed            |
    | changed   | Box(0, 1, (1,), float32)              | under ``visibility="flag"`` and above            |
    | magnitude | Box(0, inf, (1,), float32)            | under ``visibility="magnitude"`` and ``"full"``  |

    Services are indexed in generation order (``env.unwrapped.world.names``). ``info["outcome"]``
    names the last action's outcome. ``env.unwrapped.view_facts()`` reads the view as facts
    (the keys of ``facts()`` the agent has an opinion on: ``svc:<name>:health``, ``:version``,
    ``:replicas``, ``:region`` of probed services and ``edge:<a>-><b>:up`` of their calls as
    probed).

    ## Rewards
    ``slo_met - replica_cost * replicas / initial_replicas - action_cost`` per step: 1 when the
    success rate is at least ``slo_success`` and the latency at most ``slo_latency``, minus the
    replica bill relative to the starting fleet, minus the action's cost (table above).

    ## Starting State
    All services up, good versions, caches warm, each at 35-55% utilisation under the nominal
    load. The default SLO is ``min(0.99, healthy success - 0.005)`` and twice the healthy latency.

    ## Episode End
    Never terminates; truncates at ``horizon`` (default 300).

    ## Perturbations
    Kinds (``driftgym.perturbations.services``): ``crash``, ``degrade`` (latency_factor,
    error_rate, duration), ``partition`` (edge, duration), ``memory_leak`` (rate),
    ``bad_deploy`` (error_rate), ``load_spike`` (factor, duration), ``add_dependency`` (edge,
    weight, fallback), ``remove_dependency`` (edge), ``cache_flush``, ``region_outage`` (region,
    duration). Omitted targets are drawn from the seed. Default schedule (``DEFAULT_SCHEDULE``):
    30 memory_leak rate 0.01; 60 bad_deploy; 100 cache_flush; 120 degrade x4 (lasting);
    150 partition for 25; 180 load_spike x2.5 for 20; 220 crash; 240 add_dependency;
    250 region_outage for 15; 270 remove_dependency — every target picked, so only probing
    tells where. Each break of the SLO opens an incident: ``env.unwrapped.incidents`` lists
    ``(opened_step, closed_step or None)`` and ``world.mean_time_to_recovery()`` averages them.

    ## Arguments
    ``n_services=8`` (>= 3), ``topology="layered"`` or ``"random"``, ``n_regions=2`` (1-4),
    ``slo_success=None``, ``slo_latency=None`` (ms; None: derived as above),
    ``replica_cost=0.2``, ``schedule=None`` (the default), ``horizon=None`` (300),
    ``visibility="hidden"``, ``render_mode=None`` or ``"ansi"``.

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}
    world_kind = "services"
    belief_prefixes = ("svc", "edge")  # what world-model probes ask about
    default_schedule = DEFAULT_SCHEDULE
    default_horizon = 300

    def __init__(
        self,
        n_services: int = 8,
        topology: str = "layered",
        n_regions: int = 2,
        slo_success: float | None = None,
        slo_latency: float | None = None,
        replica_cost: float = 0.2,
        schedule: Any = None,
        horizon: int | None = None,
        visibility: str = "hidden",
        render_mode: str | None = None,
    ) -> None:
        super().__init__(schedule, horizon, visibility, render_mode)
        n_services = check_whole("n_services", n_services, 3)
        if topology not in TOPOLOGIES:
            raise ValueError(f"topology must be one of {', '.join(TOPOLOGIES)} (got {topology!r})")
        if isinstance(n_regions, bool) or not isinstance(n_regions, (int, np.integer)) or not 1 <= n_regions <= len(REGIONS):
            raise ValueError(f"n_regions must be a whole number in [1, {len(REGIONS)}] (got {n_regions!r})")
        self.n_services, self.topology, self.n_regions = int(n_services), topology, int(n_regions)
        self.slo_success, self.slo_latency, self.replica_cost = slo_success, slo_latency, float(replica_cost)
        v = self.n_services
        self.action_space = spaces.MultiDiscrete([len(OPERATIONS), v])
        self.observation_space = spaces.Dict(
            {
                "metrics": spaces.Box(np.zeros(3, np.float32), np.array([1.0, np.inf, np.inf], np.float32), dtype=np.float32),
                "alert": spaces.MultiBinary(1),
                "health": spaces.MultiDiscrete([len(HEALTH) + 1] * v),
                "version": spaces.MultiDiscrete([3] * v),
                "region": spaces.MultiDiscrete([self.n_regions + 1] * v),
                "probe": spaces.Box(0.0, np.inf, (v, len(PROBE_COLUMNS)), np.float32),
                "age": spaces.Box(-1.0, np.inf, (v,), np.float32),
                "outcome": spaces.MultiDiscrete([len(OUTCOMES)]),
                **self.notice_spaces(),
            }
        )

    # ----- episode
    def _build_world(self, rng: np.random.Generator) -> ServiceGraph:
        return ServiceGraph.generate(
            rng, self.n_services, self.topology, self.n_regions, self.slo_success, self.slo_latency
        )

    def _reset_view(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        v = self.n_services
        self.view_health = np.zeros(v, dtype=np.int64)
        self.view_version = np.zeros(v, dtype=np.int64)
        self.view_region = np.zeros(v, dtype=np.int64)
        self.view_probe = np.zeros((v, len(PROBE_COLUMNS)), dtype=np.float32)
        self.view_step = np.full(v, -1, dtype=np.int64)
        # ages as probed * (t - 1) + offset: offset -probe step when probed, -1 never
        self.view_probed = np.zeros(v, dtype=np.float32)
        self.view_offset = np.full(v, -1.0, dtype=np.float32)
        self.view_calls: dict[int, list[tuple[int, bool]]] = {}
        self.outcome = 0
        self.slo_steps = 0
        self.initial_replicas = self.world.total_replicas
        self._noise: list[float] = []
        return self._observe(), {}

    def _act(self, action: Any) -> tuple[float, bool, dict[str, Any]]:
        operation, service = action.tolist() if type(action) is np.ndarray else (int(action[0]), int(action[1]))
        self.outcome = self._operate(operation, service)
        world = self.world
        world.advance(self._t, self._next_noise())
        if operation == PROBE:
            self._probe(service)
        bill = self.replica_cost * float(world.total_replicas) / self.initial_replicas
        reward = float(world.slo_met) - bill - ACTION_COSTS[operation]
        self.slo_steps += bool(world.slo_met)
        return reward, False, {"outcome": OUTCOMES[self.outcome]}

    def episode_figures(self) -> dict[str, Any]:
        """Incidents, mean time to recovery and SLO attainment of the episode so far."""
        world = self._require_reset().world
        return {
            "incidents": len(world.incidents),
            "mttr": world.mean_time_to_recovery(),
            "slo_attainment": self.slo_steps / max(self._t, 1),
        }

    def _valid_action(self, action: Any) -> bool:
        """The base check, with a fast path for the usual (operation, service) integer array."""
        if type(action) is np.ndarray and action.shape == (2,) and action.dtype.kind in "iu":
            operation, service = action.tolist()
            return 0 <= operation < len(OPERATIONS) and 0 <= service < self.n_services
        return super()._valid_action(action)

    def _operate(self, operation: int, i: int) -> int:
        world = self.world
        if operation == NOOP:
            return 0
        if operation == PROBE:
            return 1
        if operation == RESTART:
            done = world.restart(i)
        elif operation in (SCALE_UP, SCALE_DOWN):
            done = world.scale(i, 1 if operation == SCALE_UP else -1)
        elif operation == ROLLBACK:
            done = world.rollback(i)
        else:
            done = world.failover(i)
        return 1 if done else 2

    def _next_noise(self) -> float:
        """One standard normal per step from the dynamics stream (drawn in blocks of 256)."""
        if not self._noise:
            self._noise = self.dynamics_rng.standard_normal(256).tolist()[::-1]
        return self._noise.pop()

    def _probe(self, i: int) -> None:
        world = self.world
        self.view_health[i] = HEALTH.index(world.health_of(world.names[i])) + 1
        self.view_version[i] = 2 if world.bad[i] else 1
        self.view_region[i] = int(world.region[i]) + 1
        self.view_probe[i] = world.service_metrics(i)
        self.view_step[i] = self._t
        self.view_probed[i], self.view_offset[i] = 1.0, -self._t
        self.view_calls[i] = world.calls_of(i)

    def _observe(self) -> dict[str, np.ndarray]:
        world = self.world
        ages = self.view_probed * np.float32(self._t - 1) + self.view_offset
        return {
            "metrics": np.array([world.success, world.latency, world.gateway_load], dtype=np.float32),
            "alert": ALERTS[bool(world.slo_met)].copy(),
            "health": self.view_health.copy(),
            "version": self.view_version.copy(),
            "region": self.view_region.copy(),
            "probe": self.view_probe.copy(),
            "age": ages,
            "outcome": OUTCOME_CODES[self.outcome].copy(),
            **self.notice,
        }

    # ----- evaluation handles
    @property
    def incidents(self) -> list[tuple[int, int | None]]:
        """Every break of the SLO: (opened_step, closed_step or None while still open)."""
        return [(a, b) for a, b in self._require_reset().world.incidents]

    def view_facts(self) -> dict[str, Any]:
        """The facts the agent's view implies (same keys as ``facts()``, probed ones only)."""
        self._require_reset()
        names, regions = self.world.names, self.world.regions
        facts: dict[str, Any] = {}
        for i in np.flatnonzero(self.view_step >= 0).tolist():
            name = names[i]
            facts[f"svc:{name}:health"] = HEALTH[self.view_health[i] - 1]
            facts[f"svc:{name}:version"] = ("good", "bad")[self.view_version[i] - 1]
            facts[f"svc:{name}:replicas"] = int(self.view_probe[i, 4])
            facts[f"svc:{name}:region"] = regions[self.view_region[i] - 1]
            for callee, up in self.view_calls[i]:
                facts[f"edge:{name}->{names[callee]}:up"] = up
        return facts

    def _render_ansi(self) -> str:
        world = self.world
        status = "ok" if world.slo_met else "ALERT"
        lines = [
            f"step {world.step}  load {world.gateway_load:.0f}  success {world.success:.4f} (slo {world.slo_success})  "
            f"latency {world.latency:.1f} ms (slo {world.slo_latency})  {status}"
        ]
        health = world.health_codes()
        for i in world.levels.order:
            calls = [
                world.names[callee] + ("" if up else " (cut)")
                for callee, up in world.calls_of(i)
            ]
            version = "bad" if world.bad[i] else "good"
            lines.append(
                f"  {world.names[i]:<12} {HEALTH[health[i]]:<10} util {world.utilisation[i]:5.2f}  "
                f"x{world.replicas[i]:<2} {world.regions[world.region[i]]:<8} {version:<4}"
                + (f" -> {', '.join(calls)}" if calls else "")
            )
        return "\n".join(lines) + "\n"
