"""driftgym/Services-v0: the service-graph world, its perturbation kinds and the on-call env."""

from __future__ import annotations

import math

import gymnasium as gym
import networkx as nx
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st

import driftgym  # noqa: F401
from driftgym.envs.services import OPERATIONS, ServiceGraph, ServicesEnv
from driftgym.perturbations import PerturbationError, kind_names, perturbation_from_dict

NOOP, PROBE, RESTART, SCALE_UP, SCALE_DOWN, ROLLBACK, FAILOVER = range(7)
RNG = np.random.default_rng(0)


def hand_world(**kw) -> ServiceGraph:
    """gateway -> api -> {cache (fallback), db}; cache -> db; no base errors; huge capacity."""
    edges = [
        ("gateway", "api", 1.0, False),
        ("api", "cache", 0.8, True),
        ("api", "db", 0.5, False),
        ("cache", "db", 1.0, False),
    ]
    options = dict(
        capacity=[1e9] * 4,
        base_latency=[1.0, 2.0, 3.0, 4.0],
        base_error=[0.0] * 4,
        region=[0, 0, 1, 1],
        hit_ratio=[0.0, 0.0, 0.75, 0.0],
        slo_success=0.99,
        slo_latency=100.0,
    )
    options.update(kw)
    return ServiceGraph(["gateway", "api", "cache", "db"], edges, **options)


def fire(world: ServiceGraph, perturb: dict, step: int = 0):
    change = perturbation_from_dict(perturb).change(world, RNG, step)
    world.settle()
    return change


def reference(world: ServiceGraph) -> tuple[float, float]:
    """End-to-end success and latency by plain recursion over the DAG (the model, written out)."""
    d, graph = world.dynamics, world.graph
    alive = [
        not world.crashed[v] and not world.region_down[world.region[v]] and world.restart_until[v] < 0
        for v in range(len(world.names))
    ]
    load = {}
    for v in nx.topological_sort(graph):
        load[v] = world.gateway_load if v == world.root else sum(
            world.weight[world.edge_index[(u, v)]] * world.up[world.edge_index[(u, v)]]
            * alive[u] * (1 - world.hit[u]) * load[u]
            for u in graph.predecessors(v)
        )
    util = [load[v] / (world.replicas[v] * world.capacity[v]) for v in range(len(world.names))]

    def own_ok(v):
        if not alive[v]:
            return 0.0
        err = min(world.base_error[v] + world.degrade_error[v] + world.bad[v] * world.bad_error[v], 1.0)
        return (1 - err) * (min(1.0, 1.0 / util[v]) if util[v] > 1 else 1.0)

    def success(v):
        s = own_ok(v)
        for c in world.graph.successors(v):
            e = world.edge_index[(v, c)]
            if not world.fallback[e]:
                w = world.weight[e]
                s *= 1 - w + w * world.up[e] * success(c)
        return s

    def latency(v):
        if not alive[v]:
            return d.timeout_ms
        lat = world.base_latency[v] * world.latency_factor[v] / (1 - min(util[v], d.utilisation_cap))
        for c in world.graph.successors(v):
            e = world.edge_index[(v, c)]
            lat += world.weight[e] * (latency(c) if world.up[e] else d.timeout_ms)
        return lat

    return success(world.root), latency(world.root)


# ---------------------------------------------------------------- the env and its spaces


def test_check_env_passes():
    check_env(ServicesEnv(render_mode="ansi"), skip_render_check=False)
    check_env(ServicesEnv(n_services=5, topology="random", visibility="flag", render_mode="ansi"))


def test_made_env_has_the_documented_spaces():
    env = gym.make("driftgym/Services-v0", visibility="flag")
    assert env.action_space == gym.spaces.MultiDiscrete([7, 8])
    assert OPERATIONS == ("noop", "probe", "restart", "scale_up", "scale_down", "rollback", "failover")
    obs, info = env.reset(seed=3)
    assert sorted(obs) == ["age", "alert", "changed", "health", "metrics", "outcome", "probe", "region", "version"]
    assert obs["probe"].shape == (8, 6) and obs["age"].tolist() == [-1.0] * 8
    assert env.unwrapped.horizon == 300


