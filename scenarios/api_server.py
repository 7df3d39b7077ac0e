"""``driftgym serve api``: the HttpApi world behind a real HTTP server on a loopback socket.

The world (:class:`driftgym.envs.api.ApiWorld`) answers every request; the server is the standard
library's ``http.server.ThreadingHTTPServer`` (one thread per connection, HTTP/1.1 keep-alive).

Virtual time: the world's step is ``requests the world has served // tick`` (``--tick 1``: one step
per request). Before a request is handled at step ``s``, the timeline's events of every step up to
``s`` fire, through the same ``Playback`` and seed streams as ``HttpApiEnv`` (``reset(seed)``), so
perturbations arrive as time advances; a request at step ``s`` sees the world as the env's action
at step ``s`` does. Every response carries ``X-Driftgym-Step`` (the step it was served at) and
``X-Driftgym-Exchange`` (its number in the trace).

Concurrency: firing, ``handle()`` and the trace line of one exchange run under one lock, so
exchanges are totally ordered (the trace's order is the world's) and nothing is lost or torn.

Requests the HTTP layer refuses never reach the world and do not advance time, but they are
answered (4xx JSON ``{"error": ..., "detail": ...}``, then the connection is closed) and logged:
a malformed request line or header (400), a request target that is not an origin-form path, or a
path or query carrying control characters (400: what the world echoes into ``Location`` can never
inject a header), a body without ``Content-Length``, chunked bodies (411), a body over
``MAX_BODY`` bytes (413), a body that is not JSON (400), a method outside ``WORLD_METHODS`` (405
with ``Allow``). Headers: only ``Authorization`` reaches the world.

The trace (JSONL, ``"format": "driftgym-api-trace/1"``): a header (seed, tick, horizon, env
arguments, schedule, timeline and world digests), an ``events`` line per step where events fired,
one ``exchange`` line per response sent (request; status, headers, body digest; ``world`` or
``server`` for who answered) and, on a clean stop, a ``closing`` line (exchange count, world
digest). ``driftgym replay TRACE`` re-executes the world's exchanges in order and checks every
event, status, header and body digest (:func:`replay_exchanges`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import driftgym
from driftgym.envs.api import HttpApiEnv, Request, Response
from driftgym.envs.api.world import ApiWorld
from driftgym.perturbations import Playback, canonical_json

__all__ = ["ApiServer", "MAX_BODY", "TRACE_FORMAT", "WORLD_METHODS", "main", "replay_exchanges"]

TRACE_FORMAT = "driftgym-api-trace/1"
MAX_BODY = 64 * 1024
WORLD_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")  # the world answers (405 where it does not allow one)
INLINE_BODY = 2048  # response bodies up to this size (JSON bytes) are kept in the trace, beside their digest
REQUEST_TIMEOUT = 10.0  # seconds a connection may sit idle mid-request
CONTROL = {chr(c) for c in range(32)} | {"\x7f"}
STDLIB_REASONS = {400: "bad_request", 408: "request_timeout", 411: "length_required", 413: "content_too_large",
                  414: "uri_too_long", 431: "header_fields_too_large", 405: "method_not_allowed"}


class Refused(Exception):
    """A request the HTTP layer answers itself (never the world)."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}




def _exchanges_result(count: int, mismatch, world=None):
    """A replay result counted in exchanges (a server trace has no agent steps)."""
    from driftgym.scenarios.replay import ReplayResult

    return ReplayResult(count, mismatch, world, unit="exchanges")

def world_setup(env_kwargs: dict[str, Any], schedule: Any, horizon: int | None, seed: int) -> tuple[ApiWorld, Playback, HttpApiEnv]:
    """The world and the playback of its timeline, exactly as ``HttpApiEnv(...).reset(seed=seed)`` builds them."""
    env = HttpApiEnv(**env_kwargs, schedule=schedule, horizon=horizon)  # validates the arguments and the schedule
    env.reset(seed=seed)  # the one place worlds, streams and timelines are built
    return env.world, env.playback, env


