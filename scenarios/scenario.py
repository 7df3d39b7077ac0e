"""Scenario files: what to run (env, schedule, seeds, agents, probes), validated by a JSON Schema.

A scenario is YAML (safe-loaded; JSON is YAML too)::

    id: cartpole-gravity-drift
    description: gravity climbs steadily; does the controller keep up?
    env: driftgym/CartPole-v1
    env_kwargs: {}
    horizon: 500
    visibility: hidden
    schedule:
      - every: 1
        perturb: {kind: drift_param, param: gravity, rate: 0.02, max: 20.0}
    seeds: 0-9
    agents: [random, stale, adaptive, oracle]
    probe: {every: 10, facts: 8}

``id``, ``env`` and ``schedule`` are required; every other field has the default shown in
:data:`DEFAULTS`. The JSON Schema (``driftgym schema``) is built from the registry of perturbation
kinds, validated with ``jsonschema``; errors name the file, the key's path
(``schedule[2].perturb.kind``), what it got and what is allowed, with a did-you-mean.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from driftgym.envs import ENV_IDS
from driftgym.envs.base import VISIBILITIES
from driftgym.perturbations import PerturbationError, Schedule, kinds, schedule_from_wire, suggest
from driftgym.perturbations.core import _hints, _options

__all__ = ["DEFAULTS", "Scenario", "ScenarioError", "library", "load_scenario", "scenario_schema"]

SCENARIO_FORMAT = 1
DEFAULTS: dict[str, Any] = {
    "description": "",
    "env_kwargs": {},
    "horizon": None,  # None: the env's own default horizon
    "visibility": "hidden",
    "seeds": "0-9",
    "agents": ["random", "stale", "adaptive", "oracle"],
    "probe": {"every": 10, "facts": 8},
}
WHEN_OPTIONS = {
    "at": {"at": {"anyOf": [{"$ref": "#/$defs/step"}, {"type": "array", "items": {"$ref": "#/$defs/step"}}]}},
    "every": {"every": {"type": "integer", "minimum": 1}, "start": {"$ref": "#/$defs/step"}, "until": {"$ref": "#/$defs/step"}},
    "poisson": {
        "poisson": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "start": {"$ref": "#/$defs/step"},
        "until": {"$ref": "#/$defs/step"},
        "decay": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    },
    "window": {"window": {"$ref": "#/$defs/pair"}},
    "burst": {"burst": {"$ref": "#/$defs/pair"}, "start": {"$ref": "#/$defs/step"}, "until": {"$ref": "#/$defs/step"}},
    "ramp": {"ramp": {"$ref": "#/$defs/pair"}},
}


class ScenarioError(ValueError):
    """A scenario file is malformed; the message names the file, the key's path and what is allowed."""


# --------------------------------------------------------------------------- the schema

def _parameter_schema(hint: Any) -> dict[str, Any]:
    options = []
    for option in _options(hint):
        if option is type(None):
            options.append({"type": "null"})
        elif option is float:
            options += [{"type": "number"}, {"$ref": "#/$defs/random"}]
        elif option is int:
            options += [{"type": "integer"}, {"$ref": "#/$defs/random"}]
        elif option is str:
            options += [{"type": "string"}, {"$ref": "#/$defs/random"}]
        elif option is bool:
            options.append({"type": "boolean"})
        elif get_origin(option) is Literal:
            options.append({"enum": list(get_args(option))})
        elif get_origin(option) is tuple:
            options.append({"type": "array", "items": _parameter_schema(get_args(option)[0])})
    return options[0] if len(options) == 1 else {"anyOf": options}


