"""The stress suite: a state machine per domain env, determinism across processes, the strategies.

Each machine steps with any valid action, injects any valid perturbation into the live world and
resets with a new seed (and a drawn schedule); after every rule it checks the promises: the
observation lies in its space, the reward is finite and inside its documented range, the world's
own invariants hold, ``facts()`` agree with ``state_dict()``, and the world's digest equals the
digest of its ``state_dict()`` round-tripped through JSON. Sizes come from the conftest profile
("ci" by default, "nightly" with DRIFTGYM_HYPOTHESIS_PROFILE=nightly).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap

import gymnasium as gym
import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis import find
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import driftgym
from driftgym.envs.api.env import COMPLETED, GAVE_UP, IGNORED_RETRY_AFTER, MISSED_DEADLINE, REQUEST_COST
from driftgym.envs.api.world import ENUMS
from driftgym.envs.files.env import OP_COSTS
from driftgym.envs.services.env import ACTION_COSTS
from driftgym.envs.services.world import HEALTH
from driftgym.perturbations import digest_of, perturbation_from_dict, schedule_from_wire
from driftgym.perturbations import strategies as dg
from worlds import files_facts_from_state

NIGHTLY = os.environ.get("DRIFTGYM_HYPOTHESIS_PROFILE") == "nightly"
MACHINE = settings(
    max_examples=300 if NIGHTLY else 25,
    stateful_step_count=80 if NIGHTLY else 40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
HORIZON = 40
DOMAIN_IDS = ["driftgym/FileSystem-v0", "driftgym/HttpApi-v0", "driftgym/Services-v0"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------- facts from a state_dict


def check_files_facts(facts: dict, state: dict) -> None:
    derived = files_facts_from_state(state)
    assert {k: facts[k] for k in derived} == derived
    extra = {k: v for k, v in facts.items() if k not in derived}
    assert all(k.endswith(":exists") and v is False for k, v in extra.items()), extra  # known paths now empty


def services_health(record: dict, region_down: dict) -> str:
    if record["restart_until"] >= 0:
        return "restarting"
    if record["crashed"] or region_down[record["region"]]:
        return "down"
    if record["latency_factor"] != 1.0 or record["degrade_error"] > 0:
        return "degraded"
    return "up"


def check_services_facts(facts: dict, state: dict, regions: list[str]) -> None:
    region_down = dict(zip(regions, state["region_down"]))
    derived = {}
    for name, record in state["services"].items():
        derived[f"svc:{name}:health"] = services_health(record, region_down)
        derived[f"svc:{name}:version"] = "bad" if record["bad"] else "good"
        derived[f"svc:{name}:replicas"] = record["replicas"]
        derived[f"svc:{name}:region"] = record["region"]
    for caller, callee, _weight, _fallback, up in state["edges"]:
        derived[f"edge:{caller}->{callee}:up"] = up
    assert facts == derived
    assert set(HEALTH) >= {v for k, v in derived.items() if k.endswith(":health")}


def check_api_facts(facts: dict, state: dict) -> None:
    latest = state["versions"][-1]
    derived = {"api:version": latest["number"], "api:page_size": state["page_size"], "api:rate_limit": state["rate_limit"],
               "api:auth_valid": state["issued_token"] == f"tok-{state['credential_generation']}"}
    for collection, fields in state["collections"].items():
        derived[f"api:{collection}:route"] = latest["routes"][collection]
        for field in fields:
            derived[f"api:{collection}.{field}:name"] = latest["names"][collection][field]
            derived[f"api:{collection}.{field}:type"] = latest["types"][collection][field]
    for key, value in state["records"]["writes"].items():
        field = key.rpartition(".")[2]
        derived[f"record:{key}"] = ENUMS[field][value] if field in ENUMS else value
    assert {k: facts[k] for k in derived} == derived
    n_records = state["n_records"]
    assert sum(k.startswith("record:") for k in facts) == n_records * sum(len(f) for f in state["collections"].values())


# --------------------------------------------------------------------------- the machines

class DriftProtocol(RuleBasedStateMachine):
    """The promises every domain env keeps, whatever happens in whatever order."""

    env_id = ""
    kwargs: dict = {}

    def __init__(self) -> None:
        super().__init__()
        self.env = gym.make(self.env_id, horizon=HORIZON, visibility="full", **self.kwargs)
        self.observation = None
        self.reward = 0.0
        self.done = False
        self.injected = 0

    @property
    def world(self):
        return self.env.get_wrapper_attr("world")

    @initialize(seed=dg.seeds())
    def start(self, seed):
        self.observation, _ = self.env.reset(seed=seed)

    @rule(seed=dg.seeds(), new_schedule=st.booleans(), data=st.data())
    def reset(self, seed, new_schedule, data):
        schedule = data.draw(dg.schedules(self.env_id, max_events=10, horizon=HORIZON), label="schedule") if new_schedule else None
        options = None if schedule is None else {"schedule": schedule}
        self.observation, info = self.env.reset(seed=seed, options=options)
        assert info == {}
        self.reward, self.done = 0.0, False
        self.world_changed()

    @precondition(lambda self: not self.done)
    @rule(data=st.data())
    def step(self, data):
        action = data.draw(dg.actions(self.env.action_space), label="action")
        self.before_step()
        self.observation, self.reward, terminated, truncated, info = self.env.step(action)
        assert not terminated
        assert json.loads(json.dumps(info["events"])) == info["events"]  # visibility "full": plain events
        self.done = truncated
        self.after_step()

    @rule(data=st.data(), draw_seed=st.integers(0, 2**16))
    def inject(self, data, draw_seed):
        spec = data.draw(dg.perturbations(self.env_id, horizon=HORIZON), label="perturbation")
        rng = np.random.default_rng(draw_seed)
        perturbation = perturbation_from_dict(spec).resolve(rng)
        event = perturbation.apply(self.world, rng, self.env.get_wrapper_attr("step_index"))
        self.world.settle()
        json.dumps(event.to_dict())  # an event is plain data
        self.injected += 1
        self.world_changed()

    @invariant()
    def observation_in_space(self):
        assert self.env.observation_space.contains(self.observation)

    @invariant()
    def reward_finite_and_in_range(self):
        low, high = self.reward_range()
        assert math.isfinite(self.reward) and low - 1e-9 <= self.reward <= high + 1e-9, (self.reward, low, high)

    @invariant()
    def facts_agree_with_the_state_dict(self):
        self.check_facts(self.env.get_wrapper_attr("facts")(), self.world.state_dict())

    @invariant()
    def digest_survives_json(self):
        state = json.loads(json.dumps(self.world.state_dict()))
        assert digest_of(state) == self.env.get_wrapper_attr("world_digest")()

    @invariant()
    def world_invariants(self):
        self.check_world()

    # what each env fills in
    def before_step(self) -> None:
        pass

    def after_step(self) -> None:
        pass

    def world_changed(self) -> None:
        """After a reset or an injection: what the last step showed is no longer the world's now."""

    def reward_range(self) -> tuple[float, float]:
        raise NotImplementedError

    def check_facts(self, facts: dict, state: dict) -> None:
        raise NotImplementedError

    def check_world(self) -> None:
        raise NotImplementedError


