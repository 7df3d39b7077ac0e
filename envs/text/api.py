"""The HttpApi grammar: raw HTTP requests, as a client would write them.

A command is a request — a request line ``METHOD TARGET [HTTP/1.1]``, optional header lines
``Name: value``, a blank line and an optional JSON body — or one of ``auth`` (get a token with the
client credentials), ``wait [N]`` (let N seconds pass, 1-60: N steps), ``drop`` (give up the current
job) and ``help``. Mapping to the structured actions: ``GET /openapi.json`` is ``fetch_schema``;
``auth`` (or ``POST /auth/token`` with the credentials) is ``authenticate``; a request that is the
current job's request (its method, the record or list page, one ``Authorization: Bearer`` header,
for an update the job's value as the one body field) is ``request`` after the client adopts that
route, token (and field name and type) — following a ``Location`` this way is ``follow``; ``wait``
is ``wait``, ``drop`` ``give_up``. Any other request is sent as it is, after an idle step of the
same second (cost 0.01, 0.1 more while a ``Retry-After`` is live) — it completes no job.
"""

from __future__ import annotations

import json
from typing import Any

from driftgym.envs.api.env import AUTHENTICATE, FETCH_SCHEMA, GIVE_UP, REQUEST, WAIT
from driftgym.envs.api.http import Request, format_response, split_path
from driftgym.envs.api.world import CLIENT_ID, CLIENT_SECRET, DECIMAL, ENUMS, FIELDS, present_value
from driftgym.envs.text.wrapper import Grammar, Outcome

__all__ = ["ApiGrammar", "command_for", "parse_request"]

METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE", "HEAD")
KINDS = {1: "read", 2: "update", 3: "list"}
MAX_WAIT = 60
REQUEST_USAGE = "METHOD /path[?query] [HTTP/1.1], then header lines (Name: value), a blank line and a JSON body"


class BadRequest(ValueError):
    pass


def parse_request(text: str) -> Request:
    """A request from its text form; ``BadRequest`` says what is wrong."""
    head, _, body_text = text.replace("\r\n", "\n").strip("\n").partition("\n\n")
    lines = head.split("\n")
    parts = lines[0].split()
    if len(parts) not in (2, 3) or parts[0].upper() not in METHODS or not parts[1].startswith("/"):
        raise BadRequest(f"not a request line: {lines[0]!r}")
    if len(parts) == 3 and not parts[2].upper().startswith("HTTP/"):
        raise BadRequest(f"not a protocol version: {parts[2]!r}")
    path, _, query_text = parts[1].partition("?")
    query = {}
    for pair in filter(None, query_text.split("&")):
        name, _, value = pair.partition("=")
        query[name] = value
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise BadRequest(f"not a header line: {line!r}")
        name = "-".join(w.capitalize() for w in name.strip().split("-"))
        if name != "Host":
            headers[name] = value.strip()
    body = None
    if body_text.strip():
        try:
            body = json.loads(body_text)
        except ValueError as problem:
            raise BadRequest(f"the body is not JSON: {problem}") from None
    return Request(parts[0].upper(), path, query, headers, body)


def format_request_text(request: Request) -> str:
    query = "&".join(f"{k}={v}" for k, v in request.query.items())
    lines = [f"{request.method} {request.path}{'?' + query if query else ''}"]
    lines += [f"{k}: {v}" for k, v in request.headers.items()]
    if request.body is not None:
        lines += ["", json.dumps(request.body, sort_keys=True)]
    return "\n".join(lines)


def believed_type(raw: Any) -> str | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return "integer"
    if isinstance(raw, str):
        return "decimal" if DECIMAL.match(raw) else "string"
    return None


def job_line(env: Any) -> str:
    job = env.current_job()
    if job is None:
        return "no job pending"
    kind, collection, field_id, record, target = env.job_spec(job)
    left = job * env.job_interval + env.job_deadline - env.step_index
    what = f"job #{job}: {kind} {collection}/{record} field {field_id}"
    if kind == "update":
        what += f" to {ENUMS[field_id][target] if field_id in ENUMS else target}"
    return f"{what} ({left} s left, {env.jobs_waiting()} more queued)"