def _kind_schema(cls: type) -> dict[str, Any]:
    hints = _hints(cls)
    properties = {"kind": {"const": cls.kind}}
    for name in cls.parameters():
        properties[name] = _parameter_schema(hints[name])
    return {
        "type": "object",
        "description": cls.summary,
        "properties": properties,
        "required": ["kind", *cls.required()],
        "additionalProperties": False,
    }


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file, from the registry of kinds (``driftgym schema``)."""
    registry = kinds()
    kind_defs = {f"kind-{name}": _kind_schema(cls) for name, cls in registry.items()}
    perturb = {
        "type": "object",
        "properties": {"kind": {"enum": list(registry)}},
        "allOf": [
            {"if": {"required": ["choice"]}, "then": {"$ref": "#/$defs/choice"}, "else": {"required": ["kind"]}},
            *({"if": {"properties": {"kind": {"const": name}}, "required": ["kind"]}, "then": {"$ref": f"#/$defs/kind-{name}"}} for name in registry),
        ],
    }
    entry = {
        "type": "object",
        "oneOf": [{"required": [when]} for when in WHEN_OPTIONS],
        "allOf": [
            {
                "if": {"required": [when]},
                "then": {
                    "properties": {**options, "perturb": {"$ref": "#/$defs/perturb"}},
                    "required": ["perturb"],
                    "additionalProperties": False,
                },
            }
            for when, options in WHEN_OPTIONS.items()
        ],
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "driftgym scenario",
        "type": "object",
        "required": ["id", "env", "schedule"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$", "description": "a name for what it tests"},
            "description": {"type": "string", "description": "what it tests, in a sentence"},
            "env": {"enum": list(ENV_IDS)},
            "env_kwargs": {"type": "object"},
            "horizon": {"type": ["integer", "null"], "minimum": 1},
            "visibility": {"enum": list(VISIBILITIES)},
            "schedule": {"type": "array", "items": {"$ref": "#/$defs/entry"}},
            "seeds": {
                "anyOf": [
                    {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1},
                    {"type": "string", "pattern": "^[0-9]+-[0-9]+$"},
                ]
            },
            "agents": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "probe": {
                "type": "object",
                "properties": {"every": {"type": "integer", "minimum": 1}, "facts": {"type": "integer", "minimum": 1}},
                "additionalProperties": False,
            },
        },
        "$defs": {
            "step": {"type": "integer", "minimum": 0},
            "pair": {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2, "maxItems": 2},
            "random": {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "properties": {
                    "uniform": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
                    "normal": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
                    "integers": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
                    "choice": {"type": "array", "minItems": 1},
                },
                "additionalProperties": False,
            },
            "choice": {
                "type": "object",
                "properties": {
                    "choice": {"type": "array", "items": {"$ref": "#/$defs/perturb"}, "minItems": 1},
                    "weights": {"type": "array", "items": {"type": "number", "minimum": 0}},
                },
                "required": ["choice"],
                "additionalProperties": False,
            },
            "perturb": perturb,
            "entry": entry,
            **kind_defs,
        },
    }


# --------------------------------------------------------------------------- errors

def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _explain(error: ValidationError) -> str:
    """One line for the most relevant schema error: path, what it got, what is allowed."""
    where = _path(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        unexpected = sorted(set(error.instance) - set(allowed))[0]
        prefix = f"{where}.{unexpected}" if error.absolute_path else unexpected
        return f"{prefix}: unknown key{suggest(unexpected, allowed)} allowed: {', '.join(allowed)}"
    if error.validator == "enum":
        allowed = [str(v) for v in error.validator_value]
        return f"{where}: got {error.instance!r}{suggest(str(error.instance), allowed)} allowed: {', '.join(allowed)}"
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in error.instance][0]
        return f"{_path([*error.absolute_path, missing])}: missing (required)"
    if error.validator == "oneOf" and error.absolute_path and error.absolute_path[0] == "schedule":
        found = [k for k in WHEN_OPTIONS if isinstance(error.instance, dict) and k in error.instance]
        for key in error.instance if isinstance(error.instance, dict) else ():
            if not found and key != "perturb" and suggest(key, WHEN_OPTIONS):
                return f"{where}.{key}: unknown key{suggest(key, WHEN_OPTIONS)} an entry takes one of {', '.join(WHEN_OPTIONS)}"
        return f"{where}: an entry takes exactly one of {', '.join(WHEN_OPTIONS)} (found {', '.join(found) or 'none'})"
    if error.validator == "anyOf":
        fitting = [e for e in error.context if e.validator != "type"]  # an option of the right type
        if fitting:
            return _explain(_most_relevant(fitting))
        allowed = [_describe_option(option) for option in error.validator_value]
        return f"{where}: got {error.instance!r}; allowed: {' or '.join(dict.fromkeys(allowed))}"
    if error.validator in ("minimum", "exclusiveMinimum", "maximum"):
        bound = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<="}[error.validator]
        return f"{where}: got {error.instance!r}; allowed: a number {bound} {error.validator_value}"
    return f"{where}: {error.message}"


def _describe_option(option: dict[str, Any]) -> str:
    if option.get("$ref") == "#/$defs/random":
        return "a random value ({uniform: [a, b]}, {normal: [m, s]}, {integers: [a, b]}, {choice: [...]})"
    if "enum" in option:
        return "one of " + ", ".join(map(str, option["enum"]))
    return {"number": "a number", "integer": "a whole number", "string": "a string", "null": "null",
            "boolean": "true or false", "array": "a list"}.get(option.get("type", ""), str(option))


_PRIORITY = {"oneOf": 5, "additionalProperties": 4, "enum": 3, "required": 2}


def _most_relevant(errors: list[ValidationError]) -> ValidationError:
    """The deepest error, and among those the one that says the most (unknown key first)."""
    return max(errors, key=lambda e: (len(e.absolute_path), _PRIORITY.get(e.validator, 0), e.validator not in ("if", "allOf")))


# --------------------------------------------------------------------------- scenarios

@dataclass(frozen=True)
class Scenario:
    """A validated scenario; ``schedule`` is parsed, every default filled in."""

    id: str
    env: str
    schedule: Schedule
    description: str = ""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    horizon: int | None = None
    visibility: str = "hidden"
    seeds: tuple[int, ...] = tuple(range(10))
    agents: tuple[str, ...] = ("random", "stale", "adaptive", "oracle")
    probe_every: int = 10
    probe_facts: int = 8
    source: str = "<dict>"

    @classmethod
    def from_dict(cls, data: Any, source: str = "<dict>") -> Scenario:
        validator = Draft202012Validator(_SCHEMA())
        errors = list(validator.iter_errors(data))
        if errors:
            raise ScenarioError(f"{source}: {_explain(_most_relevant(errors))}")
        try:
            schedule = schedule_from_wire(data["schedule"])
        except PerturbationError as error:
            raise ScenarioError(f"{source}: {error}") from None
        filled = {**DEFAULTS, **data}
        probe = {**DEFAULTS["probe"], **filled["probe"]}
        return cls(
            id=data["id"],
            env=data["env"],
            schedule=schedule,
            description=filled["description"],
            env_kwargs=dict(filled["env_kwargs"]),
            horizon=filled["horizon"],
            visibility=filled["visibility"],
            seeds=tuple(parse_seeds(filled["seeds"], source)),
            agents=tuple(filled["agents"]),
            probe_every=probe["every"],
            probe_facts=probe["facts"],
            source=source,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "description": self.description,
            "env": self.env,
            "env_kwargs": self.env_kwargs,
            "horizon": self.horizon,
            "visibility": self.visibility,
            "schedule": self.schedule.to_wire(),
            "seeds": list(self.seeds),
            "agents": list(self.agents),
            "probe": {"every": self.probe_every, "facts": self.probe_facts},
        }

    def env_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``gym.make(self.env, **...)``."""
        arguments = {**self.env_kwargs, "schedule": self.schedule, "visibility": self.visibility}
        if self.horizon is not None:
            arguments["horizon"] = self.horizon
        return arguments