class FileSystemProtocol(DriftProtocol):
    env_id = "driftgym/FileSystem-v0"
    kwargs = {"n_files": 6, "n_targets": 4}

    def reward_range(self):
        return -max(OP_COSTS.values()), 1.0

    def check_facts(self, facts, state):
        check_files_facts(facts, state)

    def check_world(self):
        self.world.check_invariants()  # the tree is a tree, and its indexes agree


class HttpApiProtocol(DriftProtocol):
    env_id = "driftgym/HttpApi-v0"
    kwargs = {"n_collections": 2, "n_records": 8}

    def __init__(self):
        super().__init__()
        self.previous = self.fresh = None

    def before_step(self):
        self.previous = self.env.get_wrapper_attr("last_exchange")

    def after_step(self):
        exchange = self.env.get_wrapper_attr("last_exchange")
        self.fresh = exchange[1] if exchange is not self.previous and exchange is not None else None

    def world_changed(self):
        self.fresh = None  # that response was served by the world before the reset or injection

    def reward_range(self):
        worst = MISSED_DEADLINE + max(GAVE_UP, REQUEST_COST + IGNORED_RETRY_AFTER)
        return -worst, COMPLETED - REQUEST_COST

    def check_facts(self, facts, state):
        check_api_facts(facts, state)

    def check_world(self):
        if self.fresh is not None:  # the response of the step just taken keeps HTTP's semantics
            assert self.world.http_violations(self.fresh) == []

    @invariant()
    def openapi_matches_the_facts(self):
        document, facts = self.world.openapi(), self.env.get_wrapper_attr("facts")()
        routes = {facts[f"api:{c}:route"] for c in self.world.collections}
        assert routes <= set(document["paths"])


