"""driftgym/HttpApi-v0: the world's HTTP semantics, every kind's exact effect, facts, the env."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import driftgym  # noqa: F401
from driftgym.envs.api import ApiWorld, HttpApiEnv, Request
from driftgym.envs.api.http import http_date, split_path
from driftgym.envs.api.world import parse_value, present_value, type_of_schema
from driftgym.perturbations import PerturbationError, PerturbationStream, perturbation_from_dict

AUTH = {"Authorization": "Bearer tok-0"}


def make_world(n_collections: int = 3, n_records: int = 20) -> ApiWorld:
    return ApiWorld(np.random.default_rng(0), n_collections, n_records)


def apply(world: ApiWorld, spec: dict, step: int = 0):
    return perturbation_from_dict(spec).apply(world, PerturbationStream(7), step)


def get(world: ApiWorld, path: str, headers=AUTH, **query):
    return world.handle(Request("GET", path, {k: str(v) for k, v in query.items()}, headers))


def patch(world: ApiWorld, path: str, body, headers=AUTH):
    return world.handle(Request("PATCH", path, {}, headers, body))


def stored(world: ApiWorld, collection: str, record: int) -> list[int]:
    return world.values[world.index[collection], :, record].tolist()


# --------------------------------------------------------------------------- the world as built

def test_world_starts_as_v1_with_typed_records():
    world = make_world()
    assert world.collections == ["orders", "products", "users"]
    assert world.slots == {"orders": ("amount", "status", "tier"), "products": ("amount", "quantity", "tier"),
                           "users": ("amount", "price", "tier")}
    response = get(world, "/v1/users/3")
    amount, price, tier = stored(world, "users", 3)
    assert response.status == 200
    assert response.headers == {"Content-Type": "application/json", "RateLimit-Policy": "30;w=10"}
    assert response.body == {"id": 3, "amount": amount, "price": price, "tier": ["enterprise", "free", "pro", "team"][tier]}
    assert 20.0 <= response.latency_ms < 60.0


def test_errors_of_the_handler_are_http_answers():
    world = make_world()
    assert get(world, "/v1/nothing/1").status == 404
    assert get(world, "/v1/users/20").body == {"error": "not_found", "path": "/v1/users/20"}
    no_token = get(world, "/v1/users/1", headers={})
    assert (no_token.status, no_token.headers["WWW-Authenticate"]) == (401, "Bearer")
    wrong = get(world, "/v1/users/1", headers={"Authorization": "Bearer nope"})
    assert (wrong.status, wrong.headers["WWW-Authenticate"]) == (401, 'Bearer error="invalid_token"')
    delete = world.handle(Request("DELETE", "/v1/users/1", {}, AUTH))
    assert (delete.status, delete.headers["Allow"]) == (405, "GET, PATCH")
    assert patch(world, "/v1/users/1", [1]).status == 400
    assert patch(world, "/v1/users/1", {"email": "x"}).body == {"error": "unknown_field", "field": "email"}
    assert patch(world, "/v1/users/1", {"amount": "1.00"}).body == {"error": "invalid_type", "field": "amount", "expected": "integer"}
    assert patch(world, "/v1/users/1", {"tier": "gold"}).body == {"error": "invalid_type", "field": "tier", "expected": "string"}
    ok = patch(world, "/v1/users/1", {"amount": 4321, "tier": "pro"})
    assert (ok.status, ok.body["amount"], ok.body["tier"]) == (200, 4321, "pro")
    assert world.writes == {"users/1.amount": 4321, "users/1.tier": 2}
    assert get(world, "/v1/users", page="x").status == 400
    bad_client = world.handle(Request("POST", "/auth/token", body={"client_id": "me"}))
    assert (bad_client.status, bad_client.body) == (400, {"error": "invalid_client"})


def test_list_endpoint_paginates():
    world = make_world()
    first = get(world, "/v1/orders", page=1)
    assert first.status == 200
    assert [item["id"] for item in first.body["items"]] == list(range(10, 20))
    assert (first.body["page"], first.body["page_size"], first.body["total"], first.body["next"]) == (1, 10, 20, None)
    assert get(world, "/v1/orders").body["next"] == "/v1/orders?page=1"
    assert get(world, "/v1/orders", page=5).body["items"] == []


def test_value_forms_round_trip():
    assert present_value("decimal", 12345, "amount") == "123.45"
    assert present_value("decimal", 5, "amount") == "0.05"
    assert parse_value("decimal", "123.45", "amount") == 12345
    assert parse_value("decimal", "123.4", "amount") is None
    assert parse_value("integer", True, "amount") is None
    assert parse_value("string", "eu", "region") == 1
    assert split_path("/v1/users-2/17?page=1") == ("/v1/users-2", 17)
    assert split_path("/v1/users") == ("/v1/users", None)
    assert http_date(120) == "Thu, 01 Jan 1970 00:02:00 GMT"


# --------------------------------------------------------------------------- every kind, exactly

def test_rename_field():
    world = make_world()
    assert "amount" in get(world, "/v1/users/2").body
    event = apply(world, {"kind": "rename_field", "collection": "users", "field": "amount", "to": "total"})
    assert (event.target, event.before, event.after) == ("users.amount", "amount", "total")
    body = get(world, "/v1/users/2").body
    assert "amount" not in body and body["total"] == stored(world, "users", 2)[0]
    assert patch(world, "/v1/users/2", {"amount": 1}).body == {"error": "unknown_field", "field": "amount"}
    assert patch(world, "/v1/users/2", {"total": 1}).status == 200
    default = apply(world, {"kind": "rename_field", "collection": "users", "field": "tier"})
    assert (default.before, default.after) == ("tier", "plan")
    again = apply(world, {"kind": "rename_field", "collection": "users", "field": "amount"})
    assert (again.before, again.after) == ("total", "amount_1")
    assert world.facts()["api:users.amount:name"] == "amount_1"


def test_change_field_type():
    world = make_world()
    cents = stored(world, "orders", 4)[0]
    assert get(world, "/v1/orders/4").body["amount"] == cents
    event = apply(world, {"kind": "change_field_type", "collection": "orders", "field": "amount"})
    assert (event.target, event.before, event.after) == ("orders.amount", "integer", "decimal")
    assert get(world, "/v1/orders/4").body["amount"] == f"{cents // 100}.{cents % 100:02d}"
    assert patch(world, "/v1/orders/4", {"amount": 100}).body == {"error": "invalid_type", "field": "amount", "expected": "decimal"}
    assert patch(world, "/v1/orders/4", {"amount": "1.50"}).body["amount"] == "1.50"
    assert stored(world, "orders", 4)[0] == 150
    with pytest.raises(PerturbationError, match="acts on money fields"):
        apply(world, {"kind": "change_field_type", "collection": "products", "field": "quantity"})
    with pytest.raises(PerturbationError, match="to: change_field_type parameter 'to' must be"):
        perturbation_from_dict({"kind": "change_field_type", "to": "float"})


def test_move_endpoint():
    world = make_world()
    event = apply(world, {"kind": "move_endpoint", "collection": "users"})
    assert (event.target, event.before, event.after) == ("users", "/v1/users", "/v1/users-1")
    moved = get(world, "/v1/users/3")
    assert (moved.status, moved.headers["Location"]) == (301, "/v1/users-1/3")
    assert get(world, "/v1/users", page=1).headers["Location"] == "/v1/users-1?page=1"
    assert get(world, "/v1/users-1/3").status == 200
    apply(world, {"kind": "move_endpoint", "collection": "users", "to": "/v1/accounts"})
    assert get(world, "/v1/users/3").headers["Location"] == "/v1/accounts/3"  # a chain resolves to its end
    with pytest.raises(PerturbationError, match="to: move_endpoint needs a path like"):
        perturbation_from_dict({"kind": "move_endpoint", "to": "/v1/users/7"})


def test_remove_endpoint():
    world = make_world()
    event = apply(world, {"kind": "remove_endpoint", "collection": "orders", "successor": "/v1/purchases"})
    assert (event.before, event.after) == ("/v1/orders", "/v1/purchases")
    gone = get(world, "/v1/orders/1")
    assert (gone.status, gone.body) == (410, {"error": "gone", "successor": "/v1/purchases"})
    assert get(world, "/v1/purchases/1").status == 200


def test_version_bump_deprecates_then_removes():
    world = make_world()
    event = apply(world, {"kind": "version_bump", "sunset_after": 10, "field": "amount"}, step=5)
    assert (event.target, event.before, event.after) == ("version", 1, 2)
    world.now = 6
    old = get(world, "/v1/users/1")
    assert old.status == 200 and "amount" in old.body
    assert old.headers["Deprecation"] == "@5"
    assert old.headers["Sunset"] == "Thu, 01 Jan 1970 00:00:15 GMT"
    assert old.headers["Link"] == '</v2/users>; rel="successor-version"'
    new = get(world, "/v2/users/1")
    assert new.status == 200 and "total" in new.body and "Deprecation" not in new.headers
    assert [v["path"] for v in world.openapi()["x-collections"].values()] == ["/v2/orders", "/v2/products", "/v2/users"]
    assert "/v1/users/{id}" in world.openapi()["paths"]
    world.now = 15
    removed = get(world, "/v1/users/1")
    assert (removed.status, removed.body) == (410, {"error": "gone", "successor": "/v2/users"})
    assert "/v1/users/{id}" not in world.openapi()["paths"]


def test_rate_limit():
    world = make_world()
    event = apply(world, {"kind": "rate_limit", "limit": 2, "window": 4})
    assert (event.before, event.after) == ([30, 10], [2, 4])
    statuses = [get(world, "/v1/users/1").status for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = get(world, "/v1/users/1")
    assert (limited.headers["Retry-After"], limited.headers["RateLimit-Policy"]) == ("2", "2;w=4")
    assert limited.body == {"error": "rate_limited", "retry_after": 2}
    world.now = 1
    assert get(world, "/v1/users/1").headers["Retry-After"] == "1"
    world.now = 2
    assert get(world, "/v1/users/1").status == 200


def test_latency_spike_and_error_burst_revert():
    world = make_world()
    spike = perturbation_from_dict({"kind": "latency_spike", "factor": 10.0, "duration": 3})
    target, before, after = spike.change(world, None, 0)
    assert (before, after) == (1.0, 10.0)
    assert all(200.0 <= get(world, "/v1/users/1").latency_ms < 600.0 for _ in range(5))
    assert spike.revert(world, target, before, 3) == ("latency", 10.0, 1.0)
    burst = perturbation_from_dict({"kind": "error_burst", "rate": 1.0, "duration": 2})
    target, before, _ = burst.change(world, None, 0)
    failed = get(world, "/v1/users/1")
    assert (failed.status, failed.body) == (500, {"error": "internal_error"})
    assert world.http_violations(failed) == []
    burst.revert(world, target, before, 2)
    assert get(world, "/v1/users/1").status == 200
    assert world.http_violations(failed) == ["500 outside an error burst"]


def test_rotate_credentials():
    world = make_world()
    assert world.facts()["api:auth_valid"] is True
    apply(world, {"kind": "rotate_credentials"})
    assert world.facts()["api:auth_valid"] is False
    refused = get(world, "/v1/users/1")
    assert (refused.status, refused.headers["WWW-Authenticate"]) == (401, 'Bearer error="invalid_token"')
    token = world.handle(Request("POST", "/auth/token", body={"client_id": "driftgym-client", "client_secret": "driftgym-secret"}))
    assert token.body == {"access_token": "tok-1", "token_type": "Bearer"}
    assert get(world, "/v1/users/1", headers={"Authorization": "Bearer tok-1"}).status == 200
    assert world.facts()["api:auth_valid"] is True


def test_change_page_size():
    world = make_world()
    apply(world, {"kind": "change_page_size", "size": 7})
    page = get(world, "/v1/users", page=2).body
    assert ([i["id"] for i in page["items"]], page["page_size"], page["next"]) == ([14, 15, 16, 17, 18, 19], 7, None)
    assert world.openapi()["x-page-size"] == 7


def test_mutate_records_writes_and_reverts():
    world = make_world()
    kind = perturbation_from_dict({"kind": "mutate_records", "collection": "products", "count": 3})
    target, before, after = kind.change(world, PerturbationStream(3), 0)
    assert target == "products" and len(after) == 3
    slots = world.slots["products"]
    assert [f for _, f, _ in after] == [f for _, f, _ in before] and all(f in slots for _, f, _ in after)
    last_write = {(record, field): value for record, field, value in after}
    for (record, field), value in last_write.items():
        assert stored(world, "products", record)[slots.index(field)] == value
        assert world.writes[f"products/{record}.{field}"] == value
    first_value = {}
    for record, field, value in before:
        first_value.setdefault((record, field), value)
    kind.revert(world, target, before, 1)
    for (record, field), value in first_value.items():
        assert stored(world, "products", record)[slots.index(field)] == value


def test_unknown_targets_are_named():
    world = make_world()
    with pytest.raises(PerturbationError, match="collection: no collection 'user'; did you mean 'users'"):
        apply(world, {"kind": "move_endpoint", "collection": "user"})
    with pytest.raises(PerturbationError, match="field: users has no field 'amout'; did you mean 'amount'"):
        apply(world, {"kind": "rename_field", "collection": "users", "field": "amout"})


# --------------------------------------------------------------------------- schema and facts agree with handle()

KIND_SPECS = st.one_of(
    st.builds(lambda p, t: {"kind": "rename_field", "pick": p, **({"to": t} if t else {})}, st.floats(0, 0.999),
              st.sampled_from([None, "total", "id_x", "amount"])),
    st.builds(lambda p: {"kind": "change_field_type", "pick": p}, st.floats(0, 0.999)),
    st.builds(lambda p: {"kind": "move_endpoint", "pick": p}, st.floats(0, 0.999)),
    st.builds(lambda p: {"kind": "remove_endpoint", "pick": p}, st.floats(0, 0.999)),
    st.builds(lambda p, s: {"kind": "version_bump", "pick": p, "sunset_after": s}, st.floats(0, 0.999), st.integers(1, 6)),
    st.builds(lambda l, w: {"kind": "rate_limit", "limit": l, "window": w}, st.integers(1, 4), st.integers(1, 5)),
    st.builds(lambda r: {"kind": "error_burst", "rate": r, "duration": 2}, st.floats(0, 1)),
    st.builds(lambda f: {"kind": "latency_spike", "factor": f, "duration": 2}, st.floats(0.1, 40)),
    st.just({"kind": "rotate_credentials"}),
    st.builds(lambda s: {"kind": "change_page_size", "size": s}, st.integers(1, 12)),
    st.builds(lambda p, c: {"kind": "mutate_records", "pick": p, "count": c}, st.floats(0, 0.999), st.integers(1, 4)),
)


def calm_copy(world: ApiWorld) -> ApiWorld:
    """A copy without rate limit or injected errors, to read the API back."""
    calm = world.copy()
    calm.set_rate_limit(10**9, 1)
    calm.tokens = float(10**9)
    for rate in list(calm.error_rates):
        calm.remove_error_rate(rate)
    return calm


def check_openapi_matches_handle(world: ApiWorld) -> None:
    calm = calm_copy(world)
    headers = {"Authorization": f"Bearer {calm.valid_token}"}
    doc = calm.openapi()
    described = set()
    for path, item in doc["paths"].items():
        if not path.endswith("/{id}"):
            continue
        base = path[: -len("/{id}")]
        described.add(base)
        schema = doc["components"]["schemas"][item["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rpartition("/")[2]]
        response = get(calm, f"{base}/1", headers)
        assert response.status == 200, (path, response)
        assert set(response.body) == set(schema["properties"])
        for name, prop in schema["properties"].items():
            if name != "id":
                assert parse_value(type_of_schema(prop), response.body[name], prop["x-field-id"]) is not None
        name, prop = next((n, p) for n, p in schema["properties"].items() if n != "id")
        assert patch(calm, f"{base}/1", {name: response.body[name]}, headers).status == 200
        assert get(calm, base, headers).body["page_size"] == doc["x-page-size"]
    for base in calm.bases:
        if base not in described:
            assert get(calm, f"{base}/1", headers).status in (301, 410)
    for c, entry in doc["x-collections"].items():
        assert entry["path"] in described


def check_facts_match_handle(world: ApiWorld) -> None:
    facts, calm = world.facts(), calm_copy(world)
    token = {"Authorization": f"Bearer {calm.issued_token}"}
    limit, window = facts["api:rate_limit"]
    assert get(world.copy(), "/v1/none/1", token).headers["RateLimit-Policy"] == f"{limit};w={window}"
    assert facts["api:page_size"] == get(calm, facts[f"api:{calm.collections[0]}:route"], token).body.get("page_size", facts["api:page_size"])
    for c in calm.collections:
        response = get(calm, f"{facts[f'api:{c}:route']}/2", token)
        assert response.status == (200 if facts["api:auth_valid"] else 401)
        if response.status == 200:
            for f in calm.slots[c]:
                raw = response.body[facts[f"api:{c}.{f}:name"]]
                value = parse_value(facts[f"api:{c}.{f}:type"], raw, f)
                assert value is not None
                assert facts[f"record:{c}/2.{f}"] == calm.stored_value(c, 2, f)


@settings(deadline=None)
@given(st.lists(KIND_SPECS, max_size=8), st.integers(0, 12))
def test_openapi_and_facts_describe_handle(specs, now):
    world = make_world(3, 12)
    for step, spec in enumerate(specs):
        apply(world, spec, step)
    world.now = now
    rebuilt = world.copy()
    rebuilt._doc = None  # the document kept up to date equals one built from scratch
    assert rebuilt.openapi() == world.openapi()
    check_openapi_matches_handle(world)
    check_facts_match_handle(world)


class ApiProtocol(RuleBasedStateMachine):
    """Random perturbations, requests and the passing of time never break HTTP semantics."""

    def __init__(self) -> None:
        super().__init__()
        self.world = make_world(2, 8)
        self.last = None
        self.step = 0

    @rule(spec=KIND_SPECS)
    def perturb(self, spec):
        apply(self.world, spec, self.step)

    @rule()
    def tick(self):
        self.step += 1
        self.world.now = self.step

    @rule(method=st.sampled_from(["GET", "PATCH", "POST", "DELETE"]), which=st.integers(0, 30),
          record=st.one_of(st.none(), st.integers(0, 9)), page=st.sampled_from([None, "0", "1", "x"]),
          token=st.booleans(), body=st.sampled_from([None, {}, {"amount": 5}, {"amount": "0.05"}, {"status": "closed"}, [1]]))
    def request(self, method, which, record, page, token, body):
        paths = sorted(self.world.bases) + ["/openapi.json", "/auth/token", "/v9/nothing"]
        path = paths[which % len(paths)] + ("" if record is None or paths[which % len(paths)] in ("/openapi.json", "/auth/token") else f"/{record}")
        headers = {"Authorization": f"Bearer {self.world.valid_token if token else 'stale'}"}
        self.last = self.world.handle(Request(method, path, {"page": page} if page else {}, headers, body))

    @invariant()
    def within_http_semantics(self):
        if self.last is not None:
            assert self.world.http_violations(self.last) == []


ApiProtocol.TestCase.settings = settings(stateful_step_count=25, deadline=None)
TestApiProtocol = ApiProtocol.TestCase


# --------------------------------------------------------------------------- the env

def test_check_env():
    env = gym.make("driftgym/HttpApi-v0", render_mode="ansi").unwrapped
    check_env(env, skip_render_check=False)
    check_env(gym.make("driftgym/HttpApi-v0", visibility="flag", n_collections=2, n_records=5).unwrapped)


def test_made_by_id_and_observation_layout():
    env = gym.make("driftgym/HttpApi-v0", render_mode="ansi", visibility="flag")
    obs, info = env.reset(seed=3)
    assert info == {}
    assert set(obs) == {"job", "time_left", "queue", "status", "latency", "signals", "retry_after", "schema_age", "changed"}
    assert obs["status"] == 0 and obs["signals"].tolist() == [0, 0, 0, 1, 1, 1]
    assert env.render() == "(no request yet)\n"
    obs, reward, terminated, truncated, info = env.step(0)
    assert reward in (pytest.approx(0.99), pytest.approx(-0.01))
    assert env.render().startswith(("GET /v1/", "PATCH /v1/"))
    assert "HTTP/1.1 200 OK" in env.render()


def stale(obs) -> int:
    return 0


def adaptive(obs) -> int:
    kind, signals, status = int(obs["job"][0]), obs["signals"], int(obs["status"])
    if kind == 0 or signals[0]:
        return 4
    if not signals[5] or status == 3:
        return 3
    if signals[2] and (status in (2, 5) or signals[1]):
        return 1
    if status in (4, 6) or not signals[3] or not signals[4]:
        return 2
    return 0


def completions(policy, seed: int, after: int = 40) -> tuple[int, int]:
    env = HttpApiEnv()
    obs, _ = env.reset(seed=seed)
    early = late = 0
    for t in range(env.horizon):
        obs, reward, *_ = env.step(policy(obs))
        if reward > 0.5:
            early, late = (early + 1, late) if t < after else (early, late + 1)
    return early, late


@pytest.mark.parametrize("seed", [0, 1])
def test_default_schedule_breaks_a_stale_client_not_an_adaptive_one(seed):
    stale_early, stale_late = completions(stale, seed)
    adaptive_early, adaptive_late = completions(adaptive, seed)
    assert stale_early == adaptive_early == 10  # jobs 0..9 arrive before the first change
    assert stale_late == 0  # 401 from step 40 on: it never authenticates again
    assert adaptive_late >= 80


def test_view_facts_follow_the_view():
    env = HttpApiEnv(schedule=[{"at": 1, "perturb": {"kind": "rename_field", "collection": "users", "field": "amount", "to": "total"}}],
                     n_collections=3, n_records=20)
    env.reset(seed=0)
    truth, view = env.facts(), env.view_facts()
    assert set(view) == {k for k in truth if not k.startswith("record:")} - {"api:rate_limit", "api:version"}
    assert all(truth[k] == v for k, v in view.items())
    env.step(4)
    env.step(4)  # the rename fired at step 1; the view did not notice
    assert env.facts()["api:users.amount:name"] == "total"
    assert env.view_facts()["api:users.amount:name"] == "amount"
    env.view.learn_schema(env.world.openapi(), "users", 2)
    assert env.view_facts()["api:users.amount:name"] == "total"


def test_env_fetch_and_follow_repair_the_view():
    env = HttpApiEnv(schedule=[{"at": 0, "perturb": {"kind": "move_endpoint", "collection": "users"}},
                               {"at": 0, "perturb": {"kind": "rotate_credentials"}}], n_collections=3)
    env.reset(seed=0)
    env._job_collection[0] = env.world.index["users"]  # make the first job concern users
    obs, reward, *_ = env.step(0)
    assert (int(obs["status"]), obs["signals"][2], reward) == (2, 1, -0.01)  # 301 before auth; Location known
    obs, reward, *_ = env.step(1)
    assert (int(obs["status"]), obs["signals"][5]) == (3, 0)  # followed; now 401
    assert env.view.routes["users"] == "/v1/users-1"
    obs, reward, *_ = env.step(3)
    assert env.view_facts()["api:auth_valid"] is True and env.facts()["api:auth_valid"] is True
    obs, reward, *_ = env.step(0)
    assert reward == pytest.approx(0.99)
    obs, reward, *_ = env.step(2)
    assert int(obs["schema_age"][0]) == 0 if obs["job"][1] == env.world.index["users"] else True


def test_ignoring_retry_after_costs():
    env = HttpApiEnv(schedule=[{"at": 0, "perturb": {"kind": "rate_limit", "limit": 1, "window": 5}}])
    env.reset(seed=1)
    obs, reward, *_ = env.step(2)
    obs, reward, *_ = env.step(2)
    assert int(obs["status"]) == 7 and obs["retry_after"][0] == 3.0 and obs["signals"][0] == 1
    obs, reward, *_ = env.step(2)
    assert reward == pytest.approx(-0.11)
    assert env.view_facts()["api:rate_limit"] == [1, 5]


def test_missed_deadlines_and_give_up():
    env = HttpApiEnv(schedule=[], job_interval=2, job_deadline=3, horizon=20)
    env.reset(seed=0)
    rewards = [env.step(4)[1] for _ in range(6)]
    assert rewards == [0.0, 0.0, -0.5, 0.0, -0.5, 0.0]
    assert env.step(5)[1] == pytest.approx(-0.2)


@settings(deadline=None)
@given(st.lists(st.tuples(st.integers(0, 29), KIND_SPECS), max_size=6), st.lists(st.integers(0, 5), min_size=30, max_size=30),
       st.integers(0, 2**16))
def test_random_schedules_and_actions_stay_in_space_and_in_http(entries, actions, seed):
    schedule = [{"at": step, "perturb": spec} for step, spec in entries]
    env = HttpApiEnv(schedule=schedule, horizon=30, n_collections=2, n_records=10, visibility="magnitude")
    obs, _ = env.reset(seed=seed)
    assert env.observation_space.contains(obs)
    for action in actions:
        previous = env.last_exchange
        obs, reward, terminated, truncated, info = env.step(action)
        assert env.observation_space.contains(obs)
        if env.last_exchange is not previous and env.last_exchange[1] is not None:
            assert env.world.http_violations(env.last_exchange[1]) == []
    assert truncated


def test_same_seed_same_actions_same_trace():
    def trace(seed):
        env = HttpApiEnv()
        env.reset(seed=seed)
        rng = np.random.default_rng(5)
        out = []
        for _ in range(120):
            obs, reward, *_ = env.step(int(rng.integers(6)))
            out.append((reward, env.world_digest(), {k: v.tolist() for k, v in obs.items()}))
        return out

    assert trace(4) == trace(4)
    assert trace(4) != trace(5)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="n_collections must be a whole number >= 1"):
        HttpApiEnv(n_collections=0)
    with pytest.raises(ValueError, match="timeout_ms must be > 0"):
        HttpApiEnv(timeout_ms=0)
    with pytest.raises(PerturbationError, match="acts on params worlds"):
        HttpApiEnv(schedule=[{"at": 1, "perturb": {"kind": "drift_param", "param": "gravity", "rate": 1.0}}])
