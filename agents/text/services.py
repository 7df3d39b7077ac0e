"""Scripted text agents for ``driftgym/Services-text-v0``."""

from __future__ import annotations

import re
from typing import Any


from driftgym.agents.text.base import TextAgent

SERVICES_TEXT = ("driftgym/Services-text-v0",)

PROBE = re.compile(r"^(\S+): (up|degraded|down|restarting), version (good|bad), region (\S+), x(\d+) replicas, "
                   r"util ([\d.]+), latency [\d.]+ ms, errors [\d.]+, memory ([\d.]+), cut calls (\d+), calls -> (.*), probed",
                   re.M)


class ServicesTextAgent(TextAgent):
    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.names: list[str] = []
        self.probes: dict[str, dict[str, Any]] = {}
        self.t = 0

    def read(self, text: str) -> None:
        if not self.names:
            block = text.split("Services and their calls at the start:\n", 1)[1].split("\nCommands", 1)[0]
            self.names = [line.split()[0] for line in block.split("\n")]
        for name, health, version, region, replicas, util, memory, cut, calls in PROBE.findall(text):
            edges = {}
            for call in filter(None, calls.split(", ")):
                if call != "none":
                    edges[call.split()[0]] = not call.endswith("(cut)")
            self.probes[name] = {"health": health, "version": version, "region": region, "replicas": int(replicas),
                                 "util": float(util), "memory": float(memory), "cut": int(cut), "calls": edges, "at": self.t}

    def memory(self) -> dict[str, tuple[Any, float]]:
        facts: dict[str, tuple[Any, float]] = {}
        for name, p in self.probes.items():
            for attribute in ("health", "version", "replicas", "region"):
                facts[f"svc:{name}:{attribute}"] = (p[attribute], 1.0)
            for callee, up in p["calls"].items():
                facts[f"edge:{name}->{callee}:up"] = (up, 1.0)
        return facts


class ServicesStale(ServicesTextAgent):
    def act(self, observation: str, info: dict[str, Any]) -> str:
        self.read(observation)
        self.t += 1
        if self.t <= len(self.names):
            return f"probe {self.names[self.t - 1]}"
        return "wait"


class ServicesAdaptive(ServicesTextAgent):
    max_probe_age = 40

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.fresh: str | None = None

    def act(self, observation: str, info: dict[str, Any]) -> str:
        self.read(observation)
        self.t += 1
        if self.fresh is not None and self.fresh in self.probes:
            p, name = self.probes[self.fresh], self.fresh
            self.fresh = None
            repair = ("restart" if p["health"] == "down" else "rollback" if p["version"] == "bad"
                      else "failover" if p["health"] == "degraded" or p["cut"] else
                      "restart" if p["memory"] > 0.75 else "scale" if p["util"] > 0.9 else None)
            if repair is not None:
                return f"{repair} {name}" + (" +1" if repair == "scale" else "")
        order = [n for n in self.names if n not in self.probes] + sorted(
            (n for n in self.names if n in self.probes), key=lambda n: self.probes[n]["at"])
        alert = "ALERT" in observation.rsplit("\n", 2)[-2] if "\n" in observation else False
        oldest = order[0]
        if alert or oldest not in self.probes or self.t - self.probes[oldest]["at"] > self.max_probe_age:
            self.fresh = oldest
            return f"probe {oldest}"
        return "wait"


# --------------------------------------------------------------------------- oracles
