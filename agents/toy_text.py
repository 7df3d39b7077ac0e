"""Baseline agents for FrozenLake and CliffWalking: value iteration on three different models.

All three know the map (successors, rewards, terminations: what the env's ``world.model`` fixes)
and differ only in the transition probabilities they plan with: ``stale`` the model as first
built, ``adaptive`` one re-estimated from its own observed transitions (counts with forgetting,
starting from the built model as a prior, re-planned every ``replan`` steps), ``oracle`` the
true current model (re-planned whenever it changes; the labelled upper bound).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from driftgym.agents.base import Agent, register_agent

__all__ = ["ValueIterationAgent", "value_iteration"]

TOY_TEXT = ("driftgym/FrozenLake-v1", "driftgym/CliffWalking-v1")


def value_iteration(
    probs: np.ndarray,
    model: Any,
    gamma: float = 0.99,
    values: np.ndarray | None = None,
    tolerance: float = 1e-8,
    max_iterations: int = 2000,
) -> tuple[np.ndarray, np.ndarray]:
    """(Q[s, a], V[s]) of ``probs[s, a, k]`` over the map's successors, rewards and terminations."""
    keep = gamma * (~model.terminated)
    values = np.zeros(model.n_states) if values is None else values.copy()
    q = np.zeros(probs.shape[:2])
    for _ in range(max_iterations):
        q = (probs * (model.rewards + keep * values[model.successors])).sum(axis=2)
        new = q.max(axis=1)
        if np.abs(new - values).max() < tolerance:
            return q, new
        values = new
    return q, values


def state_of(observation: Any) -> int:
    """The agent's cell, under any visibility (Discrete, MultiDiscrete or Dict observation)."""
    if isinstance(observation, dict):
        return int(observation["state"])
    array = np.asarray(observation)
    return int(array.ravel()[0])


class ValueIterationAgent(Agent):
    """Greedy on the Q-values of value iteration; ``mode`` chooses the model (module docstring)."""

    def __init__(self, env: gym.Env, mode: str, forgetting: float = 0.9, prior: float = 2.0, replan: int = 10) -> None:
        super().__init__(env)
        self.mode = mode
        self.name = mode
        self.fair = mode != "oracle"
        self.forgetting, self.prior, self.replan = forgetting, prior, replan

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.world = None  # read at the first act: the env has been reset by then
        self.last: tuple[int, int] | None = None
        self.steps = 0

    def _start(self) -> None:
        world = self.env.get_wrapper_attr("world")
        self.world, self.model = world, world.model
        self.counts = self.prior * np.asarray(world.built, dtype=np.float64)
        self.version = world.version
        self.q, self.values = value_iteration(self._probs(), self.model)

    def _probs(self) -> np.ndarray:
        if self.mode == "oracle":
            return self.world.probs
        if self.mode == "adaptive":
            return self.estimate()
        return self.world.built

    def estimate(self) -> np.ndarray:
        """The adaptive agent's transition model: normalised counts."""
        return self.counts / self.counts.sum(axis=2, keepdims=True)

    def _observe(self, state: int) -> None:
        previous, action = self.last
        matches = self.model.successors[previous, action] == state
        if not matches.any():
            return  # a reset in between: not a transition
        counts = self.counts[previous, action]
        counts *= self.forgetting
        weights = np.where(matches, counts + 1e-12, 0.0)
        counts += weights / weights.sum()  # an ambiguous successor splits its count

    def act(self, observation: Any, info: dict[str, Any]) -> int:
        if self.world is None:
            self._start()
        state = state_of(observation)
        self.steps += 1
        if self.mode == "adaptive" and self.last is not None:
            self._observe(state)
            if self.steps % self.replan == 0:
                self.q, self.values = value_iteration(self.estimate(), self.model, values=self.values)
        elif self.mode == "oracle" and self.world.version != self.version:
            self.version = self.world.version
            self.q, self.values = value_iteration(self.world.probs, self.model, values=self.values)
        action = int(np.argmax(self.q[state]))
        self.last = (state, action)
        return action

    def belief(self, keys):
        """The transition probabilities of the model the agent plans with (confidence 1)."""
        if self.world is None:
            return {}
        probs = self._probs()
        belief = {}
        for key in keys:
            parts = key.split(":")
            if parts[0] == "transition" and len(parts) == 4:
                belief[key] = (float(probs[int(parts[1]), int(parts[2]), int(parts[3])]), 1.0)
        return belief


for _mode in ("stale", "adaptive", "oracle"):
    register_agent(_mode, TOY_TEXT)(lambda env, mode=_mode: ValueIterationAgent(env, mode))
