"""`driftgym serve api`: the HttpApi world on a real loopback socket, exercised by real clients
(requests, raw sockets, schemathesis), its trace replayed exchange by exchange."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from jsonschema import Draft202012Validator

from driftgym.envs.api.http import split_path
from driftgym.scenarios.api_server import MAX_BODY, ApiServer, main, replay_exchanges
from driftgym.scenarios.cli import main as driftgym_main

AUTH = {"Authorization": "Bearer tok-0"}
DRIFT = [  # what changes the published schema, plus an error burst
    {"at": 40, "perturb": {"kind": "rename_field", "collection": "orders", "field": "amount"}},
    {"at": 120, "perturb": {"kind": "version_bump", "sunset_after": 400}},
    {"window": [200, 30], "perturb": {"kind": "error_burst", "rate": 0.5, "duration": 30}},
]


def trace_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def exchanges(path: Path) -> list[dict]:
    return [line for line in trace_lines(path) if "exchange" in line]


def test_requests_advance_virtual_time_and_the_trace_replays(tmp_path):
    trace = tmp_path / "trace.jsonl"
    with ApiServer(seed=1, tick=3, trace=trace) as server, requests.Session() as client:
        assert server.host == "127.0.0.1"
        steps = [int(client.get(f"{server.url}/v1/orders/{i}", headers=AUTH).headers["X-Driftgym-Step"]) for i in range(9)]
        first = client.get(f"{server.url}/v1/orders/0", headers=AUTH)
    assert steps == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert first.headers["X-Driftgym-Exchange"] == "9" and first.json()["id"] == 0
    lines = trace_lines(trace)
    assert lines[0]["format"] == "driftgym-api-trace/1" and lines[-1]["closing"]["exchanges"] == 10 == server.sent
    result = replay_exchanges(trace)
    assert result.ok and result.steps == 10
    tampered = tmp_path / "tampered.jsonl"
    fifth = next(i for i, line in enumerate(lines) if line.get("exchange") == 4)
    lines[fifth]["response"]["status"] = 404
    tampered.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    result = replay_exchanges(tampered)
    assert not result.ok and result.mismatch.field.endswith("status") and result.mismatch.recorded == 404


def test_perturbations_fire_as_time_advances(tmp_path):
    schedule = [{"at": 5, "perturb": {"kind": "rotate_credentials"}}]
    with ApiServer(seed=0, schedule=schedule, trace=tmp_path / "t.jsonl") as server, requests.Session() as client:
        codes = [client.get(f"{server.url}/v1/orders/1", headers=AUTH).status_code for _ in range(7)]
        token = client.post(f"{server.url}/auth/token", json={"client_id": "driftgym-client", "client_secret": "driftgym-secret"})
        again = client.get(f"{server.url}/v1/orders/1", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert codes == [200] * 5 + [401, 401] and token.json()["access_token"] == "tok-1" and again.status_code == 200
    events = [line for line in trace_lines(tmp_path / "t.jsonl") if "events" in line]
    assert [(e["step"], e["events"][0]["kind"]) for e in events] == [(5, "rotate_credentials")]


def test_sixteen_concurrent_clients_lose_nothing(tmp_path):
    trace = tmp_path / "trace.jsonl"
    received: list[int] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        with requests.Session() as session:
            for i in range(25):
                response = session.get(f"{server.url}/v1/users/{(k + i) % 50}", headers=AUTH, timeout=10)
                with lock:
                    received.append(int(response.headers["X-Driftgym-Step"]))

    with ApiServer(seed=2, schedule=[], trace=trace) as server:
        threads = [threading.Thread(target=client, args=(k,)) for k in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert sorted(received) == list(range(400))  # every request got its own step: serialised, none lost
    logged = exchanges(trace)
    assert len(logged) == 400 == server.sent == server.exchanges
    assert [line["exchange"] for line in logged] == list(range(400))
    assert replay_exchanges(trace).ok


def raw(server: ApiServer, data: bytes) -> tuple[int, dict, bytes]:
    """Send raw bytes, read one response: (status, headers, body)."""
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(data)
        chunks = b""
        while b"\r\n\r\n" not in chunks:
            part = sock.recv(65536)
            if not part:
                break
            chunks += part
        head, _, body = chunks.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        while len(body) < int(headers.get("Content-Length", 0)):
            body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize("data, status, detail", [
    (b"GARBAGE\r\n\r\n", 400, "Bad request syntax ('GARBAGE')"),
    (b"GET /v1/users HTTP/2.0\r\n\r\n", 400, "Invalid HTTP version (2.0)"),
    (b"FOO /v1/users HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method 'FOO' is not supported"),
    (b"GET http://evil.test/v1/users HTTP/1.1\r\nHost: x\r\n\r\n", 400, "the request target must be a path (origin form)"),
    (b"GET /v1/users?page=1%0d%0aSet-Cookie:%20x=1 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "control characters in the path or query"),
    (b"GET /v1/users%0aX:1 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "control characters in the path or query"),
    (b"PATCH /v1/users/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", 413, f"body over {MAX_BODY} bytes"),
    (b"PATCH /v1/users/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{nope", 400, "the body is not JSON"),
    (b"PATCH /v1/users/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nNaN", 400, "the body is not JSON"),
    (b"PATCH /v1/users/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n" + b"[" * 60000, 400, "the body is not JSON"),
    (b"PATCH /v1/users/1 HTTP/1.1\r\nHost: x\r\nContent-Length: -3\r\n\r\n", 400, "Content-Length must be a whole number"),
    (b"PATCH /v1/users/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411,
     "chunked bodies are not accepted: send Content-Length"),
    (b"GET /v1/users HTTP/1.1\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n", 431, "Line too long"),
])
def test_bad_input_gets_a_4xx_and_the_server_lives_on(tmp_path, data, status, detail):
    with ApiServer(seed=0, schedule=[], trace=tmp_path / "t.jsonl") as server:
        code, headers, body = raw(server, data)
        assert (code, json.loads(body)["detail"]) == (status, detail)
        assert headers["Content-Type"] == "application/json" and headers["X-Driftgym-Step"] == "0"
        if status == 405:
            assert headers["Allow"] == "DELETE, GET, PATCH, POST, PUT"
        assert "Set-Cookie" not in headers
        assert requests.get(f"{server.url}/v1/users/3", headers=AUTH, timeout=10).status_code == 200  # still serving
    logged = exchanges(tmp_path / "t.jsonl")
    assert [(line["by"], line["response"]["status"]) for line in logged] == [("server", status), ("world", 200)]
    assert logged[1]["step"] == 0  # refused requests do not advance time
    assert replay_exchanges(tmp_path / "t.jsonl").ok


def test_a_redirect_never_echoes_injected_headers(tmp_path):
    schedule = [{"at": 0, "perturb": {"kind": "move_endpoint", "collection": "users"}}]
    with ApiServer(seed=0, schedule=schedule, trace=tmp_path / "t.jsonl") as server:
        code, headers, _ = raw(server, b"GET /v1/users?page=1&x=%0D%0ALocation:%20http://evil HTTP/1.1\r\nHost: x\r\n\r\n")
        moved = requests.get(f"{server.url}/v1/users?page=1", allow_redirects=False, timeout=10)
    assert code == 400 and "evil" not in json.dumps(headers)
    assert moved.status_code == 301 and moved.headers["Location"] == "/v1/users-1?page=1"


def live_schema_check(checked: list[tuple[int, str]]):
    """on_exchange: a 200 record response must match the record schema the world publishes right then."""

    def check(world, request, response, step) -> None:
        if response.status != 200 or request.path in ("/openapi.json", "/auth/token"):
            return
        base, record = split_path(request.path)
        doc = world.openapi()
        if record is None:
            return
        operation = doc["paths"][base + "/{id}"]["get"]
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        schema = doc["components"]["schemas"][ref.rpartition("/")[2]]
        errors = list(Draft202012Validator(schema).iter_errors(response.body))
        assert not errors, f"step {step} {request.method} {request.path}: {errors[0].message}"
        assert set(response.body) == set(schema["properties"]), f"step {step}: fields {sorted(response.body)}"
        checked.append((step, ref))

    return check


def test_schemathesis_finds_no_server_error_and_every_response_matches_the_schema(tmp_path):
    trace = tmp_path / "trace.jsonl"
    with ApiServer(seed=3, schedule=DRIFT, trace=trace) as server:
        schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        burst: set[int] = set(range(200, 230))

        def not_an_unscheduled_server_error(response) -> None:
            step = int(response.headers["x-driftgym-step"][0])
            assert response.status_code < 500 or step in burst, f"{response.status_code} at step {step}, no burst scheduled"

        for operation in operations:
            @settings(max_examples=20, deadline=None, phases=[Phase.generate], database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy())
            def run(case) -> None:
                response = case.call(headers=AUTH, timeout=10)
                not_an_unscheduled_server_error(response)
                case.validate_response(response, checks=[schemathesis.checks.response_schema_conformance])

            run()
    assert {f"{o.method.upper()} {o.path}" for o in operations} >= {"GET /v1/orders/{id}", "PATCH /v1/users/{id}", "POST /auth/token"}
    logged = exchanges(trace)
    assert len(logged) == server.sent and logged[-1]["step"] >= 230
    assert any(line["response"]["status"] == 500 for line in logged)  # the burst was seen, and only there
    assert all(line["step"] in burst for line in logged if line["response"]["status"] >= 500)
    checked: list[tuple[int, str]] = []
    assert replay_exchanges(trace, on_exchange=live_schema_check(checked)).ok
    assert any(step >= 40 and ref.endswith("V1_orders") for step, ref in checked)  # after the rename
    assert any(step >= 120 for step, _ in checked)  # after the version bump


def test_after_drift_the_served_schema_describes_the_responses(tmp_path):
    with ApiServer(seed=3, schedule=DRIFT, trace=tmp_path / "t.jsonl") as server, requests.Session() as client:
        for _ in range(121):
            client.get(f"{server.url}/v1/orders/2", headers=AUTH)
        doc = client.get(f"{server.url}/openapi.json").json()
        v2 = {c: entry["path"] for c, entry in doc["x-collections"].items()}
        for route in sorted(v2.values()):
            client.get(f"{server.url}{route}/4", headers=AUTH)
    assert doc["info"]["version"] == "2" and all(route.startswith("/v2/") for route in v2.values())
    assert "total" in doc["components"]["schemas"]["V1_orders"]["properties"]  # the rename, published
    checked: list[tuple[int, str]] = []
    assert replay_exchanges(tmp_path / "t.jsonl", on_exchange=live_schema_check(checked)).ok
    assert sorted({ref.rpartition("/")[2] for step, ref in checked if step > 121}) == sorted(f"V2_{c}" for c in v2)


def test_the_command_serves_until_told_and_driftgym_replay_verifies(tmp_path, capsys):
    trace = tmp_path / "cli.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "driftgym", "serve", "api", "--port", "0", "--seed", "4",
                                "--scenario", "api-schema-drift", "--max-requests", "6", "--trace", str(trace)],
                               stdout=subprocess.PIPE, text=True)
    try:
        banner = process.stdout.readline()
        url = banner.split(" on ")[1].split(" ;")[0]
        assert url.startswith("http://127.0.0.1:")
        with requests.Session() as client:
            codes = [client.get(f"{url}/v1/users/{i}", headers=AUTH, timeout=10).status_code for i in range(6)]
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert "stopped after 6 exchanges" in process.stdout.read()
    assert codes == [200] * 6
    assert driftgym_main(["replay", str(trace)]) == 0
    assert capsys.readouterr().out == f"{trace}: 6 exchanges replayed, every digest matches\n"
    assert main(["--tick", "0"]) == 2
