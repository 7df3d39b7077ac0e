"""Agents for the text ids: scripted ones (rules over the text, no model), oracles, and `ChatAgent`.

Every text agent answers belief probes through words: ``belief(keys)`` turns each key into a
question (``driftgym.envs.text.questions``), gets a reply string from ``reply(question)`` and parses
it tolerantly (an unreadable reply is an abstention), so the structured metrics apply unchanged.
Scripted agents read the question's ``key`` (they have no language model); a model reads its text.

- ``stale``: files: writes every target's desired value at the path it was given, round robin;
  api: sends each job's request as written against v1 (it only learns the page size, as the
  structured client does); services: probes every service once, then waits. Each sends the
  command equivalent to the structured ``stale`` agent's action, so their traces are digest-equal.
  Beliefs: the briefing, with confidence 1 (overconfident once the world drifts).
- ``adaptive``: reacts to what the text says (files: re-reads, finds moved files by inode,
  chmods, restores; api: follows Location/successor, re-authenticates on 401, waits out
  Retry-After, re-reads /openapi.json on 404/422 or a job that did not complete; services: probes
  on alerts, repairs what a probe shows). Beliefs: what it last read, confidence 1 (files: only
  targets read in the last ``n_targets`` steps).
- ``oracle``: the structured oracle's action, said as a command (labelled upper bound); answers
  probes with the truth.

`ChatAgent(env, complete)` plugs any ``complete(messages) -> str`` (an OpenAI-compatible client,
a local model): it keeps the conversation (system prompt, observations as user messages, its
replies), takes a reply's command (the first fenced block, else the reply stripped), and asks each
probe question as a user message. Nothing here downloads a model or calls the network. E.g.::

    from openai import OpenAI
    client = OpenAI(base_url="http://localhost:8001/v1", api_key="-")
    def complete(messages):
        return client.chat.completions.create(model="my-model", messages=messages).choices[0].message.content
    agent = ChatAgent(env, complete)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import gymnasium as gym

from driftgym.agents.base import Agent, make, register_agent
from driftgym.envs.text.questions import Question, answer_json, parse_answer, question_for

__all__ = ["ChatAgent", "TextAgent", "command_of_reply"]

FILES_TEXT = ("driftgym/FileSystem-text-v0",)
API_TEXT = ("driftgym/HttpApi-text-v0",)
SERVICES_TEXT = ("driftgym/Services-text-v0",)
SYSTEM_PROMPT = ("You operate a system through a text terminal. Each user message is the terminal's output; "
                 "reply with exactly one command (no commentary). When asked a question, reply with JSON only.")


class TextAgent(Agent):
    """Base of the text agents: beliefs through questions and parsed replies."""

    def belief(self, keys: Iterable[str]) -> dict[str, tuple[Any, float | None]]:
        beliefs = {}
        for key in keys:
            question = question_for(key, self.env)
            answer, confidence = parse_answer(self.reply(question), question)
            if answer is not None:
                beliefs[key] = (answer, confidence)
        return beliefs

    def reply(self, question: Question) -> str:
        known = self.memory().get(question.key)
        return answer_json(None, None) if known is None else answer_json(known[0], known[1])

    def memory(self) -> dict[str, tuple[Any, float]]:
        """Fact key -> (believed value, confidence), from what the agent read."""
        return {}


# --------------------------------------------------------------------------- files
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
JOB = re.compile(r"^job #(\d+): (read|update|list) (\w+)/(\d+) field (\w+)(?: to (\S+))?", re.M)
ROUTE = re.compile(r"^  (/\S+)/\{id\}  (\w+): (.*)$", re.M)
FIELD = re.compile(r"(\w+) \((integer|decimal|string)")


def parse_response(text: str) -> tuple[int | None, dict[str, str], Any]:
    match = re.search(r"^HTTP/1\.1 (\d{3})", text, re.M)
    if match is None:
        return None, {}, None
    block = text[match.start():]
    head, _, rest = block.partition("\n\n")
    headers = dict(line.split(": ", 1) for line in head.split("\n")[1:] if ": " in line)
    body_line = rest.split("\n", 1)[0]
    try:
        body = json.loads(body_line) if body_line else None
    except ValueError:
        body = None
    return int(match.group(1)), headers, body


class ApiTextAgent(TextAgent):
    learns = False

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.routes: dict[str, str] = {}
        self.names: dict[str, dict[str, str]] = {}
        self.types: dict[str, dict[str, str]] = {}
        self.token, self.page_size, self.token_ok = "", 10, True
        self.policy: list[int] | None = None
        self.t, self.retry_until, self.last_job = 0, 0, None

    def read_briefing(self, text: str) -> None:
        self.token = re.search(r"You hold the token (\S+) ", text).group(1)
        self.page_size = int(re.search(r"page size (\d+)", text).group(1))
        for route, collection, fields in ROUTE.findall(text):
            self.routes[collection] = route
            self.names[collection] = {f: f for f, _ in FIELD.findall(fields)}
            self.types[collection] = dict(FIELD.findall(fields))

    def job(self, text: str) -> tuple | None:
        match = JOB.search(text)
        return None if match is None else match.groups()

    def request_for(self, job: tuple) -> str:
        number, kind, collection, record, field_id, value = job
        route, auth = self.routes[collection], f"Authorization: Bearer {self.token}"
        if kind == "read":
            return f"GET {route}/{record}\n{auth}"
        if kind == "list":
            return f"GET {route}?page={int(record) // self.page_size}\n{auth}"
        kind_of = self.types[collection][field_id]
        raw: Any = value
        if kind_of == "integer":
            raw = int(value)
        elif kind_of == "decimal":
            raw = f"{int(value) // 100}.{int(value) % 100:02d}"
        return f"PATCH {route}/{record}\n{auth}\n\n{json.dumps({self.names[collection][field_id]: raw})}"

    def observe(self, text: str) -> tuple[int | None, dict[str, str], Any]:
        status, headers, body = parse_response(text)
        if "RateLimit-Policy" in headers:
            limit, _, window = headers["RateLimit-Policy"].partition(";w=")
            self.policy = [int(limit), int(window)]
        if isinstance(body, dict) and "page_size" in body and "items" in body:
            self.page_size = int(body["page_size"])
        return status, headers, body

    def memory(self) -> dict[str, tuple[Any, float]]:
        facts: dict[str, tuple[Any, float]] = {}
        for c, route in self.routes.items():
            facts[f"api:{c}:route"] = (route, 1.0)
            for f, name in self.names[c].items():
                facts[f"api:{c}.{f}:name"] = (name, 1.0)
                facts[f"api:{c}.{f}:type"] = (self.types[c][f], 1.0)
        facts["api:auth_valid"] = (self.token_ok, 1.0)
        facts["api:page_size"] = (self.page_size, 1.0)
        if self.policy is not None:
            facts["api:rate_limit"] = (list(self.policy), 1.0)
        return facts


class ApiStale(ApiTextAgent):
    def act(self, observation: str, info: dict[str, Any]) -> str:
        if not self.routes:
            self.read_briefing(observation)
        else:
            self.observe(observation)
        job = self.job(observation)
        return "wait 1" if job is None else self.request_for(job)


class ApiAdaptive(ApiTextAgent):
    max_schema_age = 60

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.schema_at, self.tried = 0, None

    def act(self, observation: str, info: dict[str, Any]) -> str:
        if not self.routes:
            self.read_briefing(observation)
            status, headers, body = None, {}, None
        else:
            status, headers, body = self.observe(observation)
        self.t += int(re.search(r"waited (\d+) s", observation).group(1)) if "waited" in observation else 1
        job = self.job(observation)
        if isinstance(body, dict) and "access_token" in body:
            self.token, self.token_ok = body["access_token"], True
        if isinstance(body, dict) and "x-collections" in body:
            self.learn_schema(body)
        if status == 429 and "Retry-After" in headers:
            self.retry_until = self.t + int(headers["Retry-After"]) - 1
        if job is None:
            return "wait 1"
        if self.retry_until > self.t:
            return f"wait {self.retry_until - self.t}"
        collection = job[2]
        if status == 401:
            self.token_ok = False
            return "auth"
        moved = None
        if status == 301 and "Location" in headers:
            moved = headers["Location"].split("?")[0].rsplit("/", 1)[0] if job[1] != "list" else headers["Location"].split("?")[0]
        elif status == 410 and isinstance(body, dict) and "successor" in body:
            moved = body["successor"]
        elif "Link" in headers:
            moved = headers["Link"].partition(">")[0].lstrip("<")
        if moved is not None and moved != self.routes[collection]:
            self.routes[collection] = moved
            return self.request_for(job)
        repeated = self.tried == job[0] and status == 200
        if status in (404, 422) or repeated or self.t - self.schema_at > self.max_schema_age:
            self.tried = None
            return "GET /openapi.json"
        self.tried = job[0]
        return self.request_for(job)

    def learn_schema(self, document: dict[str, Any]) -> None:
        self.schema_at = self.t
        self.page_size = int(document.get("x-page-size", self.page_size))
        for c, entry in document.get("x-collections", {}).items():
            if c not in self.routes:
                continue
            self.routes[c] = entry["path"]
            for name, prop in document["components"]["schemas"][entry["schema"]]["properties"].items():
                f = prop.get("x-field-id")
                if f in self.names[c]:
                    self.names[c][f] = name
                    self.types[c][f] = "integer" if prop.get("type") == "integer" else \
                        "decimal" if prop.get("format") == "decimal" else "string"


# --------------------------------------------------------------------------- services
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
class TextOracle(TextAgent):
    """The structured oracle's action, said as a command; answers with the truth (upper bound)."""

    name = "oracle"
    fair = False

    def __init__(self, env: gym.Env, structured_id: str, command_for: Callable[[Any, Any], str | None]) -> None:
        super().__init__(env)
        from driftgym.envs import register_envs

        register_envs()
        self.inner = make("oracle", gym.make(structured_id).unwrapped)
        self.inner.env = self.inner.base = env.unwrapped  # acts on the text env's own world
        self.command_for = command_for

    def act(self, observation: Any, info: dict[str, Any]) -> str:
        base = self.env.unwrapped
        return self.command_for(base, self.inner.act(base._observe(), info)) or "wait"

    def memory(self) -> dict[str, tuple[Any, float]]:
        return {k: (v, 1.0) for k, v in self.env.get_wrapper_attr("facts")().items()}