def test_bad_kwargs_raise_naming_what_is_allowed():
    with pytest.raises(ValueError, match="n_services must be a whole number >= 3"):
        ServicesEnv(n_services=2)
    with pytest.raises(ValueError, match="topology must be one of layered, random"):
        ServicesEnv(topology="star")
    with pytest.raises(ValueError, match=r"n_regions must be a whole number in \[1, 4\]"):
        ServicesEnv(n_regions=0)
    with pytest.raises(PerturbationError, match="schedule: kind 'drift_param' acts on params worlds"):
        ServicesEnv(schedule=[{"at": 1, "perturb": {"kind": "drift_param", "param": "g", "rate": 1.0}}])


def test_kind_parameters_are_validated():
    assert kind_names("services") == sorted(
        ["add_dependency", "bad_deploy", "cache_flush", "crash", "degrade", "load_spike", "memory_leak",
         "partition", "region_outage", "remove_dependency"]
    )
    with pytest.raises(PerturbationError, match="edge: partition names an edge as 'caller->callee'"):
        perturbation_from_dict({"kind": "partition", "edge": "api"})
    with pytest.raises(PerturbationError, match="weight: add_dependency needs 0 < weight <= 1"):
        perturbation_from_dict({"kind": "add_dependency", "weight": 2.0})
    with pytest.raises(PerturbationError, match="error_rate: degrade needs 0 <= error_rate <= 1"):
        perturbation_from_dict({"kind": "degrade", "error_rate": 1.5})
    with pytest.raises(PerturbationError, match="rate: memory_leak needs rate > 0"):
        perturbation_from_dict({"kind": "memory_leak", "rate": 0})
    spike = perturbation_from_dict({"kind": "load_spike", "factor": {"uniform": [1.5, 3.0]}, "duration": {"integers": [3, 9]}})
    drawn = spike.resolve(np.random.default_rng(0))
    assert 1.5 <= drawn.factor <= 3.0 and 3 <= drawn.duration <= 9


def test_same_seed_and_actions_give_the_same_trace():
    actions = [np.array([i % 7, (3 * i) % 8]) for i in range(120)]

    def trace():
        env = ServicesEnv()
        env.reset(seed=11)
        out = []
        for a in actions:
            obs, reward, *_ = env.step(a)
            out.append((env.world_digest(), reward, obs["metrics"].tolist()))
        return out

    assert trace() == trace()


def test_render_shows_health_utilisation_and_cut_edges():
    env = ServicesEnv(render_mode="ansi", schedule=[{"at": 0, "perturb": {"kind": "partition", "edge": "api->auth"}}])
    env.reset(seed=0)
    env.step(np.array([0, 0]))
    text = env.render()
    assert "gateway      up" in text.splitlines()[1]
    assert "auth (cut)" in text and "util" in text and text.startswith("step 0")


# ---------------------------------------------------------------- the model on a hand-built graph


def test_load_is_conserved_along_the_calls():
    world = hand_world()
    world.advance(0, 0.0)
    load = world.service_loads()
    flows = world.edge_flows()
    assert load[0] == pytest.approx(1000.0)
    assert flows == pytest.approx({"gateway->api": 1000.0, "api->cache": 800.0, "api->db": 500.0, "cache->db": 200.0})
    assert load.tolist() == pytest.approx([1000.0, 1000.0, 800.0, 700.0])
    world.check_invariants()


def test_crash_of_a_leaf_without_fallback_lowers_success_as_the_model_says():
    world = hand_world()
    world.advance(0, 0.0)
    assert world.success == 1.0
    assert fire(world, {"kind": "crash", "service": "db"}) == ("db", "up", "down")
    world.advance(1, 0.0)
    # db -> 0; cache -> 1 - 1 + 1*0 = 0 (but api's call to cache has a fallback); api -> 1 - 0.5 = 0.5
    assert world.success == pytest.approx(0.5)
    assert world.success == pytest.approx(reference(world)[0])


def test_latency_and_success_agree_with_the_reference_recursion():
    world = hand_world(capacity=[800.0, 600.0, 500.0, 400.0], base_error=[0.001, 0.002, 0.003, 0.004])
    fire(world, {"kind": "partition", "edge": "cache->db"})
    fire(world, {"kind": "degrade", "service": "api", "latency_factor": 2.0, "error_rate": 0.1})
    world.advance(0, 0.3)
    success, latency = reference(world)
    assert world.success == pytest.approx(success, rel=1e-12)
    assert world.latency == pytest.approx(latency, rel=1e-12)