_SCHEMA_CACHE: list[dict[str, Any]] = []


def _SCHEMA() -> dict[str, Any]:  # built once, after every kind module has registered
    if not _SCHEMA_CACHE:
        _SCHEMA_CACHE.append(scenario_schema())
    return _SCHEMA_CACHE[0]


def parse_seeds(value: Any, source: str = "seeds") -> list[int]:
    """``[1, 4, 7]`` or ``"0-9"`` -> a list of seeds."""
    if isinstance(value, str):
        low, high = (int(part) for part in value.split("-", 1))
        if high < low:
            raise ScenarioError(f"{source}: seeds: range {value!r} needs low <= high")
        return list(range(low, high + 1))
    return [int(v) for v in value]


def library() -> dict[str, Path]:
    """The bundled scenarios: id -> file."""
    folder = resources.files("driftgym.scenarios") / "library"
    return {Path(str(p)).stem: Path(str(p)) for p in sorted(folder.iterdir(), key=str) if str(p).endswith(".yaml")}


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A bundled scenario by id, or a YAML/JSON file by path."""
    bundled = library()
    path = bundled.get(str(name_or_path), Path(name_or_path))
    if not path.is_file():
        raise ScenarioError(
            f"unknown scenario {str(name_or_path)!r}{suggest(str(name_or_path), bundled)} "
            f"(not a file, nor one of: {', '.join(bundled)})"
        )
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ScenarioError(f"{path}: not valid YAML: {str(error).splitlines()[0]}") from None
    return Scenario.from_dict(data, str(path))


def schema_json() -> str:
    return json.dumps(_SCHEMA(), indent=2, sort_keys=True)
