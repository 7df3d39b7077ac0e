"""Throughput of driftgym/HttpApi-v0: step time against bare CartPole-v1, handle() requests/s, and
step time as the world grows (10, 100, 1,000 collections of 1,000 records).

Everything is timed interleaved in one process, median of repeats. Actions are random over the six
ops (so requests, schema fetches, authentications and waits all occur), the default schedule runs.

    python benchmarks/api_throughput.py [--steps 5000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym
import numpy as np

import driftgym  # noqa: F401  (registers the ids)
from driftgym.envs.api import DEFAULT_SCHEDULE, ApiWorld, Request

WITHOUT_BUMP = [entry for entry in DEFAULT_SCHEDULE if entry["perturb"]["kind"] != "version_bump"]


def step_seconds(env: gym.Env, actions: np.ndarray, seed: int) -> tuple[float, float]:
    """Mean seconds per step (resets excluded) and per reset."""
    start = time.perf_counter()
    env.reset(seed=seed)
    resets, reset_time, clock = 1, time.perf_counter() - start, time.perf_counter
    stepping = 0.0
    for action in actions:
        start = clock()
        _, _, terminated, truncated, _ = env.step(int(action))
        stepping += clock() - start
        if terminated or truncated:
            start = clock()
            env.reset()
            reset_time, resets = reset_time + clock() - start, resets + 1
    return stepping / len(actions), reset_time / resets


def request_seconds(world: ApiWorld, requests: list[Request]) -> float:
    start = time.perf_counter()
    for request in requests:
        world.handle(request)
    return (time.perf_counter() - start) / len(requests)


def sample_requests(world: ApiWorld, count: int) -> list[Request]:
    rng = np.random.default_rng(0)
    auth = {"Authorization": f"Bearer {world.valid_token}"}
    out = []
    for _ in range(count):
        c = world.collections[int(rng.integers(len(world.collections)))]
        r = int(rng.integers(world.n_records))
        roll = rng.random()
        if roll < 0.5:
            out.append(Request("GET", f"/v1/{c}/{r}", {}, auth))
        elif roll < 0.75:
            out.append(Request("PATCH", f"/v1/{c}/{r}", {}, auth, {"amount": r}))
        elif roll < 0.95:
            out.append(Request("GET", f"/v1/{c}", {"page": str(r % 5)}, auth))
        else:
            out.append(Request("GET", "/openapi.json"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    actions = np.random.default_rng(0).integers(0, 6, args.steps)
    cart_actions = actions % 2
    envs = {
        "bare CartPole-v1": (gym.make("CartPole-v1"), cart_actions),
        "HttpApi-v0 default (4 x 50)": (gym.make("driftgym/HttpApi-v0"), actions),
    }
    for n in (10, 100, 1000):
        envs[f"HttpApi-v0 {n} x 1000"] = (gym.make("driftgym/HttpApi-v0", n_collections=n, n_records=1000), actions)
    for n in (10, 100, 1000):  # without the one world-wide event (a version bump rewrites every route)
        envs[f"  same, no version_bump {n}"] = (gym.make("driftgym/HttpApi-v0", n_collections=n, n_records=1000,
                                                         schedule=WITHOUT_BUMP), actions)
    world = ApiWorld(np.random.default_rng(0), 4, 50)
    world.set_rate_limit(10**9, 1)
    world.tokens = 1e9
    requests = sample_requests(world, args.steps)
    times: dict[str, list[float]] = {name: [] for name in envs}
    reset_times: dict[str, list[float]] = {name: [] for name in envs}
    handle_times: list[float] = []
    for repeat in range(args.repeats):
        for name, (env, acts) in envs.items():
            step, reset = step_seconds(env, acts, seed=repeat)
            times[name].append(step)
            reset_times[name].append(reset)
        handle_times.append(request_seconds(world, requests))
    bare = statistics.median(times["bare CartPole-v1"])
    smallest = statistics.median(times["HttpApi-v0 10 x 1000"])
    smallest_steady = statistics.median(times["  same, no version_bump 10"])
    print("step time excludes resets (reset time shown apart); random ops, default schedule, horizon 400")
    print(f"{'env':<30} {'steps/s':>9} {'us/step':>8} {'vs CartPole':>12} {'vs 10 (same)':>13} {'ms/reset':>9}")
    for name, values in times.items():
        median = statistics.median(values)
        reset = statistics.median(reset_times[name]) * 1e3
        scale = median / (smallest_steady if "no version_bump" in name else smallest)
        print(f"{name:<30} {1 / median:>9.0f} {median * 1e6:>8.1f} {median / bare:>11.2f}x {scale:>12.2f}x {reset:>9.2f}")
    handle = statistics.median(handle_times)
    print(f"\nApiWorld.handle() (4 x 50, mixed GET/PATCH/list/openapi): {1 / handle:,.0f} requests/s ({handle * 1e6:.1f} us)")


if __name__ == "__main__":
    main()
