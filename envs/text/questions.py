"""Belief probes in words: a fact key becomes a question, a reply becomes (answer, confidence).

``question_for(key, env)`` builds the question a harness asks at a probe step ("Does
/etc/app/db.ini exist?", "What is the field name of users.amount now?", "What is the health of
the db service?"), with the JSON reply it expects: ``{"answer": ..., "confidence": 0..1}``.
``parse_answer(reply, question)`` is tolerant (code fences, prose around the JSON, single quotes,
``yes``/``no``, numbers as strings, a bare answer without JSON); a reply it cannot read is an
abstention ``(None, None)``; a confidence outside [0, 1] is clipped, a missing one is None.
"""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["ANSWER_FORMAT", "Question", "answer_json", "parse_answer", "question_for"]

ANSWER_FORMAT = 'Reply with JSON only: {"answer": <your answer>, "confidence": <0 to 1>}; answer null if you do not know.'
KINDS = ("bool", "text", "int", "pair")


@dataclass(frozen=True)
class Question:
    """One probe question: the fact ``key`` it stands for, its ``text``, the answer's ``kind``
    (bool, text, int, pair) and, when the answer is one of a few, the ``options``."""

    key: str
    text: str
    kind: str
    options: tuple[str, ...] = ()

    def prompt(self) -> str:
        choices = f" (one of: {', '.join(self.options)})" if self.options else ""
        hint = {"bool": " Answer true or false.", "pair": " Answer [requests, window in seconds]."}.get(self.kind, "")
        return f"Question: {self.text}{choices}{hint}\n{ANSWER_FORMAT}"


def question_for(key: str, env: Any = None) -> Question:
    """The question for a fact key of a files, api or services world (``env``: for target names)."""
    family, _, rest = key.partition(":")
    head, _, attribute = rest.rpartition(":")
    if family == "target":
        i = int(head)
        spec = ""
        if env is not None:
            target = env.unwrapped.world.targets[i]
            spec = f" ({target.key}, desired {target.desired})"
        return {
            "path": Question(key, f"What is the path of the file holding target {i}{spec} now?", "text"),
            "value": Question(key, f"What value does target {i}{spec} hold now?", "text"),
            "ok": Question(key, f"Does target {i}{spec} hold its desired value now?", "bool"),
        }[attribute]
    if family == "file":
        if attribute == "path":
            return Question(key, f"What is the path of the file with inode {head} now?", "text")
        verb = {"exists": "exist", "writable": "writable", "corrupt": "corrupt (unparseable)"}[attribute]
        return Question(key, f"Does {head} exist?" if attribute == "exists" else f"Is {head} {verb}?", "bool")
    if family == "dir":
        return Question(key, f"Does the directory {head} exist?", "bool")
    if family == "api":
        if not head:
            return {
                "auth_valid": Question(key, "Is your bearer token still valid?", "bool"),
                "rate_limit": Question(key, "What is the API's rate limit now?", "pair"),
                "page_size": Question(key, "How many records does a list page hold now?", "int"),
                "version": Question(key, "What is the latest API version number?", "int"),
            }[attribute]
        collection, _, field_id = head.partition(".")
        if attribute == "route":
            return Question(key, f"What is the base route of the {collection} collection now?", "text")
        if attribute == "name":
            return Question(key, f"What is the field name for {collection}.{field_id} now?", "text")
        return Question(key, f"What is the type of {collection}.{field_id} now?", "text", ("integer", "decimal", "string"))
    if family == "record":
        return Question(key, f"What is the value of {head} now?", "text")
    if family == "svc":
        return {
            "health": Question(key, f"What is the health of the {head} service?", "text", ("up", "degraded", "down", "restarting")),
            "version": Question(key, f"Is the {head} service running the good or the bad version?", "text", ("good", "bad")),
            "replicas": Question(key, f"How many replicas does the {head} service run?", "int"),
            "region": Question(key, f"Which region does the {head} service run in?", "text"),
        }[attribute]
    if family == "edge":
        caller, _, callee = head.partition("->")
        return Question(key, f"Is the call from {caller} to {callee} up (not cut)?", "bool")
    raise ValueError(f"no question for fact key {key!r}")


def answer_json(answer: Any, confidence: float | None) -> str:
    """The reply a well-behaved agent gives."""
    return json.dumps({"answer": answer, "confidence": confidence}, sort_keys=True)


_OBJECT = re.compile(r"\{.*\}", re.S)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)
_TRUE, _FALSE = {"true", "yes", "y"}, {"false", "no", "n"}


def _load(text: str) -> Any:
    for attempt in (json.loads, ast.literal_eval):
        try:
            return attempt(text)
        except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
            continue
    fixed = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", re.sub(r"\bnull\b", "None", text)))
    try:
        return ast.literal_eval(fixed)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        return _FAILED


_FAILED = object()


def coerce(value: Any, question: Question) -> Any:
    """The answer in the fact's own type, or None when it cannot be."""
    if value is None:
        return None
    kind = question.kind
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        return None
    if kind == "int":
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            return int(value)
        return None
    if kind == "pair":
        if isinstance(value, str):
            numbers = re.findall(r"-?\d+", value)
            value = [int(n) for n in numbers] if len(numbers) == 2 else None
        if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return [int(v) for v in value]
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if question.key.startswith("record:") and isinstance(value, int):
            return value
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        if question.key.startswith("record:") and re.fullmatch(r"-?\d+", text):
            return int(text)
        return text
    return None


def _confidence(value: Any) -> float | None:
    if isinstance(value, str):
        try:
            value = float(value.strip().rstrip("%")) / (100.0 if value.strip().endswith("%") else 1.0)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return min(max(float(value), 0.0), 1.0)


def parse_answer(reply: Any, question: Question) -> tuple[Any, float | None]:
    """``(answer, confidence)`` from a reply; ``(None, None)`` (an abstention) if it cannot be read."""
    if not isinstance(reply, str):
        return None, None
    fenced = _FENCE.search(reply)
    text = fenced.group(1) if fenced else reply
    found = _OBJECT.search(text)
    if found is not None:
        data = _load(found.group(0))
        if isinstance(data, dict):
            lowered = {str(k).lower(): v for k, v in data.items()}
            if "answer" in lowered:
                answer = coerce(lowered["answer"], question)
                return (answer, _confidence(lowered.get("confidence")) if answer is not None else None)
        return None, None
    bare = text.strip().strip("`").strip()
    if not bare or "{" in bare or "}" in bare:  # empty, or a broken JSON object
        return None, None
    if question.kind == "text" and (len(bare.split()) != 1 or (question.options and bare.lower() not in question.options)):
        return None, None  # prose is not an answer
    data = _load(bare)
    answer = coerce(bare if data is _FAILED else data, question)
    return answer, None