class ServicesProtocol(DriftProtocol):
    env_id = "driftgym/Services-v0"
    kwargs = {"n_services": 6, "topology": "random"}

    def reward_range(self):
        world, env = self.world, self.env.unwrapped
        if world is None or not hasattr(env, "initial_replicas"):
            return 0.0, 0.0
        n, cost = len(world.names), env.replica_cost
        most = cost * world.dynamics.max_replicas * n / env.initial_replicas
        return -most - max(ACTION_COSTS), 1.0 - cost * n / env.initial_replicas

    def check_facts(self, facts, state):
        check_services_facts(facts, state, list(self.world.regions))

    def check_world(self):
        world = self.world
        world.check_invariants()
        assert nx.is_directed_acyclic_graph(world.graph)
        roots = [world.names[n] for n in world.graph.nodes if world.graph.in_degree(n) == 0]
        assert roots == ["gateway"]


for machine in (FileSystemProtocol, HttpApiProtocol, ServicesProtocol):
    machine.TestCase.settings = MACHINE

TestFileSystemProtocol = FileSystemProtocol.TestCase
TestHttpApiProtocol = HttpApiProtocol.TestCase
TestServicesProtocol = ServicesProtocol.TestCase


# --------------------------------------------------------------------------- determinism across processes

RUNNER = textwrap.dedent(
    """
    import hashlib, json, sys
    from driftgym.scenarios.runner import Cell, run_cell, trace_text
    from driftgym.scenarios.scenario import Scenario
    scenarios = [Scenario.from_dict(s) for s in json.load(sys.stdin)]
    for scenario in scenarios:
        for agent in scenario.agents:
            for seed in scenario.seeds:
                text = trace_text(run_cell(Cell(scenario, agent, seed)))
                print(scenario.env, agent, seed, hashlib.sha256(text.encode()).hexdigest())
    """
)


