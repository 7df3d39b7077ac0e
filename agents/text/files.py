"""Scripted text agents for ``driftgym/FileSystem-text-v0``."""

from __future__ import annotations

import re
from typing import Any


from driftgym.agents.text.base import TextAgent

FILES_TEXT = ("driftgym/FileSystem-text-v0",)

TARGET = re.compile(r"^  target (\d+): (\S+) = (.*) in (\S+) \(inode (\d+)\)$", re.M)
OK, DRIFTED, MISSING, READ_ONLY, CORRUPT, UNKNOWN = "ok", "drifted", "missing", "read_only", "corrupt", "unknown"


class FilesTextAgent(TextAgent):
    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.targets: list[dict[str, Any]] = []
        self.t = 0
        self.last = ""

    def read_briefing(self, text: str) -> None:
        for i, key, desired, path, inode in TARGET.findall(text):
            self.targets.append({"key": key, "desired": desired, "path": path, "inode": int(inode),
                                 "status": OK, "value": desired, "seen": 0, "searched": False})

    def memory(self) -> dict[str, tuple[Any, float]]:
        facts = {}
        for i, target in enumerate(self.targets):
            if self.fresh(i):
                facts[f"target:{i}:path"] = (None if target["status"] == MISSING else target["path"], 1.0)
                if target["status"] in (OK, DRIFTED, READ_ONLY):
                    facts[f"target:{i}:value"] = (target["value"], 1.0)
                if target["status"] != UNKNOWN:
                    facts[f"target:{i}:ok"] = (target["status"] == OK, 1.0)
        return facts

    def fresh(self, i: int) -> bool:
        return True


class FilesStale(FilesTextAgent):
    def act(self, observation: str, info: dict[str, Any]) -> str:
        if not self.targets:
            self.read_briefing(observation)
        i = self.t % len(self.targets)
        self.t += 1
        target = self.targets[i]
        return f"set {target['path']} {target['key']} {target['desired']}"


class FilesAdaptive(FilesTextAgent):
    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.pending: tuple[str, list[int]] | None = None

    def fresh(self, i: int) -> bool:
        return self.t - self.targets[i]["seen"] <= len(self.targets)

    def act(self, observation: str, info: dict[str, Any]) -> str:
        if not self.targets:
            self.read_briefing(observation)
        elif self.pending is not None:
            self.learn(observation)
        self.t += 1
        order = sorted(range(len(self.targets)), key=lambda i: (self.targets[i]["seen"], i))
        for i in order:
            command = self.repair(i)
            if command is not None:
                return command
        oldest = order[0]
        if self.t - self.targets[oldest]["seen"] >= 2 * len(self.targets):
            return self.send("cat", [oldest], f"cat {self.targets[oldest]['path']}")
        return self.send("wait", [], "wait")

    def send(self, verb: str, which: list[int], command: str) -> str:
        self.pending = (verb, which)
        return command

    def at(self, path: str) -> list[int]:
        return [i for i, t in enumerate(self.targets) if t["path"] == path]

    def repair(self, i: int) -> str | None:
        target = self.targets[i]
        status, path = target["status"], target["path"]
        if status == DRIFTED:
            return self.send("set", [i], f"set {path} {target['key']} {target['desired']}")
        if status == READ_ONLY:
            return self.send("chmod", self.at(path), f"chmod +w {path}")
        if status == CORRUPT:
            return self.send("restore", self.at(path), f"restore {path}")
        if status == UNKNOWN:
            return self.send("cat", self.at(path), f"cat {path}")
        if status == MISSING:
            if target["searched"]:
                target["searched"] = False
                return self.send("restore", self.at(path), f"restore {path}")
            target["searched"] = True
            stem, dot, ext = path.rpartition("/")[2].partition(".")
            return self.send("find", [i], f"find {stem}*{dot}{ext}")
        return None

    def mark(self, which: list[int], status: str) -> None:
        for i in which:
            self.targets[i]["status"], self.targets[i]["seen"] = status, self.t

    def learn(self, text: str) -> None:
        verb, which = self.pending
        self.pending = None
        if verb == "cat":
            if "No such file" in text or "Is a directory" in text:
                return self.mark(which, MISSING)
            if "Bad message" in text:
                return self.mark(which, CORRUPT)
            values = dict(re.findall(r"^(\S+) = (.*)$", text, re.M))
            read_only = "read-only" in text.partition("\n")[0]
            for i in which:
                target = self.targets[i]
                target["value"] = values.get(target["key"])
                right = target["value"] == target["desired"]
                self.mark([i], OK if right else READ_ONLY if read_only else DRIFTED)
                if right:
                    target["searched"] = False
        elif verb == "set":
            status = OK if "(written)" in text else READ_ONLY if "Permission denied" in text else \
                CORRUPT if "Bad message" in text else MISSING
            if status == OK:
                self.targets[which[0]]["value"] = self.targets[which[0]]["desired"]
            self.mark(which, status)
        elif verb == "chmod":
            if "now writable" in text:
                self.mark([i for i in which if self.targets[i]["status"] == READ_ONLY], DRIFTED)
            else:
                self.mark(which, MISSING)
        elif verb == "restore":
            self.mark(which, OK if "restored from backup" in text else UNKNOWN)
            for i in which:
                self.targets[i]["value"] = self.targets[i]["desired"]
        elif verb == "find":
            inode = self.targets[which[0]]["inode"]
            for found, path in re.findall(r"^(\d+) (/\S*)$", text, re.M):
                if int(found) == inode:
                    for i, target in enumerate(self.targets):
                        if target["inode"] == inode:
                            target["path"] = path
                            self.mark([i], UNKNOWN)


# --------------------------------------------------------------------------- api