def test_overload_sheds_requests_and_falls_over_after_patience():
    world = hand_world(capacity=[1e9, 1e9, 1e9, 350.0], replicas=[1, 1, 1, 1])  # db at 700 / 350 = 2x
    for step in range(4):
        world.advance(step, 0.0)
        assert world.health_of("db") == "up" and world.overload[3] == step + 1
    assert world.utilisation[3] == pytest.approx(2.0 * (1 + 0.3 * math.sin(2 * math.pi * 3 / 100)))
    world.advance(4, 0.0)
    assert world.health_of("db") == "down"
    assert world.success == pytest.approx(0.5)


def test_memory_leak_crashes_at_the_limit_and_restart_not_rollback_fixes_it():
    world = hand_world(memory=[0.4] * 4)
    assert fire(world, {"kind": "memory_leak", "service": "api", "rate": 0.1}) == ("api", 0.0, 0.1)
    for step in range(3):
        world.advance(step, 0.0)
    assert world.memory[1] == pytest.approx(0.7)
    assert world.rollback(1) is False and world.leak[1] == 0.1
    for step in range(3, 6):
        world.advance(step, 0.0)
    assert world.health_of("api") == "down" and world.success == 0.0
    assert world.restart(1) is True
    assert world.health_of("api") == "restarting" and world.leak[1] == 0.0 and world.memory[1] == 0.4
    for step in range(6, 9):
        world.advance(step, 0.0)
        assert world.health_of("api") == "restarting"
    world.advance(9, 0.0)
    assert world.health_of("api") == "up" and world.success == 1.0


def test_rollback_not_restart_fixes_a_bad_deploy():
    world = hand_world()
    assert fire(world, {"kind": "bad_deploy", "service": "gateway", "error_rate": 0.3}) == ("gateway", "good", "bad")
    world.advance(0, 0.0)
    assert world.success == pytest.approx(0.7)
    world.restart(0)
    for step in range(1, 5):
        world.advance(step, 0.0)
    assert world.facts()["svc:gateway:version"] == "bad" and world.success == pytest.approx(0.7)
    assert world.rollback(0) is True
    world.advance(5, 0.0)
    assert world.facts()["svc:gateway:version"] == "good" and world.success == 1.0


def test_each_kind_changes_the_state_exactly():
    world = hand_world()
    assert fire(world, {"kind": "degrade", "service": "db", "latency_factor": 3.0, "error_rate": 0.05}) == (
        "db", [1.0, 0.0], [3.0, 0.05])
    assert world.latency_factor[3] == 3.0 and world.degrade_error[3] == 0.05 and world.health_of("db") == "degraded"
    assert fire(world, {"kind": "partition", "edge": "api->db"}) == ("api->db", True, False)
    assert world.facts()["edge:api->db:up"] is False
    assert fire(world, {"kind": "load_spike", "factor": 2.0}) == ("gateway", 1.0, 2.0)
    world.advance(0, 0.0)
    assert world.gateway_load == pytest.approx(2000.0)
    assert fire(world, {"kind": "cache_flush"}) == ("cache", 0.75, 0.0)
    world.advance(1, 0.0)
    assert world.hit[2] == pytest.approx(0.05)  # re-warms by 0.05 a step
    assert fire(world, {"kind": "region_outage", "region": "us-west"}) == ("us-west", False, True)
    assert [world.health_of(n) for n in world.names] == ["up", "up", "down", "down"]
    assert fire(world, {"kind": "crash", "pick": 0.0}) == ("api", "up", "down")  # sorted: api first
    assert fire(world, {"kind": "add_dependency", "edge": "gateway->db", "weight": 0.25}) == ("gateway->db", False, True)
    assert world.weight[world.edge_index[(0, 3)]] == 0.25
    assert world.removable_edges() == ["api->db", "cache->db", "gateway->db"]
    assert fire(world, {"kind": "remove_dependency", "edge": "gateway->api"}) == ("gateway->api", None, None)
    assert fire(world, {"kind": "remove_dependency", "edge": "api->db"}) == ("api->db", [0.5, False, False], False)
    assert "edge:api->db:up" not in world.facts()
    world.check_invariants()