def trace_digests(scenarios: list[dict], hash_seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps(scenarios), capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


GENERATED_IDS = [*DOMAIN_IDS, "driftgym/CartPole-v1"]


@settings(max_examples=2 if NIGHTLY else 1, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.data())
def test_the_same_scenarios_give_the_same_trace_digests_under_any_hash_seed(data):
    scenarios = [data.draw(dg.scenarios(env_id, max_horizon=40), label=env_id) for env_id in GENERATED_IDS]
    first, second = trace_digests(scenarios, "0"), trace_digests(scenarios, "4242")
    cells = sum(len(s["agents"]) * len(s["seeds"]) for s in scenarios)
    assert len(first) == cells and first == second


def test_the_default_schedules_give_the_same_trace_digests_under_any_hash_seed():
    scenarios = [{"id": "defaults", "env": env_id, "schedule": driftgym_default(env_id), "horizon": 60,
                  "seeds": [3], "agents": ["random"], "visibility": "full"} for env_id in driftgym.ENV_IDS]
    first, second = trace_digests(scenarios, "1"), trace_digests(scenarios, "977")
    assert len(first) == len(driftgym.ENV_IDS) and first == second
    assert len({line.split()[-1] for line in first}) == len(first)  # distinct envs, distinct traces


def driftgym_default(env_id: str) -> list:
    env = gym.make(env_id)
    schedule = env.get_wrapper_attr("schedule").to_wire()
    env.close()
    return schedule


# --------------------------------------------------------------------------- the strategies themselves

@pytest.mark.parametrize("env_id", sorted(driftgym.ENV_IDS))
def test_drawn_perturbations_and_schedules_are_accepted_by_every_id(env_id):
    prof = dg.profile(env_id)

    @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(perturbation=dg.perturbations(env_id), schedule=dg.schedules(env_id, max_events=8, horizon=30), seed=dg.seeds())
    def accepted(perturbation, schedule, seed):
        assert perturbation["kind"] in prof.kind_names()
        perturbation_from_dict(perturbation)
        env = gym.make(env_id, schedule=schedule, horizon=30)
        env.reset(seed=seed)
        assert len(env.get_wrapper_attr("timeline")) <= 8
        env.close()

    accepted()


def test_every_kind_of_an_env_can_be_drawn():
    drawn = set()

    @settings(max_examples=200, deadline=None, database=None)
    @given(dg.perturbations("driftgym/Services-v0"))
    def collect(perturbation):
        drawn.add(perturbation["kind"])

    collect()
    assert drawn == set(dg.profile("driftgym/Services-v0").kind_names())


def test_parameter_kinds_stay_inside_the_parameter_range():
    prof = dg.profile("driftgym/CartPole-v1")
    assert prof.world == "params" and set(prof.params) == {"gravity", "masscart", "masspole", "length", "force_mag"}
    assert prof.param_range("gravity") == (9.8 / 2, 9.8 * 2)

    @settings(max_examples=60, deadline=None, database=None)
    @given(dg.perturbations("driftgym/CartPole-v1", kinds=["set_param", "drift_param", "list_param"]))
    def bounded(p):
        low, high = prof.param_range(p["param"])
        values = {"set_param": [p.get("value")], "list_param": p.get("values", []),
                  "drift_param": [p.get("min"), p.get("max")]}[p["kind"]]
        plain = [x for v in values for x in (v["uniform"] if isinstance(v, dict) else [v])]  # {uniform: [a, b]}
        assert plain and all(low <= x <= high for x in plain)

    bounded()


def test_schedules_shrink_to_a_small_readable_counterexample():
    smallest = find(dg.schedules("driftgym/FileSystem-v0"), lambda s: len(s) > 0, settings=settings(database=None, derandomize=True))
    assert smallest == [{"at": 0, "perturb": {"kind": "chmod_readonly"}}]
    windowed = find(dg.schedules("driftgym/Services-v0"), lambda s: any("window" in e for e in s), settings=settings(database=None, derandomize=True))
    # the smallest window there is, around one kind that can be undone, with no parameter set
    assert len(windowed) == 1 and windowed[0]["window"] == [0, 1] and list(windowed[0]["perturb"]) == ["kind"]
    assert perturbation_from_dict(windowed[0]["perturb"]).revertible


def test_windows_draw_only_revertible_kinds():
    @settings(max_examples=50, deadline=None, database=None)
    @given(dg.perturbations("driftgym/FileSystem-v0", revertible=True))
    def revertible(p):
        assert p["kind"] != "restore_file" and perturbation_from_dict(p).revertible

    revertible()


def test_timelines_and_action_sequences():
    @settings(max_examples=20, deadline=None, database=None)
    @given(dg.timelines("driftgym/HttpApi-v0", 25, max_events=6), dg.action_sequences("driftgym/Services-v0", 5))
    def drawn(timeline, actions):
        assert timeline.horizon == 25 and len(timeline) <= 6 and all(e.step < 25 for e in timeline)
        space = gym.spaces.MultiDiscrete([7, 8])
        assert len(actions) == 5 and all(space.contains(a) for a in actions)

    drawn()
    assert find(dg.action_sequences(gym.spaces.Discrete(6), 3), lambda a: True) == [0, 0, 0]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="kind 'crash' does not act on files worlds"):
        dg.perturbations("driftgym/FileSystem-v0", kinds=["crash"])
    with pytest.raises(ValueError, match="max_events must be a whole number >= 0"):
        dg.schedules("driftgym/FileSystem-v0", max_events=-1)
    with pytest.raises(ValueError, match="horizon must be a whole number >= 1"):
        dg.timelines("driftgym/FileSystem-v0", 0)
    with pytest.raises(TypeError, match="unsupported space"):
        dg.actions(gym.spaces.Text(5))


def test_a_users_brittle_agent_is_caught_with_a_minimal_schedule():
    """The README's example: an API client that assumes its token never expires."""

    def crashes(schedule_and_seed) -> bool:
        schedule, seed = schedule_and_seed
        env = gym.make("driftgym/HttpApi-v0", schedule=schedule, horizon=20)
        env.reset(seed=seed)
        for _ in range(20):
            _, _, _, truncated, info = env.step(0)  # always `request`
            if info["http_status"] == 401:
                return True  # the agent would raise here
        return False

    schedule, seed = find(st.tuples(dg.schedules("driftgym/HttpApi-v0", horizon=20), dg.seeds()), crashes,
                          settings=settings(database=None, max_examples=500))
    assert seed == 0 and len(schedule) == 1  # one entry: credentials rotate once, at step 0
    timeline = schedule_from_wire(schedule).compile(seed, 20)
    assert [(e.step, e.perturbation.to_dict()) for e in timeline] == [(0, {"kind": "rotate_credentials"})]


def test_importing_the_strategies_without_hypothesis_names_the_extra():
    code = "import sys; sys.modules['hypothesis'] = None; import driftgym.perturbations.strategies"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 1
    assert "ImportError: driftgym.perturbations.strategies needs Hypothesis, an optional dependency: " \
           "pip install 'driftgym[test]'" in done.stderr