def _oracle(structured: str, world: str) -> Callable[[gym.Env], TextOracle]:
    def factory(env: gym.Env) -> TextOracle:
        import importlib

        return TextOracle(env, structured, importlib.import_module(f"driftgym.envs.text.{world}").command_for)

    return factory


# --------------------------------------------------------------------------- any model
FENCED = re.compile(r"```[a-zA-Z]*\n(.*?)```", re.S)


def command_of_reply(reply: str) -> str:
    """The command in a model's reply: its first fenced block, else the reply stripped."""
    found = FENCED.search(reply or "")
    return (found.group(1) if found else (reply or "")).strip()


class ChatAgent(TextAgent):
    """Any chat model as a text agent: ``complete(messages) -> str`` with OpenAI-style messages.

    ``max_messages`` keeps the system prompt and the last that many messages (None: all).
    """

    name = "chat"

    def __init__(self, env: gym.Env, complete: Callable[[list[dict[str, str]]], str],
                 system_prompt: str = SYSTEM_PROMPT, max_messages: int | None = None) -> None:
        super().__init__(env)
        self.complete, self.system_prompt, self.max_messages = complete, system_prompt, max_messages
        self.messages: list[dict[str, str]] = []

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.messages = [{"role": "system", "content": self.system_prompt}]

    def ask(self, content: str) -> str:
        self.messages.append({"role": "user", "content": content})
        if self.max_messages is not None and len(self.messages) > self.max_messages + 1:
            self.messages = [self.messages[0], *self.messages[-self.max_messages:]]
        reply = self.complete(list(self.messages))
        reply = reply if isinstance(reply, str) else ""
        self.messages.append({"role": "assistant", "content": reply})
        return reply

    def act(self, observation: str, info: dict[str, Any]) -> str:
        return command_of_reply(self.ask(observation))

    def reply(self, question: Question) -> str:
        return self.ask(question.prompt())


register_agent("stale", FILES_TEXT)(FilesStale)
register_agent("adaptive", FILES_TEXT)(FilesAdaptive)
register_agent("oracle", FILES_TEXT)(_oracle("driftgym/FileSystem-v0", "files"))
register_agent("stale", API_TEXT)(ApiStale)
register_agent("adaptive", API_TEXT)(ApiAdaptive)
register_agent("oracle", API_TEXT)(_oracle("driftgym/HttpApi-v0", "api"))
register_agent("stale", SERVICES_TEXT)(ServicesStale)
register_agent("adaptive", SERVICES_TEXT)(ServicesAdaptive)
register_agent("oracle", SERVICES_TEXT)(_oracle("driftgym/Services-v0", "services"))
