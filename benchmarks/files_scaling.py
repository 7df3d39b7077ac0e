"""Step cost of driftgym/FileSystem-v0: against bare CartPole-v1, and as the tree grows.

1. Default size (12 files, 8 targets, the default schedule, horizon 200 with its resets) against
   bare ``gym.make("CartPole-v1")``, both with random actions, timed interleaved in one process,
   median of repeats.
2. Step time at ``n_files`` = 100, 1,000, 10,000 and 100,000: each world built once (one reset,
   a horizon longer than the run), random actions, an active schedule (the default one plus a
   file move every 5 steps and a directory move every 10), chunks timed interleaved, median of
   repeats; ratios against 100 files.
3. Peak memory (VmHWM, the peak resident set, Linux) of a process that builds the 100,000-file env and steps it, minus that
   of a process that only imports driftgym.

    python benchmarks/files_scaling.py [--steps 4000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import gymnasium as gym
import numpy as np

import driftgym  # noqa: F401  (registers the ids)
from driftgym.envs.files.env import DEFAULT_SCHEDULE

ACTIVE = DEFAULT_SCHEDULE + [
    {"every": 5, "perturb": {"kind": "move_file"}},
    {"every": 10, "perturb": {"kind": "move_directory"}},
]
SIZES = (100, 1_000, 10_000, 100_000)

MEMORY_PROBE = """
import sys, numpy as np, gymnasium as gym, driftgym
if sys.argv[1] != "0":
    env = gym.make("driftgym/FileSystem-v0", n_files=int(sys.argv[1]), schedule={schedule!r}, horizon=2000)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(1000):
        env.step(np.array([rng.integers(6), rng.integers(8)]))
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def run(env: gym.Env, actions: np.ndarray) -> float:
    """Seconds per step over ``actions``, resetting when an episode ends."""
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return (time.perf_counter() - start) / len(actions)


def default_size(steps: int, repeats: int) -> None:
    rng = np.random.default_rng(0)
    cartpole, files = gym.make("CartPole-v1"), gym.make("driftgym/FileSystem-v0")
    cartpole_actions = rng.integers(0, 2, steps)
    file_actions = np.stack([rng.integers(0, 6, steps), rng.integers(0, 8, steps)], axis=1)
    times: dict[str, list[float]] = {"bare CartPole-v1": [], "driftgym/FileSystem-v0 (default)": []}
    for repeat in range(repeats):
        cartpole.reset(seed=repeat)
        files.reset(seed=repeat)
        times["bare CartPole-v1"].append(run(cartpole, cartpole_actions))
        times["driftgym/FileSystem-v0 (default)"].append(run(files, file_actions))
    bare = statistics.median(times["bare CartPole-v1"])
    print(f"{'env':<40} {'steps/s':>10} {'us/step':>9} {'vs bare CartPole':>17}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<40} {1 / median:>10.0f} {median * 1e6:>9.1f} {median / bare:>16.2f}x")


def scaling(steps: int, repeats: int) -> None:
    envs, actions = {}, {}
    for n in SIZES:
        start = time.perf_counter()
        env = gym.make("driftgym/FileSystem-v0", n_files=n, schedule=ACTIVE, horizon=steps * repeats + 1)
        env.reset(seed=0)
        print(f"built and reset n_files={n:>7}: {time.perf_counter() - start:6.2f} s")
        rng = np.random.default_rng(n)
        envs[n] = env
        actions[n] = [np.array([a, b]) for a, b in zip(rng.integers(0, 6, steps * repeats), rng.integers(0, 8, steps * repeats))]
    times: dict[int, list[float]] = {n: [] for n in SIZES}
    for repeat in range(repeats):
        for n in SIZES:
            times[n].append(run(envs[n], actions[n][repeat * steps : (repeat + 1) * steps]))
    events = {n: len(envs[n].get_wrapper_attr("event_log")) for n in SIZES}
    base = statistics.median(times[SIZES[0]])
    print(f"\n{'n_files':>8} {'us/step':>9} {'vs 100 files':>13} {'events fired':>13}")
    for n in SIZES:
        median = statistics.median(times[n])
        print(f"{n:>8} {median * 1e6:>9.1f} {median / base:>12.2f}x {events[n]:>13}")


def peak_memory(n_files: int) -> None:
    def max_rss(n: int) -> int:
        code = MEMORY_PROBE.format(schedule=ACTIVE)
        return int(subprocess.run([sys.executable, "-c", code, str(n)], capture_output=True, text=True, check=True).stdout)

    baseline, loaded = max_rss(0), max_rss(n_files)
    print(f"\npeak memory at n_files={n_files}: {(loaded - baseline) / 1024:.0f} MiB above the import "
          f"({loaded / 1024:.0f} MiB peak resident, 1000 steps)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    default_size(args.steps, args.repeats)
    print()
    scaling(args.steps, args.repeats)
    peak_memory(SIZES[-1])


if __name__ == "__main__":
    main()