def request_record(request: Request) -> dict[str, Any]:
    return {"method": request.method, "path": request.path, "query": request.query,
            "headers": request.headers, "body": request.body}


def reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def body_bytes(body: Any) -> bytes:
    return canonical_json(body).encode()


class ApiServer:
    """The HttpApi world served over HTTP on ``host:port`` (``port=0``: a free one), trace to ``trace``.

    ``with ApiServer(seed=3, trace=path) as server: requests.get(server.url + "/openapi.json")``.
    ``scenario`` is a :class:`~driftgym.scenarios.scenario.Scenario` (its env kwargs, schedule and
    horizon), else the env's defaults (or ``schedule``/``horizon``/``env_kwargs`` given here).
    ``start()`` serves on a background thread; ``serve_forever()`` on this one; ``stop()`` ends
    either and writes the closing line.
    """

    def __init__(self, scenario: Any = None, seed: int = 0, tick: int = 1, trace: str | Path = "api-trace.jsonl",
                 host: str = "127.0.0.1", port: int = 0, schedule: Any = None, horizon: int | None = None,
                 env_kwargs: dict[str, Any] | None = None) -> None:
        if isinstance(tick, bool) or not isinstance(tick, int) or tick < 1:
            raise ValueError(f"tick must be a whole number >= 1 (got {tick!r})")
        if scenario is not None:
            if scenario.env != "driftgym/HttpApi-v0":
                raise ValueError(f"scenario {scenario.id} runs {scenario.env}; driftgym serve api needs driftgym/HttpApi-v0")
            env_kwargs, schedule, horizon = scenario.env_kwargs, scenario.schedule, scenario.horizon
        self.env_kwargs = dict(env_kwargs or {})
        self.seed, self.tick = seed, tick
        self.world, self.playback, env = world_setup(self.env_kwargs, schedule, horizon, seed)
        self.horizon, self.schedule_wire = env.horizon, env.schedule.to_wire()
        self.lock = threading.Lock()
        self.served = 0  # requests the world has answered: the clock
        self.exchanges = 0  # responses logged (world and server)
        self.sent = 0  # responses written to a socket
        self.fired_through = -1  # the last step whose events have fired
        self.trace_path = Path(trace)
        self._trace = open(self.trace_path, "w", buffering=1)
        self._write({"format": TRACE_FORMAT, "driftgym": driftgym.__version__, "seed": seed, "tick": tick,
                     "horizon": self.horizon, "env_kwargs": self.env_kwargs, "schedule": self.schedule_wire,
                     "timeline_digest": self.playback.timeline.digest(), "world_digest": self.world.digest()})
        self.httpd = ThreadingHTTPServer((host, port), ExchangeHandler, bind_and_activate=True)
        self.httpd.daemon_threads = True
        self.httpd.api = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None
        self._closed = False

    # ----------------------------------------------------------------- where it listens
    @property
    def host(self) -> str:
        return self.httpd.server_address[0]

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def step(self) -> int:
        return self.served // self.tick

    # ----------------------------------------------------------------- the exchange, serialised
    def _write(self, line: dict[str, Any]) -> None:  # key order kept: a JSON body's order is what the world saw
        self._trace.write(json.dumps(line, separators=(",", ":"), allow_nan=False) + "\n")

    def _advance(self, step: int) -> None:
        """Fire the events of every step up to ``step`` (a step's events fire before its first request)."""
        while self.fired_through < step:
            self.fired_through += 1
            before = len(self.playback.records)
            self.world.now = self.fired_through
            fired = self.playback.fire(self.world, self.fired_through)
            if fired:
                events = [e.to_dict() for e in self.playback.event_log[before:]]
                self._write({"step": self.fired_through, "events": events})

    def exchange(self, request: Request) -> tuple[int, int, Response, bytes]:
        """The world answers ``request`` at the current step: (exchange number, step, response, body)."""
        with self.lock:
            step = self.served // self.tick
            self._advance(step)
            self.world.now = step
            response = self.world.handle(request)
            self.served += 1
            payload = body_bytes(response.body)
            number = self._log(step, "world", request_record(request), response.status, response.headers, payload)
        return number, step, response, payload

    def refuse(self, record: dict[str, Any], status: int, headers: dict[str, str], payload: bytes) -> tuple[int, int]:
        """Log a response the HTTP layer sent itself (the world and the clock untouched)."""
        with self.lock:
            step = self.served // self.tick
            return self._log(step, "server", record, status, headers, payload), step

    def _log(self, step: int, by: str, request: dict[str, Any], status: int, headers: dict[str, str], payload: bytes) -> int:
        number = self.exchanges
        self.exchanges += 1
        response = {"status": status, "headers": headers, "body_digest": hashlib.sha256(payload).hexdigest()}
        if len(payload) <= INLINE_BODY:
            response["body"] = json.loads(payload)
        self._write({"exchange": number, "step": step, "by": by, "request": request, "response": response})
        return number

    def count_sent(self) -> None:
        with self.lock:
            self.sent += 1

    # ----------------------------------------------------------------- running
    def start(self) -> ApiServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.1)

    def stop(self) -> None:
        """Stop serving, close the socket, write the closing line (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(5.0)
        self.httpd.server_close()
        with self.lock:
            self._write({"closing": {"exchanges": self.exchanges, "served": self.served, "step": self.step,
                                     "world_digest": self.world.digest()}})
            self._trace.close()

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class ExchangeHandler(BaseHTTPRequestHandler):
    """Parses one HTTP/1.1 request, refuses what the world must not see, and sends the answer."""

    protocol_version = "HTTP/1.1"
    server_version = "driftgym"
    timeout = REQUEST_TIMEOUT
    disable_nagle_algorithm = True  # headers and body leave at once, not 40 ms apart

    def version_string(self) -> str:
        return self.server_version

    @property
    def api(self) -> ApiServer:
        return self.server.api  # type: ignore[attr-defined]

    def handle_one_request(self) -> None:  # the standard library's, with every method sent to serve()
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline, self.request_version, self.command = "", "", ""
                self.send_error(414, "request line too long")
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():  # it has answered (through send_error)
                return
            self.serve()
            self.wfile.flush()
        except TimeoutError:
            self.close_connection = True

    def serve(self) -> None:
        try:
            request = self.parse_world_request()
        except Refused as refused:
            self.refuse(refused.status, refused.detail, refused.headers)
            return
        number, step, response, payload = self.api.exchange(request)
        self.send(response.status, response.headers, payload, number, step)

    def parse_world_request(self) -> Request:
        method = self.command
        if self.request_version == "HTTP/0.9":
            raise Refused(400, "HTTP/0.9 requests are not supported")
        target = self.path
        if not target.startswith("/") or target.startswith("//"):
            raise Refused(400, "the request target must be a path (origin form)")
        parts = urlsplit(target)
        path = unquote(parts.path, errors="strict")
        query = dict(parse_qsl(parts.query, keep_blank_values=True, errors="strict"))
        if any(c in CONTROL for c in path) or any(c in CONTROL for kv in query.items() for part in kv for c in part):
            raise Refused(400, "control characters in the path or query")
        if method not in WORLD_METHODS:
            raise Refused(405, f"method {method[:20]!r} is not supported", {"Allow": ", ".join(WORLD_METHODS)})
        body = self.read_body()
        headers = {"Authorization": self.headers["Authorization"]} if "Authorization" in self.headers else {}
        return Request(method, path, query, headers, body)

    def read_body(self) -> Any:
        if "Transfer-Encoding" in self.headers:
            raise Refused(411, "chunked bodies are not accepted: send Content-Length")
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            return None
        if not length_text.isdigit():
            raise Refused(400, "Content-Length must be a whole number")
        length = int(length_text)
        if length > MAX_BODY:
            raise Refused(413, f"body over {MAX_BODY} bytes")
        raw = self.rfile.read(length) if length else b""
        if len(raw) < length:
            raise Refused(400, "body shorter than Content-Length")
        if not raw.strip():
            return None
        try:
            return json.loads(raw, parse_constant=reject_constant)
        except (ValueError, RecursionError):
            raise Refused(400, "the body is not JSON") from None

    # ----------------------------------------------------------------- answers
    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's parse errors, as JSON 4xx (its 505 for an unknown version becomes 400)."""
        status = code if 400 <= code < 500 else 400
        self.refuse(status, message or explain or STDLIB_REASONS.get(status, "bad_request"))

    def refuse(self, status: int, detail: str, extra: dict[str, str] | None = None) -> None:
        payload = body_bytes({"error": STDLIB_REASONS.get(status, "bad_request"), "detail": detail})
        headers = {"Content-Type": "application/json", "Connection": "close", **(extra or {})}
        record = {"method": (getattr(self, "command", "") or "")[:20], "target": (getattr(self, "path", "") or "")[:200],
                  "refused": detail}
        number, step = self.api.refuse(record, status, headers, payload)
        self.close_connection = True
        self.send(status, headers, payload, number, step)

    def send(self, status: int, headers: dict[str, str], payload: bytes, number: int, step: int) -> None:
        if self.request_version == "HTTP/0.9":  # a status line and headers, always
            self.request_version = "HTTP/1.1"
        try:
            self.send_response(status)
            for name, value in headers.items():
                if "\r" in value or "\n" in value:  # never happens (inputs are checked); never let it through
                    continue
                self.send_header(name, value)
            self.send_header("Content-Length", str(0 if self.command == "HEAD" else len(payload)))
            self.send_header("X-Driftgym-Step", str(step))
            self.send_header("X-Driftgym-Exchange", str(number))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            self.wfile.flush()
        except OSError:  # the client went away: the exchange happened, the response was not delivered
            self.close_connection = True
            return
        self.api.count_sent()

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the trace is the log
        pass