class ApiGrammar(Grammar):
    usage = (
        "  METHOD /path[?query]   a request; header lines (Name: value) follow it, then a blank line\n"
        "  [Header: value]        and an optional JSON body               cost 0.01 (+0.1 during a Retry-After)\n"
        "  auth                   POST /auth/token with the client credentials          cost 0.01\n"
        "  wait [N]               let N seconds pass (1-60, default 1)                  cost 0\n"
        "  drop                   give up the current job                               cost 0.2\n"
        "  help                   this text                                             cost 0"
    )

    def idle_action(self) -> int:
        return WAIT

    def briefing(self) -> str:
        env = self.base
        world = env.world
        lines = [
            "You are the integration client of a REST API (api.driftgym.test, virtual time: one step is one second)",
            "whose schema, routes, limits and credentials change without notice. Jobs arrive every "
            f"{env.job_interval} s, each due within {env.job_deadline} s:",
            "  read C/R field F: GET the record; update C/R field F to V: PATCH it with {\"<name of F>\": V};",
            "  list C/R field F: GET the page holding record R (?page=R // page size).",
            "Money fields are integer cents (a decimal type writes them as \"123.45\"); enums are strings.",
            f"You hold the token {env.view.token} (header Authorization: Bearer {env.view.token}); credentials for POST "
            f"/auth/token: {{\"client_id\": \"{CLIENT_ID}\", \"client_secret\": \"{CLIENT_SECRET}\"}}.",
            f"The API as you were written against it (v1, page size {env.view.page_size}; GET /openapi.json shows it now):",
        ]
        for c in world.collections:
            fields = ", ".join(f"{f} ({env.view.types[c][f]}{': ' + '|'.join(ENUMS[f]) if f in ENUMS else ''})"
                               for f in world.slots[c])
            lines.append(f"  {env.view.routes[c]}/{{id}}  {c}: {fields}")
        lines += [
            "Rewards: +1 per job completed correctly, -0.01 per request, -0.1 more per request sent while a",
            f"Retry-After is live, -0.5 per missed deadline, -0.2 per dropped job. {env.horizon} steps. Commands:",
            self.usage,
            job_line(env),
        ]
        return "\n".join(lines)

    def run(self, command: str, outcome: Outcome) -> None:
        words = command.strip().split()
        verb = words[0].lower() if words else ""
        if verb in ("auth", "drop", "help", "wait"):
            if verb == "wait":
                self._wait(outcome, words[1:])
            elif len(words) > 1:
                self.error(outcome, f"{verb} takes no argument", f"  {verb}")
            elif verb == "auth":
                self._exchange(outcome, AUTHENTICATE)
            elif verb == "drop":
                self.step(GIVE_UP, outcome)
                outcome.say("job dropped")
            else:
                self.idle(outcome)
                outcome.say(self.usage)
        elif not words:
            self.error(outcome, "empty command")
        else:
            try:
                request = parse_request(command)
            except BadRequest as problem:
                return self.error(outcome, str(problem), REQUEST_USAGE)
            self._request(outcome, request)
        outcome.say("--", job_line(self.base))

    def _wait(self, outcome: Outcome, args: list[str]) -> None:
        if len(args) > 1 or (args and not (args[0].isdigit() and 1 <= int(args[0]) <= MAX_WAIT)):
            return self.error(outcome, f"wait takes a whole number of seconds from 1 to {MAX_WAIT}", "  wait [N]")
        seconds = int(args[0]) if args else 1
        for waited in range(1, seconds + 1):
            self.step(WAIT, outcome)
            if outcome.truncated or outcome.terminated:
                break
        outcome.say(f"waited {waited} s")

    def _exchange(self, outcome: Outcome, op: int) -> None:
        env = self.base
        before = env.last_exchange
        self.step(op, outcome)
        if env.last_exchange is not before and env.last_exchange is not None:
            outcome.say(*show_exchange(env))

    def _request(self, outcome: Outcome, request: Request) -> None:
        env = self.base
        if request.path == "/openapi.json" and request.method == "GET":
            return self._exchange(outcome, FETCH_SCHEMA)
        if request.path == "/auth/token" and request.body == {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET} \
                and request.method == "POST":
            return self._exchange(outcome, AUTHENTICATE)
        job = env.current_job()
        if job is not None and self._adopt(job, request):
            return self._exchange(outcome, REQUEST)
        self.idle(outcome)
        outcome.reward += env.send_direct(request)  # in the second the idle step took
        outcome.say(*show_exchange(env))

    def _adopt(self, job: int, request: Request) -> bool:
        """Whether ``request`` is the job's request; if so the client's view takes its route,
        token (and, for an update, field name and type), so that ``request`` sends exactly it."""
        env = self.base
        view = env.view
        kind, collection, field_id, record, target = env.job_spec(job)
        auth = request.headers.get("Authorization", "")
        if set(request.headers) != {"Authorization"} or not auth.startswith("Bearer "):
            return False
        base, rid = split_path(request.path)
        if kind == "list":
            if request.method != "GET" or rid is not None or request.body is not None \
                    or request.query != {"page": str(record // view.page_size)}:
                return False
        elif rid != record or request.query or request.method != ("GET" if kind == "read" else "PATCH"):
            return False
        if kind == "read" and request.body is not None:
            return False
        if kind == "update":
            body = request.body
            if not isinstance(body, dict) or len(body) != 1:
                return False
            (name, raw), = body.items()
            believed = believed_type(raw)
            if believed is None or (believed == "string") != (FIELDS[field_id][0] == "enum") \
                    or present_value(believed, target, field_id) != raw:
                return False
            view.names[collection][field_id], view.types[collection][field_id] = name, believed
        view.routes[collection] = base
        if view.hints.get(collection) == base:  # following a Location / successor
            view.hints.pop(collection)
        view.token = auth[len("Bearer "):]
        return True


def show_exchange(env: Any) -> list[str]:
    request, response = env.last_exchange
    if response is None:
        return [f"(client timeout after {env.timeout_ms:.0f} ms)"]
    text = format_response(response, limit=10**9).replace("\r\n", "\n")
    head, _, _ = text.partition("\n\n")
    body = json.dumps(response.body, sort_keys=True, separators=(",", ":")) if response.body is not None else ""
    return [head, "", body]


def command_for(env: Any, structured: Any) -> str | None:
    """The command equivalent to a structured action on ``env`` (the base HttpApiEnv) now."""
    op = int(structured)
    job = env.current_job()
    if op == WAIT or (op in (REQUEST, 1) and job is None):
        return "wait 1"
    if op == FETCH_SCHEMA:
        return "GET /openapi.json"
    if op == AUTHENTICATE:
        return "auth"
    if op == GIVE_UP:
        return "drop"
    if op == REQUEST:
        return format_request_text(env.job_request(job))
    collection = env.job_spec(job)[1]
    hint = env.view.hints.get(collection)
    return "wait 1" if hint is None else format_request_text(env.job_request(job, hint))
