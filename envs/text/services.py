"""The Services grammar: an on-call engineer's console.

``status`` (the SLO line and the last probe of every service), ``probe SVC``, ``restart SVC``,
``scale SVC +1`` / ``scale SVC -1``, ``rollback SVC``, ``failover SVC``, ``wait``, ``help``. Every
command is one structured action (``status`` and ``help`` are ``noop``), so a command sequence
and its actions give the same world digests and rewards.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from driftgym.envs.services.env import ACTION_COSTS, OPERATIONS
from driftgym.envs.services.world import HEALTH
from driftgym.envs.text.wrapper import Grammar, Outcome

__all__ = ["ServicesGrammar", "command_for"]

NOOP, PROBE, RESTART, SCALE_UP, SCALE_DOWN, ROLLBACK, FAILOVER = range(7)
VERBS = {"probe": PROBE, "restart": RESTART, "rollback": ROLLBACK, "failover": FAILOVER}
USAGES = {"status": "status", "probe": "probe SVC", "restart": "restart SVC", "scale": "scale SVC +1|-1",
          "rollback": "rollback SVC", "failover": "failover SVC", "wait": "wait", "help": "help"}


def action(op: int, service: int = 0) -> np.ndarray:
    return np.array([op, service], np.int64)


class ServicesGrammar(Grammar):
    usage = "\n".join(
        f"  {USAGES[v]:<18} {what:<58} cost {cost:g}" for v, what, cost in (
            ("status", "the SLO line and your last probe of every service", 0.0),
            ("probe", "a service's health, version, region, metrics and calls now", ACTION_COSTS[PROBE]),
            ("restart", "down for 3 steps, then up: fixes a crash and a memory leak", ACTION_COSTS[RESTART]),
            ("scale", "one replica more or fewer (1-10); replicas are billed", ACTION_COSTS[SCALE_UP]),
            ("rollback", "back to the good version (fixes a bad deploy)", ACTION_COSTS[ROLLBACK]),
            ("failover", "restart in the next region up; drops a degrade, heals cut calls", ACTION_COSTS[FAILOVER]),
            ("wait", "nothing", 0.0),
            ("help", "this text", 0.0),
        )
    )

    def idle_action(self) -> np.ndarray:
        return action(NOOP)

    def briefing(self) -> str:
        env = self.base
        world = env.world
        calls = {name: [world.names[c] for c, _ in world.calls_of(i)] for i, name in enumerate(world.names)}
        lines = [
            f"You are on call for {len(world.names)} microservices; requests enter at gateway and flow along the calls.",
            "Services crash, degrade, leak memory, get bad deploys, partitions, load spikes, region outages and",
            "re-wiring; nothing tells you where unless you probe. Keep the SLO: end-to-end success >= "
            f"{world.slo_success} and latency <= {world.slo_latency} ms.",
            f"Each step earns 1 if the SLO holds, minus {env.replica_cost} x replicas / starting replicas, minus the "
            f"command's cost; {env.horizon} steps. Services and their calls at the start:",
            *(f"  {name}" + (f" -> {', '.join(calls[name])}" if calls[name] else "") for name in world.names),
            "Commands (one per step):",
            self.usage,
            slo_line(env),
        ]
        return "\n".join(lines)

    def run(self, command: str, outcome: Outcome) -> None:
        words = command.split()
        if not words:
            return self.error(outcome, "empty command")
        verb, args = words[0].lower(), words[1:]
        if verb not in USAGES:
            return self.error(outcome, f"unknown command {words[0]!r}")
        arity = 2 if verb == "scale" else 1 if verb in VERBS else 0
        if len(args) != arity or (verb == "scale" and args[1] not in ("+1", "-1", "1")):
            return self.error(outcome, f"{verb} takes: {USAGES[verb]}", USAGES[verb])
        env = self.base
        if arity and args[0] not in env.world.index:
            return self.error(outcome, f"no service {args[0]!r}; services: {', '.join(env.world.names)}", USAGES[verb])
        if verb in ("status", "help", "wait"):
            self.step(action(NOOP), outcome)
            outcome.say(*(status_lines(env) if verb == "status" else [self.usage] if verb == "help" else ["waited"]))
        else:
            i = env.world.index[args[0]]
            op = VERBS.get(verb, SCALE_DOWN if verb == "scale" and args[1] == "-1" else SCALE_UP)
            info = self.step(action(op, i), outcome)
            outcome.say(probe_line(env, i) if op == PROBE else f"{OPERATIONS[op]} {args[0]}: {info['outcome']}")
        outcome.say(slo_line(env))


def slo_line(env: Any) -> str:
    world = env.world
    return (f"success {world.success:.4f} (slo >= {world.slo_success})  latency {world.latency:.1f} ms "
            f"(slo <= {world.slo_latency})  load {world.gateway_load:.0f}  {'ok' if world.slo_met else 'ALERT: SLO broken'}")


def probe_line(env: Any, i: int) -> str:
    """One service as the agent last probed it (its view, never the truth now)."""
    world = env.world
    name = world.names[i]
    if env.view_step[i] < 0:
        return f"{name}: never probed"
    util, latency, errors, memory, replicas, cut = env.view_probe[i].tolist()
    calls = ", ".join(world.names[c] + ("" if up else " (cut)") for c, up in env.view_calls[i]) or "none"
    return (f"{name}: {HEALTH[env.view_health[i] - 1]}, version {('good', 'bad')[env.view_version[i] - 1]}, "
            f"region {world.regions[env.view_region[i] - 1]}, x{int(replicas)} replicas, util {util:.2f}, "
            f"latency {latency:.1f} ms, errors {errors:.4f}, memory {memory:.2f}, cut calls {int(cut)}, "
            f"calls -> {calls}, probed at step {int(env.view_step[i])}")


def status_lines(env: Any) -> list[str]:
    return [probe_line(env, i) for i in range(len(env.world.names))]


def command_for(env: Any, structured: Any) -> str:
    op, i = int(structured[0]), int(structured[1])
    name = env.world.names[i]
    if op == NOOP:
        return "wait"
    if op in (SCALE_UP, SCALE_DOWN):
        return f"scale {name} {'+1' if op == SCALE_UP else '-1'}"
    return f"{OPERATIONS[op]} {name}"