def test_add_dependency_refuses_a_cycle_and_the_pick_follows_the_order():
    world = hand_world()
    assert fire(world, {"kind": "add_dependency", "edge": "db->api"}) == ("db->api", None, None)
    assert fire(world, {"kind": "add_dependency", "edge": "api->gateway"}) == ("api->gateway", None, None)
    assert world.new_dependency(0.0) == "gateway->cache"  # gateway's first free later service
    assert fire(world, {"kind": "add_dependency", "pick": 0.0}) == ("gateway->cache", False, True)
    world.check_invariants()


def test_transient_kinds_revert_at_their_end():
    schedule = [
        {"at": 1, "perturb": {"kind": "degrade", "service": "api", "duration": 3}},
        {"at": 1, "perturb": {"kind": "partition", "edge": "gateway->api", "duration": 2}},
        {"window": [2, 2], "perturb": {"kind": "crash", "service": "db"}},
    ]
    env = ServicesEnv(schedule=schedule)
    env.reset(seed=0)
    seen = []
    for _ in range(6):
        env.step(np.array([0, 0]))
        f = env.facts()
        seen.append((f["svc:api:health"], f["edge:gateway->api:up"], f["svc:db:health"]))
    assert seen == [
        ("up", True, "up"), ("degraded", False, "up"), ("degraded", False, "down"),
        ("degraded", True, "down"), ("up", True, "up"), ("up", True, "up"),
    ]


def test_failover_moves_out_of_a_region_outage_and_heals_partitions():
    world = hand_world()
    fire(world, {"kind": "region_outage", "region": "us-west"})
    fire(world, {"kind": "partition", "edge": "cache->db"})
    assert world.restart(3) is False
    assert world.failover(3) is True
    assert world.facts()["svc:db:region"] == "us-east" and world.facts()["edge:cache->db:up"] is True
    assert world.health_of("db") == "restarting"
    single = hand_world(regions=("us-east",), region=[0] * 4)
    assert single.failover(0) is False


# ---------------------------------------------------------------- the agent's view, facts, incidents


def test_probe_fills_the_view_and_a_silent_change_leaves_it_stale():
    env = ServicesEnv(schedule=[{"at": 3, "perturb": {"kind": "crash", "service": "db"}}])
    env.reset(seed=0)
    db = env.world.index["db"]
    obs, *_ = env.step(np.array([PROBE, db]))
    assert obs["health"][db] == 1 and obs["version"][db] == 1 and obs["age"][db] == 0.0
    assert obs["probe"][db].tolist() == pytest.approx(env.world.service_metrics(db))
    view = env.view_facts()
    assert set(view) == {"svc:db:health", "svc:db:version", "svc:db:replicas", "svc:db:region"}
    assert all(env.facts()[k] == v for k, v in view.items())
    for _ in range(3):
        obs, *_ = env.step(np.array([NOOP, 0]))
    assert obs["alert"][0] == 1 and obs["health"][db] == 1 and obs["age"][db] == 3.0
    assert env.view_facts()["svc:db:health"] == "up" != env.facts()["svc:db:health"]
    obs, *_ = env.step(np.array([PROBE, db]))
    assert obs["health"][db] == 3 and env.view_facts()["svc:db:health"] == "down"
    api = env.world.index["api"]
    env.step(np.array([PROBE, api]))
    assert {k for k in env.view_facts() if k.startswith("edge:")} == {f"edge:api->{c}:up" for c in ("auth", "cart", "catalog")}


def test_incidents_open_on_a_break_and_close_when_the_slo_is_met_again():
    env = ServicesEnv(schedule=[{"at": 2, "perturb": {"kind": "crash", "service": "db"}}])
    env.reset(seed=0)
    db = env.world.index["db"]
    actions = [NOOP, NOOP, NOOP, NOOP, RESTART] + [NOOP] * 5
    rewards = []
    for op in actions:
        _, reward, *_ = env.step(np.array([op, db]))
        rewards.append(reward)
    assert env.incidents == [(2, 7)]  # down at steps 2-3, restarting at 4, 5, 6, up again at 7
    assert env.world.mean_time_to_recovery() == 5.0
    assert rewards[0] == pytest.approx(1.0 - 0.2) and rewards[4] == pytest.approx(-0.2 - 0.05)


def test_scaling_costs_replicas_and_reward_is_documented():
    env = ServicesEnv(schedule=[])
    env.reset(seed=0)
    total = int(env.world.replicas.sum())
    _, reward, *_ = env.step(np.array([SCALE_UP, 0]))
    assert reward == pytest.approx(1.0 - 0.2 * (total + 1) / total - 0.02)
    for _ in range(20):
        env.step(np.array([SCALE_DOWN, 0]))
    obs, reward, *_ = env.step(np.array([SCALE_DOWN, 0]))
    assert obs["outcome"][0] == 2 and env.world.replicas[0] == 1


