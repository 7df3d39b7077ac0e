"""Load on `driftgym serve api` over loopback: requests/s and latency with 1, 4 and 16 concurrent clients.

The server runs in its own process (``python -m driftgym serve api --port 0``), beside a bare
standard-library ``ThreadingHTTPServer`` answering a constant JSON body (the floor: what the HTTP
layer alone costs). Each client holds one keep-alive connection (``http.client``) and sends
``GET /v1/users/<i>`` with a valid token. Every level is bounded: ``--requests`` in total and
``--seconds`` of wall time, whichever ends first. Levels run interleaved, bare then driftgym, and the
table shows the median of ``--repeats``.

    python benchmarks/api_load.py [--requests 2000] [--seconds 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LEVELS = (1, 4, 16)


class Bare(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        body = b'{"id":0}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def serve_bare() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Bare)
    server.daemon_threads = True
    print(f"serving on http://127.0.0.1:{server.server_address[1]} ;", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()  # until the benchmark closes our stdin


def start(command: list[str]) -> tuple[subprocess.Popen, str, int]:
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    host, port = line.split(" on http://")[1].split(" ;")[0].split(":")
    return process, host, int(port)


def load(host: str, port: int, clients: int, total: int, seconds: float) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of ``clients`` keep-alive clients sharing ``total`` requests."""
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    per_client = total // clients

    def client(k: int) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=10)
        mine = []
        for i in range(per_client):
            if time.perf_counter() > deadline:
                break
            begin = time.perf_counter()
            connection.request("GET", f"/v1/users/{(k + i) % 50}", headers={"Authorization": "Bearer tok-0"})
            connection.getresponse().read()
            mine.append(time.perf_counter() - begin)
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - begin
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return len(latencies) / wall, 1e3 * statistics.median(latencies), 1e3 * p99


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--bare-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        serve_bare()
        return
    with tempfile.TemporaryDirectory() as folder:
        servers = {
            "bare": start([sys.executable, __file__, "--bare-server"]),
            "driftgym": start([sys.executable, "-m", "driftgym", "serve", "api", "--port", "0", "--seed", "0", "--trace", f"{folder}/trace.jsonl"]),
        }
        results: dict[tuple[str, int], list[tuple[float, float, float]]] = {}
        try:
            for _ in range(args.repeats):
                for clients in LEVELS:
                    for name, (_, host, port) in servers.items():
                        results.setdefault((name, clients), []).append(load(host, port, clients, args.requests, args.seconds))
        finally:
            for process, _, _ in servers.values():
                process.stdin.close()
                process.terminate()
                process.wait(10)
        exchanges = sum(1 for line in open(f"{folder}/trace.jsonl") if '"exchange"' in line)
    print(f"loopback load, median of {args.repeats} (each level: {args.requests} requests or {args.seconds:.0f} s)")
    print(f"{'clients':>7} {'bare req/s':>11} {'driftgym req/s':>15} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} {'bare p99':>9}")
    for clients in LEVELS:
        bare = [statistics.median(x) for x in zip(*results[("bare", clients)])]
        ours = [statistics.median(x) for x in zip(*results[("driftgym", clients)])]
        print(f"{clients:>7} {bare[0]:>11.0f} {ours[0]:>15.0f} {bare[0] / ours[0]:>6.2f} {ours[1]:>7.2f} {ours[2]:>7.2f} {bare[2]:>9.2f}")
    print(json.dumps({"trace_exchanges": exchanges}))


if __name__ == "__main__":
    main()
