"""Baseline agents for the classic-control ids: controllers that differ only in their model.

CartPole and Pendulum get model-based controllers whose gains come from the parameters they
believe: ``stale`` keeps the model of the env as first built, ``adaptive`` re-estimates it by least
squares on its own recent transitions, and ``oracle`` reads the true parameters every step (the
labelled upper bound). MountainCar, MountainCarContinuous and Acrobot get parameter-free
heuristics (push with the velocity; pump the lower joint), so there the three coincide.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from driftgym.agents.base import Agent, register_agent

__all__ = ["CartPoleController", "PendulumController"]

CARTPOLE = ("driftgym/CartPole-v1",)
PENDULUM = ("driftgym/Pendulum-v1",)
HEURISTIC = ("driftgym/MountainCar-v0", "driftgym/MountainCarContinuous-v0", "driftgym/Acrobot-v1")


def true_params(env: gym.Env) -> dict[str, float]:
    """The env's present physical parameters (ground truth: for the oracle only)."""
    return {key.split(":", 1)[1]: value for key, value in env.get_wrapper_attr("facts")().items()}


def built_params(env: gym.Env) -> dict[str, float]:
    """The parameters of the env as first built: what a stale model assumes."""
    return dict(env.get_wrapper_attr("world").built)


def parameter_belief(agent: Agent, keys) -> dict[str, tuple[float, float]] | None:
    """stale: the parameters as first built; oracle: the truth; adaptive: abstains (it estimates
    a combination of parameters, not each one)."""
    if agent.name == "adaptive":
        return {}
    params = true_params(agent.env) if agent.name == "oracle" else built_params(agent.env)
    return {key: (params[key.split(":", 1)[1]], 1.0) for key in keys if key.split(":", 1)[1] in params}


def least_squares(features: list[list[float]], targets: list[float], window: int) -> np.ndarray | None:
    if len(targets) < window // 4:
        return None
    coefficients, *_ = np.linalg.lstsq(np.array(features[-window:]), np.array(targets[-window:]), rcond=None)
    return coefficients


class ParamBelief(Agent):
    """What a classic-control baseline believes of the parameters (see parameter_belief)."""

    def belief(self, keys):
        return parameter_belief(self, keys)


class CartPoleController(ParamBelief):
    """Push towards the falling side: ``theta + (2 / omega) * theta_dot + ... > 0``.

    ``omega**2 = gravity / (length * (4/3 - masspole / total_mass))`` is the pole's linearised
    angular acceleration per radian: the controller's model. ``mode`` chooses where it comes from:
    ``"stale"`` (the env as first built), ``"adaptive"`` (least squares of the observed angular
    acceleration on angle and push over the last 40 steps) or ``"oracle"`` (the true parameters).
    """

    TAU = 0.02

    def __init__(self, env: gym.Env, mode: str) -> None:
        super().__init__(env)
        self.mode = mode
        self.name = mode
        self.fair = mode != "oracle"
        self.model_alpha = self.alpha_of(built_params(env))

    @staticmethod
    def alpha_of(params: dict[str, float]) -> float:
        total = params["masscart"] + params["masspole"]
        return params["gravity"] / (params["length"] * (4 / 3 - params["masspole"] / total))

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.alpha = self.model_alpha
        self.features: list[list[float]] = []
        self.targets: list[float] = []
        self.last: tuple[np.ndarray, int] | None = None

    def act(self, observation: Any, info: dict[str, Any]) -> int:
        obs = np.asarray(observation, dtype=np.float64)
        if self.last is not None:
            previous, push = self.last
            self.features.append([previous[2], 1.0 if push else -1.0])
            self.targets.append((obs[3] - previous[3]) / self.TAU)
        if self.mode == "oracle":
            self.alpha = self.alpha_of(true_params(self.env))
        elif self.mode == "adaptive":
            fit = least_squares(self.features, self.targets, 40)
            if fit is not None:
                self.alpha = max(float(fit[0]), 1.0)
        omega = math.sqrt(self.alpha)
        push = int(obs[2] + (2.0 / omega) * obs[3] + 0.01 * obs[0] + 0.05 * obs[1] > 0)
        self.last = (obs, push)
        return push


class PendulumController(ParamBelief):
    """Energy pumping far from the top, feedback linearisation near it.

    Model: ``theta_ddot = a sin(theta) + b u`` with ``a = 3 g / (2 l)`` and ``b = 3 / (m l^2)``.
    ``"stale"`` keeps the model as first built, ``"adaptive"`` fits ``a`` and ``b`` by least
    squares over its last 60 transitions, ``"oracle"`` reads the true parameters.
    """

    DT = 0.05
    MAX_TORQUE = 2.0

    def __init__(self, env: gym.Env, mode: str) -> None:
        super().__init__(env)
        self.mode = mode
        self.name = mode
        self.fair = mode != "oracle"
        self.model = self.model_of(built_params(env))

    @staticmethod
    def model_of(params: dict[str, float]) -> tuple[float, float]:
        return 3 * params["g"] / (2 * params["l"]), 3 / (params["m"] * params["l"] ** 2)

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.a, self.b = self.model
        self.features: list[list[float]] = []
        self.targets: list[float] = []
        self.last: tuple[float, float, float] | None = None

    def act(self, observation: Any, info: dict[str, Any]) -> np.ndarray:
        cos, sin, speed = (float(x) for x in observation[:3])
        theta = math.atan2(sin, cos)
        if self.last is not None:
            last_sin, last_speed, torque = self.last
            if abs(speed) < 7.9:  # the env clips the speed at 8: such a step says nothing
                self.features.append([last_sin, torque])
                self.targets.append((speed - last_speed) / self.DT)
        if self.mode == "oracle":
            self.a, self.b = self.model_of(true_params(self.env))
        elif self.mode == "adaptive":
            fit = least_squares(self.features, self.targets, 60)
            if fit is not None and fit[0] > 0.5 and fit[1] > 0.1:
                self.a, self.b = float(fit[0]), float(fit[1])
        if cos > 0.8:
            torque = (-self.a * sin - 12.0 * theta - 4.0 * speed) / self.b
        else:
            energy = 0.5 * speed**2 + self.a * cos
            torque = self.MAX_TORQUE * math.copysign(1.0, (self.a - energy) * speed)
        torque = float(np.clip(torque, -self.MAX_TORQUE, self.MAX_TORQUE))
        self.last = (sin, speed, torque)
        return np.array([torque], dtype=np.float32)


class Heuristic(ParamBelief):
    """A parameter-free controller: the same for stale, adaptive and oracle."""

    def __init__(self, env: gym.Env, mode: str) -> None:
        super().__init__(env)
        self.name = mode
        self.fair = mode != "oracle"
        self.env_id = env.spec.id

    def act(self, observation: Any, info: dict[str, Any]) -> Any:
        obs = np.asarray(observation, dtype=np.float64)
        if self.env_id == "driftgym/MountainCar-v0":
            return 2 if obs[1] >= 0 else 0
        if self.env_id == "driftgym/MountainCarContinuous-v0":
            return np.array([1.0 if obs[1] >= 0 else -1.0], dtype=np.float32)
        # Acrobot: torque the lower joint with its own angular velocity (energy pumping).
        return 2 if obs[5] >= 0 else 0


for _mode in ("stale", "adaptive", "oracle"):
    register_agent(_mode, CARTPOLE)(lambda env, mode=_mode: CartPoleController(env, mode))
    register_agent(_mode, PENDULUM)(lambda env, mode=_mode: PendulumController(env, mode))
    register_agent(_mode, HEURISTIC)(lambda env, mode=_mode: Heuristic(env, mode))
