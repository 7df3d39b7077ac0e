"""The agent protocol and the registry of baseline agents by name.

An agent is built for a live env (``make(name, env)``): a fair agent reads only the env's spaces
and spec, and learns the world through its own observations; the ``oracle`` also reads the ground
truth (``env.unwrapped`` / the ``facts`` handle) and is a labelled upper bound, never a fair agent.

Protocol: ``reset(seed)``, ``act(observation, info) -> action``, and optionally
``belief(keys) -> {key: (value, confidence)}`` (a missing key is an abstention). An agent without
``belief`` is scored on the belief its env reads from the observation (``view_facts``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

__all__ = ["Agent", "Oracle", "RandomAgent", "env_id_of", "make", "names", "register_agent"]


class Agent:
    """Base of the baseline agents."""

    name: ClassVar[str] = ""
    fair: ClassVar[bool] = True

    def __init__(self, env: gym.Env) -> None:
        self.env = env
        self.action_space = env.action_space
        self.observation_space = env.observation_space
        self.rng = np.random.default_rng(0)

    def reset(self, seed: int | None = None) -> None:
        """Start an episode; an agent's randomness is its own stream, seeded here."""
        self.rng = np.random.default_rng(seed)

    def act(self, observation: Any, info: dict[str, Any]) -> Any:
        raise NotImplementedError

    def belief(self, keys: Iterable[str]) -> dict[str, tuple[Any, float]] | None:
        """What the agent believes of each fact key, with a confidence; None: no belief of its own."""
        return None


class RandomAgent(Agent):
    """Uniform random actions from the agent's own seeded copy of the action space."""

    name = "random"

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.space = copy.deepcopy(self.action_space)
        self.space.seed(seed)

    def act(self, observation: Any, info: dict[str, Any]) -> Any:
        return self.space.sample()


class Oracle(Agent):
    """Mixin of the oracles: believes the ground truth, with confidence 1 (the upper bound)."""

    name = "oracle"
    fair = False

    def belief(self, keys: Iterable[str]) -> dict[str, tuple[Any, float]]:
        truth = self.env.get_wrapper_attr("facts")()
        return {key: (truth[key], 1.0) for key in keys if key in truth}


Factory = Callable[[gym.Env], Agent]
_REGISTRY: dict[str, list[tuple[tuple[str, ...] | None, Factory]]] = {}


def register_agent(name: str, env_ids: Iterable[str] | None = None) -> Callable[[Factory], Factory]:
    """Decorator: ``factory(env) -> Agent`` is the agent ``name`` for ``env_ids`` (None: any env)."""

    def decorate(factory: Factory) -> Factory:
        _REGISTRY.setdefault(name, []).append((None if env_ids is None else tuple(env_ids), factory))
        return factory

    return decorate


def env_id_of(env: gym.Env) -> str | None:
    spec = env.spec or env.unwrapped.spec
    return spec.id if spec is not None else None


def _factory(name: str, env_id: str | None) -> Factory | None:
    for ids, factory in _REGISTRY.get(name, []):
        if ids is not None and env_id in ids:
            return factory
    for ids, factory in _REGISTRY.get(name, []):
        if ids is None:
            return factory
    return None


def names(env_id: str | None = None) -> list[str]:
    """The agent names (for one env id: those that can act on it), sorted."""
    return sorted(n for n in _REGISTRY if env_id is None or _factory(n, env_id) is not None)


def make(name: str, env: gym.Env) -> Agent:
    """The agent ``name`` for the live ``env``; a clear error names the agents that fit it."""
    env_id = env_id_of(env)
    factory = _factory(name, env_id)
    if factory is None:
        from driftgym.perturbations import suggest

        known = names(env_id)
        raise ValueError(f"unknown agent {name!r} for {env_id}{suggest(name, known)} known: {', '.join(known)}")
    return factory(env)


register_agent("random")(RandomAgent)
