"""`HttpApiEnv` (``driftgym/HttpApi-v0``): an integration client against a drifting HTTP API."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np
from gymnasium import spaces

import driftgym.perturbations.api  # noqa: F401  (registers the api kinds)
from driftgym.envs.api.http import Request, Response, format_request, format_response, split_path
from driftgym.envs.api.schema import CLIENT_ID, CLIENT_SECRET, ENUMS, FIELDS_PER_COLLECTION, parse_value, present_value
from driftgym.envs.api.view import ClientView
from driftgym.envs.api.world import ApiWorld
from driftgym.envs.base import DriftEnv, check_whole

__all__ = ["HttpApiEnv", "OPS", "STATUS_CLASSES", "DEFAULT_SCHEDULE"]

OPS = ("request", "follow", "fetch_schema", "authenticate", "wait", "give_up")
REQUEST, FOLLOW, FETCH_SCHEMA, AUTHENTICATE, WAIT, GIVE_UP = range(6)
JOB_KINDS = ("none", "read", "update", "list")
STATUS_CLASSES = ("none", "2xx", "301", "401", "404", "410", "other 4xx", "429", "5xx", "timeout")
_STATUS_INDEX = {200: 1, 301: 2, 401: 3, 404: 4, 410: 5, 429: 7}
SIGNALS = ("retry_after_live", "deprecated", "location_known", "field_present", "type_ok", "token_ok")

COMPLETED = 1.0
REQUEST_COST = 0.01
IGNORED_RETRY_AFTER = 0.1
MISSED_DEADLINE = 0.5
GAVE_UP = 0.2

DEFAULT_SCHEDULE = [
    {"at": 40, "perturb": {"kind": "rotate_credentials"}},
    {"at": 60, "perturb": {"kind": "rename_field"}},
    {"at": 80, "perturb": {"kind": "move_endpoint"}},
    {"at": 100, "perturb": {"kind": "version_bump", "sunset_after": 60}},
    {"at": 130, "perturb": {"kind": "change_field_type"}},
    {"every": 60, "start": 30, "perturb": {"kind": "error_burst", "rate": 0.3, "duration": 5}},
    {"window": [180, 30], "perturb": {"kind": "rate_limit", "limit": 1, "window": 3}},
    {"at": 220, "perturb": {"kind": "latency_spike", "factor": 25.0, "duration": 10}},
    {"at": 250, "perturb": {"kind": "change_page_size", "size": 7}},
    {"every": 25, "perturb": {"kind": "mutate_records", "count": 5}},
    {"poisson": 0.005, "perturb": {"kind": "rotate_credentials"}},
    {"at": 300, "perturb": {"kind": "remove_endpoint"}},
]


def status_index(status: int) -> int:
    if status in _STATUS_INDEX:
        return _STATUS_INDEX[status]
    return 8 if status >= 500 else 6


class HttpApiEnv(DriftEnv):
    """
    ## Description

    An integration client must keep working against a simulated, versioned REST service
    (:class:`ApiWorld`, answering ``handle(Request) -> Response`` with real HTTP semantics) whose
    schema, routes, limits and credentials drift. Jobs arrive on a seeded, exogenous stream, one
    every ``job_interval`` steps, each with a deadline of ``job_deadline`` steps:

    - ``read``: read field F of record R in collection C (the value parsed must equal the truth);
    - ``update``: set field F of R to a given value (``PATCH``);
    - ``list``: list C and find record R on the page where the client believes it lies, read F.

    The agent works on the oldest pending job. It acts through the client's **view** (what it
    learned by its own requests): the route and field names/types it last learned per collection,
    the last ``Location``/successor it saw, its bearer token, the page size. Time is virtual: one
    step is one second of the server's clock (``Retry-After`` counts steps; ``Sunset`` is the
    HTTP-date of a step); latency is simulated milliseconds.

    ## Action Space

    ``Discrete(6)``, an operation on the current job:

    | Num | Op             | What the client does                                                        |
    |-----|----------------|-----------------------------------------------------------------------------|
    | 0   | `request`      | the job's request with the known route, field name and type, and token        |
    | 1   | `follow`       | adopt the last `Location` / 410 successor / successor-version seen, then request |
    | 2   | `fetch_schema` | `GET /openapi.json`; learn the job collection's route, names, types; page size |
    | 3   | `authenticate` | `POST /auth/token` with the client credentials; keep the new token           |
    | 4   | `wait`         | send nothing (lets a `Retry-After` pass)                                      |
    | 5   | `give_up`      | drop the current job                                                          |

    ## Observation Space

    ``Dict``: ``job`` MultiDiscrete([4, n_collections, 3]) (kind none/read/update/list, collection,
    field slot); ``time_left`` Box(0, 1, (1,)) of the deadline; ``queue`` Box(0, deadline // interval + 1, (1,))
    jobs waiting behind it; ``status`` Discrete(10) of the last response (none, 2xx, 301, 401, 404, 410, other
    4xx, 429, 5xx, timeout); ``latency`` Discrete(5) (none, <100 ms, <300 ms, < timeout, timed out);
    ``signals`` MultiBinary(6): a live Retry-After, last response deprecated, a Location/successor
    known for the job's collection, the expected field (or list record) was present, it parsed with
    the believed type, the token still worked; ``retry_after`` Box(0, horizon, (1,)) steps left of it;
    ``schema_age`` Box(0, horizon, (1,)) steps since the job collection's schema was learned; and
    ``changed`` (``visibility="flag"``), ``magnitude`` as the base env adds.

    ## Rewards

    +1 per job completed correctly; -0.01 per request sent; -0.1 more per request sent while a
    ``Retry-After`` the client received is still live; -0.5 per job whose deadline passes;
    -0.2 per ``give_up``.

    ## Starting State

    ``n_collections`` collections (users, orders, ...) of ``n_records`` records, each with an
    ``amount`` (integer cents) and two of price, quantity, region, status, tier, drawn from the
    seed. API v1 at ``/v1/<collection>``, page size 10, 30 requests per 10 steps. The client was
    written against v1: its view is correct at step 0 and it holds a valid token.

    ## Episode End

    No termination; truncation at ``horizon`` (default 400).

    ## Perturbations

    Kinds of :mod:`driftgym.perturbations.api`: ``rename_field``, ``change_field_type``,
    ``move_endpoint``, ``remove_endpoint``, ``version_bump``, ``rate_limit``, ``latency_spike``,
    ``error_burst``, ``rotate_credentials``, ``change_page_size``, ``mutate_records``. The default
    schedule (``DEFAULT_SCHEDULE``): credentials rotate at 40 (and at Poisson rate 0.005), a field
    is renamed at 60, a route moves at 80, v2 is published at 100 (v1 gone at 160), a money field
    becomes a decimal string at 130, a 30 % error burst for 5 steps every 60 steps from 30, a rate
    limit of 1 request per 3 steps over [180, 210), latency x25 over [220, 230), page size 7 at 250,
    five third-party writes every 25 steps, a route removed (410) at 300. A client that never
    refreshes its schema and ignores ``Location``, ``Retry-After`` and 401s fails every job after 40.

    ## Arguments

    ``n_collections=4``, ``n_records=50``, ``job_interval=4``, ``job_deadline=16``,
    ``timeout_ms=1000.0``, ``schedule=None`` (the default schedule; ``[]`` for none),
    ``horizon=None`` (400), ``visibility="hidden"``, ``render_mode=None`` (``"ansi"``: the last
    request and response as HTTP text). ``view_facts()`` reads the view as facts.

    ## Version History

    - v0: initial version.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}
    world_kind = "api"
    default_schedule = DEFAULT_SCHEDULE
    belief_prefixes = ("api",)  # what world-model probes ask about
    default_horizon = 400

    def __init__(self, n_collections: int = 4, n_records: int = 50, job_interval: int = 4, job_deadline: int = 16,
                 timeout_ms: float = 1000.0, schedule=None, horizon: int | None = None, visibility: str = "hidden",
                 render_mode: str | None = None) -> None:
        super().__init__(schedule, horizon, visibility, render_mode)
        n_collections, n_records = check_whole("n_collections", n_collections), check_whole("n_records", n_records)
        job_interval, job_deadline = check_whole("job_interval", job_interval), check_whole("job_deadline", job_deadline)
        if not timeout_ms > 0:
            raise ValueError(f"timeout_ms must be > 0 (got {timeout_ms!r})")
        self.n_collections, self.n_records = n_collections, n_records
        self.job_interval, self.job_deadline, self.timeout_ms = job_interval, job_deadline, float(timeout_ms)
        self.action_space = spaces.Discrete(len(OPS))
        self.observation_space = spaces.Dict({
            "job": spaces.MultiDiscrete([len(JOB_KINDS), n_collections, FIELDS_PER_COLLECTION]),
            "time_left": spaces.Box(0.0, 1.0, (1,), np.float32),
            "queue": spaces.Box(0.0, float(job_deadline // job_interval + 1), (1,), np.float32),
            "status": spaces.Discrete(len(STATUS_CLASSES)),
            "latency": spaces.Discrete(5),
            "signals": spaces.MultiBinary(len(SIGNALS)),
            "retry_after": spaces.Box(0.0, float(self.horizon), (1,), np.float32),
            "schema_age": spaces.Box(0.0, float(self.horizon), (1,), np.float32),
            **self.notice_spaces(),
        })
        self.view: ClientView | None = None
        self.last_exchange: tuple[Request, Response | None] | None = None

    # ----------------------------------------------------------------- DriftEnv hooks
    def _build_world(self, rng: np.random.Generator) -> ApiWorld:
        return ApiWorld(rng, self.n_collections, self.n_records)

    def step(self, action: Any):
        if self.world is not None and self._t >= 0:
            self.world.now = self._t  # the server's clock, before the step's perturbations fire
        return super().step(action)

    def _reset_view(self):
        self.world.rng = self.dynamics_rng
        self.view = ClientView.of_initial(self.world)
        self._draw_jobs()
        self._queue: deque[int] = deque([0])
        self.jobs = {"completed": 0, "missed": 0, "given_up": 0}
        self._sent = False
        self._status, self._latency = 0, 0
        self._deprecated = False
        self._field_present = self._type_ok = True
        self.last_exchange = None
        return self._observe(), {}

    def _draw_jobs(self) -> None:
        """The exogenous job stream: child 1 of the world stream, one job every ``job_interval``."""
        rng = np.random.default_rng(np.random.SeedSequence(self.streams.entropy, spawn_key=(0, 1)))
        count = math.ceil(self.horizon / self.job_interval) + 1
        self._job_kind = (rng.choice(3, count, p=[0.4, 0.3, 0.3]) + 1).tolist()
        self._job_collection = rng.integers(0, self.n_collections, count).tolist()
        self._job_slot = rng.integers(0, FIELDS_PER_COLLECTION, count).tolist()
        self._job_record = rng.integers(0, self.n_records, count).tolist()
        self._job_value = rng.random(count).tolist()

    def _act(self, action: Any):
        op, t = int(action), self._t
        self._sent = False  # info["http_status"] is 0 on a step that sends nothing
        job = self._queue[0] if self._queue else None
        reward = 0.0
        if op == REQUEST and job is not None:
            reward += self._work(job)
        elif op == FOLLOW and job is not None:
            collection = self.world.collections[self._job_collection[job]]
            hint = self.view.hints.pop(collection, None)
            if hint is not None:
                self.view.routes[collection] = hint
                reward += self._work(job)
        elif op == FETCH_SCHEMA:
            response, reward = self._send(Request("GET", "/openapi.json"))
            if response is not None and response.status == 200:
                collection = self.world.collections[self._job_collection[job]] if job is not None else None
                self.view.learn_schema(response.body, collection, t)
                self._field_present = self._type_ok = True
        elif op == AUTHENTICATE:
            body = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
            response, reward = self._send(Request("POST", "/auth/token", body=body))
            if response is not None and response.status == 200:
                self.view.token, self.view.token_ok = response.body["access_token"], True
        elif op == GIVE_UP and job is not None:
            self._queue.popleft()
            self.jobs["given_up"] += 1
            reward -= GAVE_UP
        return reward + self._advance_jobs(t + 1), False, {"http_status": self._last_code()}

    def _advance_jobs(self, now: int) -> float:
        """Jobs arriving at step ``now`` join the queue; jobs whose deadline is ``now`` are missed."""
        if now % self.job_interval == 0 and now < self.horizon:
            self._queue.append(now // self.job_interval)
        penalty = 0.0
        while self._queue and self._queue[0] * self.job_interval + self.job_deadline <= now:
            self._queue.popleft()
            self.jobs["missed"] += 1
            penalty -= MISSED_DEADLINE
        return penalty

    # ----------------------------------------------------------------- requests
    def _send(self, request: Request) -> tuple[Response | None, float]:
        """Send through the world; what the client sees (None on a timeout) and the request's cost."""
        view, now = self.view, self._t
        cost = -REQUEST_COST - (IGNORED_RETRY_AFTER if view.retry_until > now else 0.0)
        self._sent = True
        response = self.world.handle(request)
        if response.latency_ms >= self.timeout_ms:
            self.last_exchange = (request, None)
            self._status, self._latency = 9, 4
            return None, cost
        self.last_exchange = (request, response)
        status, headers = response.status, response.headers
        self._status = status_index(status)
        latency = response.latency_ms
        self._latency = 1 if latency < 100 else 2 if latency < 300 else 3
        self._deprecated = "Deprecation" in headers
        view.learn_policy(headers.get("RateLimit-Policy"))
        if status == 429:
            view.retry_until = now + int(headers["Retry-After"])
        elif status == 401:
            view.token_ok = False
        elif 200 <= status < 300 and "Authorization" in request.headers:
            view.token_ok = True
        return response, cost

    def _work(self, job: int) -> float:
        """The current job's request, from the view; +1 if it completes the job correctly."""
        world, view = self.world, self.view
        collection = world.collections[self._job_collection[job]]
        field_id = world.slots[collection][self._job_slot[job]]
        record, kind = self._job_record[job], self._job_kind[job]
        name, believed = view.names[collection][field_id], view.types[collection][field_id]
        target = int(self._job_value[job] * world.field_modulus(field_id)) if kind == 2 else None
        response, reward = self._send(self.job_request(job))
        if response is None:
            return reward
        self._learn_location(collection, response)
        if response.status == 422:
            self._field_present = response.body.get("error") != "unknown_field"
            self._type_ok = response.body.get("error") != "invalid_type"
        if response.status != 200:
            return reward
        body = response.body
        if kind == 3:
            view.page_size = body["page_size"]
            offset = record - body["page"] * body["page_size"]
            body = body["items"][offset] if 0 <= offset < len(body["items"]) else {}
        self._field_present = name in body
        value = parse_value(believed, body[name], field_id) if self._field_present else None
        self._type_ok = value is not None or not self._field_present
        if value is None:
            return reward
        answer = ENUMS[field_id][value] if field_id in ENUMS else value
        view.records[f"{collection}/{record}.{field_id}"] = answer
        truth = world.stored_value(collection, record, field_id)
        correct = answer == truth and (kind != 2 or value == target)
        if correct:
            self._queue.popleft()
            self.jobs["completed"] += 1
        return reward + (COMPLETED if correct else 0.0)

    def _learn_location(self, collection: str, response: Response) -> None:
        status, headers = response.status, response.headers
        if status == 301:
            self.view.hints[collection] = split_path(headers["Location"])[0]
        elif status == 410:
            self.view.hints[collection] = response.body["successor"]
        elif "Link" in headers and collection not in self.view.hints:
            self.view.hints[collection] = headers["Link"].partition(">")[0].lstrip("<")

    def _last_code(self) -> int:
        if not self._sent or self.last_exchange is None or self.last_exchange[1] is None:
            return 0
        return self.last_exchange[1].status

    # ----------------------------------------------------------------- observation, facts, render
    def _observe(self) -> dict[str, np.ndarray]:
        view, now = self.view, self._t
        job = self._queue[0] if self._queue else None
        if job is None:
            descriptor, time_left, age, hint = [0, 0, 0], 0.0, 0.0, False
        else:
            ci = self._job_collection[job]
            collection = self.world.collections[ci]
            descriptor = [self._job_kind[job], ci, self._job_slot[job]]
            time_left = (job * self.job_interval + self.job_deadline - now) / self.job_deadline
            age, hint = float(min(view.schema_age(collection, now), self.horizon)), collection in view.hints
        retry = min(max(0, view.retry_until - now), self.horizon)
        signals = [retry > 0, self._deprecated, hint, self._field_present, self._type_ok, view.token_ok]
        observation = {
            "job": np.array(descriptor, np.int64),
            "time_left": np.array([min(max(time_left, 0.0), 1.0)], np.float32),
            "queue": np.array([max(len(self._queue) - 1, 0)], np.float32),
            "status": np.int64(self._status),
            "latency": np.int64(self._latency),
            "signals": np.array(signals, np.int8),
            "retry_after": np.array([retry], np.float32),
            "schema_age": np.array([age], np.float32),
        }
        if self.visibility != "hidden":
            observation.update(self.notice)
        return observation

    # ----------------------------------------------------------------- jobs and direct requests
    def current_job(self) -> int | None:
        """The number of the oldest pending job, the one every operation acts on (None: none)."""
        return self._queue[0] if self._queue else None

    def jobs_waiting(self) -> int:
        """How many jobs wait behind the current one."""
        return max(len(self._queue) - 1, 0)

    def job_spec(self, job: int) -> tuple[str, str, str, int, int | None]:
        """Job ``job`` as (kind: read/update/list, collection, field, record, the stored value an
        update must set or None)."""
        world = self.world
        collection = world.collections[self._job_collection[job]]
        field_id = world.slots[collection][self._job_slot[job]]
        kind = JOB_KINDS[self._job_kind[job]]
        target = int(self._job_value[job] * world.field_modulus(field_id)) if kind == "update" else None
        return kind, collection, field_id, self._job_record[job], target

    def job_request(self, job: int, route: str | None = None) -> Request:
        """The request the ``request`` operation sends for ``job``: the view's route (or ``route``),
        field name and type, and token."""
        view = self.view
        kind, collection, field_id, record, target = self.job_spec(job)
        route = route or view.routes[collection]
        headers = {"Authorization": f"Bearer {view.token}"}
        if kind == "read":
            return Request("GET", f"{route}/{record}", headers=headers)
        if kind == "update":
            name, believed = view.names[collection][field_id], view.types[collection][field_id]
            return Request("PATCH", f"{route}/{record}", headers=headers, body={name: present_value(believed, target, field_id)})
        return Request("GET", route, {"page": str(record // view.page_size)}, headers)

    def send_direct(self, request: Request) -> float:
        """Send ``request`` outside the job workflow, in the second the last step took (the text
        interface's free-form requests); learn a ``Location`` or successor it reveals for a live
        route. Returns the request's cost (negative)."""
        self._t -= 1
        try:
            _, cost = self._send(request)
            response = self.last_exchange[1]
            if response is not None:
                base, _ = split_path(request.path)
                entry = self.world.bases.get(base)
                if entry is not None and entry[0] == "live":
                    self._learn_location(entry[2], response)
        finally:
            self._t += 1
        return cost

    def episode_figures(self) -> dict[str, Any]:
        """Jobs completed, missed (deadline passed) and given up so far."""
        return dict(self._require_reset().jobs)

    def view_facts(self) -> dict[str, Any]:
        """The facts implied by the client's view (keys of ``facts()``, only those it has an opinion on)."""
        self._require_reset()
        return self.view.facts(self.world.slots)

    def _render_ansi(self) -> str:
        if self.last_exchange is None:
            return "(no request yet)\n"
        request, response = self.last_exchange
        answer = format_response(response) if response is not None else f"(client timeout after {self.timeout_ms:.0f} ms)"
        return f"{format_request(request)}\n\n{answer}\n"