# ---------------------------------------------------------------- properties


def test_small_and_vectorised_passes_agree():
    for n, topology in ((12, "layered"), (20, "random")):
        world = ServiceGraph.generate(np.random.default_rng(n), n, topology)
        levels = world.levels
        assert levels.pairs is not None
        factor = np.random.default_rng(1).random((2, len(world.src)))
        seed = np.zeros((2, n))
        seed[:, 0] = 1.0
        assert np.allclose(levels.forward(seed, factor), levels.forward(seed, factor, vectorised=True))
        own, c, k = np.random.default_rng(2).random((3, n))[0], *np.random.default_rng(3).random((2, len(world.src)))
        assert np.allclose(levels.backward(own, c, k), levels.backward(own, c, k, vectorised=True))


def test_large_generated_graphs_are_rooted_dags_that_conserve_load():
    for topology in ("layered", "random"):
        world = ServiceGraph.generate(np.random.default_rng(5), 300, topology)
        assert world.levels.pairs is None
        world.advance(0, 0.0)
        world.check_invariants()
        success, latency = reference(world)
        assert world.success == pytest.approx(success) and world.latency == pytest.approx(latency)


KINDS = [
    {"kind": "crash"},
    {"kind": "degrade", "latency_factor": 5.0, "error_rate": 0.2},
    {"kind": "degrade", "duration": 3},
    {"kind": "partition"},
    {"kind": "partition", "duration": 4},
    {"kind": "memory_leak", "rate": 0.2},
    {"kind": "bad_deploy"},
    {"kind": "load_spike", "factor": 4.0, "duration": 5},
    {"kind": "add_dependency", "weight": 1.0},
    {"kind": "remove_dependency"},
    {"kind": "cache_flush"},
    {"kind": "region_outage", "duration": 3},
    {"kind": "region_outage"},
]


@st.composite
def scenarios(draw):
    horizon = 25
    schedule = [
        {"at": draw(st.integers(0, horizon - 1)), "perturb": dict(draw(st.sampled_from(KINDS)))}
        for _ in range(draw(st.integers(0, 10)))
    ]
    n = draw(st.sampled_from([3, 5, 8, 70]))
    actions = draw(st.lists(st.tuples(st.integers(0, 6), st.integers(0, n - 1)), min_size=horizon, max_size=horizon))
    return n, draw(st.sampled_from(["layered", "random"])), schedule, actions, draw(st.integers(0, 2**16))


@settings(deadline=None)  # examples: the conftest profile (ci 40, nightly 1000)
@given(scenarios())
def test_random_schedules_and_actions_keep_every_promise(scenario):
    n, topology, schedule, actions, seed = scenario
    env = ServicesEnv(n_services=n, topology=topology, schedule=schedule, horizon=25, visibility="magnitude")
    obs, _ = env.reset(seed=seed)
    assert env.observation_space.contains(obs)
    for action in actions:
        obs, reward, terminated, truncated, _ = env.step(np.array(action))
        assert env.observation_space.contains(obs), obs
        assert math.isfinite(reward) and not terminated
        world = env.world
        world.check_invariants()
        assert nx.is_directed_acyclic_graph(world.graph)
        assert world.names[next(iter(nx.topological_sort(world.graph)))] == "gateway"
        success, latency = reference(world)
        assert world.success == pytest.approx(success, abs=1e-9) and world.latency == pytest.approx(latency, rel=1e-9)
        facts = env.facts()
        view = env.view_facts()
        assert all(k in facts or k.startswith("edge:") for k in view)
        for i, name in enumerate(world.names):
            assert facts[f"svc:{name}:replicas"] == int(world.replicas[i])
            assert facts[f"svc:{name}:version"] == ("bad" if world.bad[i] else "good")
        for (a, b), e in world.edge_index.items():
            assert facts[f"edge:{world.names[a]}->{world.names[b]}:up"] == bool(world.up[e])
    assert truncated
    copy = env.world.copy()
    assert copy.digest() == env.world_digest()
    copy.advance(99, 0.0)
    assert copy.digest() != env.world_digest()