# --------------------------------------------------------------------------- replay

def replay_exchanges(path: str | Path, until: int | None = None, on_exchange: Any = None):
    """Re-execute a ``driftgym serve api`` trace: the world's exchanges in their logged order.

    Checks the timeline digest, every step's events, and for every exchange the step it was served
    at, its status, headers and body digest; at a closing line, the exchange count and world digest.
    ``until``: stop after the exchanges of that step; ``on_exchange(world, request, response, step)`` is
    called after each (tests check responses against the live OpenAPI document with it). Returns a ``ReplayResult`` whose ``steps`` is
    the number of exchanges replayed.
    """
    from driftgym.scenarios.replay import Mismatch, ReplayError

    try:
        lines = [json.loads(text) for text in Path(path).read_text().splitlines() if text.strip()]
    except (OSError, ValueError) as error:
        raise ReplayError(f"{path}: cannot read an api trace ({error})") from None
    header = lines[0] if lines else {}
    if header.get("format") != TRACE_FORMAT:
        raise ReplayError(f"{path}: not a driftgym api trace of format {TRACE_FORMAT} (got {header.get('format')!r})")
    if header.get("driftgym") != driftgym.__version__:
        raise ReplayError(f"{path}: written by driftgym {header.get('driftgym')}, this is {driftgym.__version__}")
    world, playback, _ = world_setup(header["env_kwargs"], header["schedule"], header["horizon"], header["seed"])
    if playback.timeline.digest() != header["timeline_digest"]:
        return _exchanges_result(0, Mismatch(None, "timeline_digest", header["timeline_digest"], playback.timeline.digest()))
    if world.digest() != header["world_digest"]:
        return _exchanges_result(0, Mismatch(None, "world_digest", header["world_digest"], world.digest()))
    tick, served, fired_through, replayed = header["tick"], 0, -1, 0
    recorded_events = {line["step"]: line["events"] for line in lines if "events" in line}
    logged = sum(1 for line in lines if "exchange" in line)
    for line in lines[1:]:
        if "closing" in line and until is None:
            closing = line["closing"]
            if closing["exchanges"] != logged:
                return _exchanges_result(replayed, Mismatch(None, "exchanges", closing["exchanges"], logged))
            if closing["world_digest"] != world.digest():
                return _exchanges_result(replayed, Mismatch(fired_through, "world_digest", closing["world_digest"], world.digest()))
            continue
        if line.get("by") != "world":
            continue
        step = served // tick
        if until is not None and step > until:
            break
        while fired_through < step:
            fired_through += 1
            before = len(playback.records)
            world.now = fired_through
            playback.fire(world, fired_through)
            events = json.loads(canonical_json([e.to_dict() for e in playback.event_log[before:]]))
            if events != recorded_events.get(fired_through, []):
                return _exchanges_result(replayed, Mismatch(fired_through, "events", recorded_events.get(fired_through, []), events))
        if line["step"] != step:
            return _exchanges_result(replayed, Mismatch(step, f"exchange {line['exchange']} step", line["step"], step))
        r = line["request"]
        world.now = step
        request = Request(r["method"], r["path"], r["query"], r["headers"], r["body"])
        response = world.handle(request)
        if on_exchange is not None:
            on_exchange(world, request, response, step)
        served += 1
        replayed += 1
        recorded = line["response"]
        digest = hashlib.sha256(body_bytes(response.body)).hexdigest()
        for field, value in (("status", response.status), ("headers", json.loads(canonical_json(response.headers))),
                             ("body_digest", digest)):
            if recorded[field] != value:
                return _exchanges_result(replayed - 1, Mismatch(step, f"exchange {line['exchange']} {field}", recorded[field], value))
    return _exchanges_result(replayed, None, world.state_dict())


