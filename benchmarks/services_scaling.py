"""Step cost of driftgym/Services-v0: against bare CartPole-v1, and as the graph grows.

Every env is made with ``gym.make`` (the same wrapper stack) and timed interleaved in one
process, median of repeats, resets included (the default schedule, horizon 300). Two agents:
``noop`` (an on-call engineer who does nothing) and ``random`` (uniform (operation, service)
actions, so restarts, failovers and scaling change the graph's health most steps).

Targets (issue 5): at the default size at most 5x the CartPole step time with the random
agent (the headline line, printed first); the step time grows no faster than linearly in V+E;
1,000 services at least 1,000 steps/s with the random agent.

    python benchmarks/services_scaling.py [--steps 6000] [--repeats 5]
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np

import driftgym  # noqa: F401  (registers the ids)
from timing import median_rates

SIZES = (8, 10, 100, 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    runs: dict[str, tuple[gym.Env, list]] = {"bare CartPole-v1": (gym.make("CartPole-v1"), rng.integers(0, 2, args.steps).tolist())}
    sizes: dict[str, int] = {}
    for n in SIZES:
        env = gym.make("driftgym/Services-v0", n_services=n)
        env.reset(seed=0)
        world = env.unwrapped.world
        size = len(world.names) + len(world.src)
        noop = [np.array([0, 0])] * args.steps
        random = [np.array([rng.integers(7), rng.integers(n)]) for _ in range(args.steps)]
        for agent, actions in (("noop", noop), ("random", random)):
            name = f"Services-v0 n={n} {agent}"
            runs[name] = (gym.make("driftgym/Services-v0", n_services=n), actions)
            sizes[name] = size
    rates = median_rates(runs, args.repeats)
    bare = rates["bare CartPole-v1"]
    headline = rates[f"Services-v0 n={SIZES[0]} random"]
    large = rates[f"Services-v0 n={SIZES[-1]} random"]
    print(
        f"headline: Services-v0 n={SIZES[0]} random agent = {bare / headline:.2f}x the CartPole-v1 step time "
        f"(target <= 5x); n={SIZES[-1]} random {large:.0f} steps/s (target >= 1000)\n"
    )
    print(f"{'env':<32} {'V+E':>6} {'steps/s':>9} {'us/step':>9} {'vs CartPole':>12} {'ns per (V+E)':>13}")
    for name, median in rates.items():
        size = sizes.get(name)
        per = f"{1e9 / median / size:13.1f}" if size else f"{'':>13}"
        print(f"{name:<32} {size or '':>6} {median:>9.0f} {1e6 / median:>9.1f} {bare / median:>11.2f}x {per}")


if __name__ == "__main__":
    main()
