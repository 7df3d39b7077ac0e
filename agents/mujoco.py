"""Baseline agents for the MuJoCo v5 ids: parameter-free controllers, honest and simple.

``stale``, ``adaptive`` and ``oracle`` are the same controller on every MuJoCo id (as
agents/classic.py's Heuristic on MountainCar): a fixed open-loop gait, ``0.5 * max |action| *
sin(2 pi t / 20 + i pi / 2)`` on actuator ``i``, and for the inverted pendulums a fixed linear
feedback on the pole angles. None of them uses a model of the parameters, so none of them gains
from knowing the drift; they differ only in their ``belief`` of the parameters (stale: as built,
oracle: the truth, adaptive: abstains). They are baselines to subtract, not to beat.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from driftgym.agents.base import register_agent
from driftgym.agents.classic import ParamBelief

__all__ = ["OpenLoopGait"]

MUJOCO = tuple(
    f"driftgym/{name}-v5"
    for name in (
        "Ant",
        "HalfCheetah",
        "Hopper",
        "Humanoid",
        "HumanoidStandup",
        "InvertedPendulum",
        "InvertedDoublePendulum",
        "Pusher",
        "Reacher",
        "Swimmer",
        "Walker2d",
    )
)
PENDULUMS = {"driftgym/InvertedPendulum-v5": (1, 3), "driftgym/InvertedDoublePendulum-v5": None}


class OpenLoopGait(ParamBelief):
    """The parameter-free controller of the MuJoCo ids (module docstring)."""

    PERIOD = 20

    def __init__(self, env: gym.Env, mode: str) -> None:
        super().__init__(env)
        self.name = mode
        self.fair = mode != "oracle"
        self.env_id = env.spec.id
        space = env.action_space
        self.low, self.high = space.low.astype(np.float64), space.high.astype(np.float64)
        self.phases = np.arange(space.shape[0]) * (math.pi / 2)

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.t = 0

    def act(self, observation: Any, info: dict[str, Any]) -> np.ndarray:
        obs = np.asarray(observation, dtype=np.float64)
        self.t += 1
        if self.env_id == "driftgym/InvertedPendulum-v5":
            # obs: cart position, pole angle, cart velocity, pole angular velocity
            action = np.array([0.5 * obs[0] + 10.0 * obs[1] + 0.5 * obs[2] + 2.0 * obs[3]])
        elif self.env_id == "driftgym/InvertedDoublePendulum-v5":
            # obs[1:3] sin of the two angles, obs[6:8] their angular velocities
            action = np.array([0.5 * obs[0] + 10.0 * obs[1] + 10.0 * obs[2] + 1.0 * obs[6] + 1.0 * obs[7]])
        else:
            amplitude = 0.5 * np.maximum(np.abs(self.low), np.abs(self.high))
            action = amplitude * np.sin(2 * math.pi * self.t / self.PERIOD + self.phases)
        return np.clip(action, self.low, self.high).astype(self.action_space.dtype)


for _mode in ("stale", "adaptive", "oracle"):
    register_agent(_mode, MUJOCO)(lambda env, mode=_mode: OpenLoopGait(env, mode))