# --------------------------------------------------------------------------- the command

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="driftgym serve api",
        description="Serve the HttpApi world over HTTP (loopback by default). One virtual step per --tick requests; "
                    "every exchange goes to a trace that `driftgym replay` verifies.")
    parser.add_argument("--scenario", help="a bundled HttpApi scenario id or a scenario file (default: the env's default schedule)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: loopback only)")
    parser.add_argument("--port", type=int, default=8000, help="port (0: any free port; the address is printed)")
    parser.add_argument("--tick", type=int, default=1, help="requests per virtual step (default 1)")
    parser.add_argument("--trace", default="api-trace.jsonl", help="where the exchanges are written (default api-trace.jsonl)")
    parser.add_argument("--max-requests", type=int, default=None, help="stop after the world has served this many requests")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.seed < 0 or args.tick < 1 or not 0 <= args.port <= 65535:
        print("driftgym serve api: --seed must be >= 0, --tick >= 1, --port in 0-65535", file=sys.stderr)
        return 2
    from driftgym.scenarios.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(args.scenario) if args.scenario else None
        server = ApiServer(scenario, args.seed, args.tick, args.trace, args.host, args.port)
    except (ScenarioError, ValueError, OSError) as error:
        print(f"driftgym serve api: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()
    if args.max_requests is not None:
        def watch() -> None:
            while not stop.wait(0.05):
                if server.served >= args.max_requests:
                    stop.set()
        threading.Thread(target=watch, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    print(f"serving driftgym/HttpApi-v0 (seed {args.seed}, tick {args.tick}) on {server.url} ; trace {args.trace}", flush=True)
    try:
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    server.stop()
    print(f"stopped after {server.exchanges} exchanges ({server.served} served by the world, step {server.step})", flush=True)
    return 0
