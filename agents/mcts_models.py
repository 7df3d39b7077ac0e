"""The models the mcts baselines plan with, and the estimates ``mcts-adaptive`` builds them from.

- :class:`ClassicModel`: a classic-control planning copy as a deterministic model;
- :class:`TransitionSampler`: a toy-text planning copy as a sampled model;
- the adaptive estimators, fitted on the transitions the agent has seen:
  :class:`CartPoleEstimate` (closed-form least squares), :class:`PredictionFit` (Gauss-Newton on
  the one-step prediction error, the other classic ids) and :class:`TransitionCounts` (toy text);
- :func:`successor_tv`, the distance between two toy-text models (for ``world_model_error``).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import gymnasium as gym
import numpy as np

from driftgym.envs.classic import ParamWorld, driftable_params

__all__ = [
    "CartPoleEstimate", "ClassicModel", "PredictionFit", "TransitionCounts", "TransitionSampler",
    "fit_rows", "successor_tv",
]


# --------------------------------------------------------------------------- models to plan with


class ClassicModel:
    """A classic-control planning copy as a deterministic model (state -> successor, reward)."""

    deterministic = True

    def __init__(self, twin: gym.Env) -> None:
        self.twin = twin
        self.n_actions = int(twin.action_space.n)
        self.resets_termination = hasattr(twin, "steps_beyond_terminated")

    def root(self) -> Any:
        return self.twin.state

    def step(self, state: Any, action: int, draw: float) -> tuple[Any, float, bool]:
        twin = self.twin
        twin.state = state  # every classic step rebinds ``state``: the node's copy stays intact
        if self.resets_termination:
            twin.steps_beyond_terminated = None
        _, reward, terminated, _, _ = twin.step(action)
        return twin.state, float(reward), bool(terminated)


class TransitionSampler:
    """A toy-text planning copy as a sampled model: its world's map and probabilities ``probs``."""

    deterministic = False

    def __init__(self, twin: gym.Env) -> None:
        world = twin.world
        model = world.model
        self.position = world.position
        self.n_actions = model.n_actions
        self.cumulative = np.cumsum(world.probs, axis=2).tolist()
        self.successors, self.rewards, self.terminated = model.successor_list, model.reward_list, model.terminated_list

    def root(self) -> int:
        return self.position

    def step(self, state: int, action: int, draw: float) -> tuple[int, float, bool]:
        first, second, _ = self.cumulative[state][action]
        k = 0 if draw < first else (1 if draw < second else 2)
        return self.successors[state][action][k], self.rewards[state][action][k], self.terminated[state][action][k]


# --------------------------------------------------------------------------- the adaptive estimators


def fit_rows(features: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, float]:
    """Least squares, and the misfit: residual norm over target norm."""
    coefficients, *_ = np.linalg.lstsq(features, targets, rcond=None)
    misfit = float(np.linalg.norm(features @ coefficients - targets) / max(np.linalg.norm(targets), 1e-12))
    return coefficients, misfit


class CartPoleEstimate:
    """Least squares of CartPole's two Euler equations on recent transitions -> gravity, length, force_mag.

    With the masses as built (``M`` total, ``m`` pole), ``u = +-1`` the push, the accelerations
    read exactly from consecutive states (``(x_dot' - x_dot) / tau``, ``(theta_dot' - theta_dot) / tau``):

    - ``theta_acc (4/3 - m cos^2 / M) + cos sin theta_dot^2 m / M = (g/l) sin - (F/l) cos u / M``
      fits ``a = g/l`` and ``b = F/l``;
    - ``x_acc M = F u + l m (theta_dot^2 sin - theta_acc cos)`` fits ``F`` and ``l``;

    then ``gravity = a l``. So the planner's ``gravity / (length (4/3 - masspole / total_mass))``
    (the pole's angular acceleration per radian) and its push per unit force match what was seen.
    Over the last ``window`` transitions (fewer if older ones misfit: a jump); the built values
    until both pushes have been seen in 4 of them.
    """

    names = ("gravity", "length", "force_mag")

    def __init__(self, built: dict[str, float], tau: float = 0.02, window: int = 12, tolerance: float = 0.02) -> None:
        self.built = built
        self.tau, self.window, self.tolerance = tau, window, tolerance
        self.rows: list[tuple[float, ...]] = []
        self.estimate = {name: built[name] for name in self.names}

    def observe(self, state: Any, action: int, successor: Any) -> None:
        x, x_dot, theta, theta_dot = (float(v) for v in state)
        x_acc = (float(successor[1]) - x_dot) / self.tau
        theta_acc = (float(successor[3]) - theta_dot) / self.tau
        self.rows.append((theta, theta_dot, x_acc, theta_acc, 1.0 if action == 1 else -1.0))
        del self.rows[: -self.window]
        if len(self.rows) >= 4 and len({row[4] for row in self.rows}) == 2:
            self._fit()

    def _fit(self) -> None:
        """The longest recent run of rows both equations fit within ``tolerance`` (a change inside
        the window leaves older rows out), down to 4 rows; kept only if physically plausible."""
        m = self.built["masspole"]
        total = m + self.built["masscart"]
        theta, theta_dot, x_acc, theta_acc, push = np.array(self.rows).T
        cos, sin = np.cos(theta), np.sin(theta)
        left = theta_acc * (4 / 3 - m * cos**2 / total) + cos * sin * theta_dot**2 * m / total
        pole = np.stack([sin, -cos * push / total], 1)
        cart = np.stack([push, m * (theta_dot**2 * sin - theta_acc * cos)], 1)
        for start in range(len(push) - 4 + 1):
            if len(set(push[start:].tolist())) < 2:
                break
            (a, _), misfit_pole = fit_rows(pole[start:], left[start:])
            (force, length), misfit_cart = fit_rows(cart[start:], x_acc[start:] * total)
            if max(misfit_pole, misfit_cart) < self.tolerance:
                break
        if 0.01 <= length <= 10.0 and 0.1 <= force <= 100.0 and 0.1 <= a * length <= 100.0:
            self.estimate = {"gravity": float(a * length), "length": float(length), "force_mag": float(force)}

    def values(self) -> dict[str, float]:
        return dict(self.estimate)


class PredictionFit:
    """Gauss-Newton on the one-step prediction error of a planning copy over recent transitions.

    For the classic ids without a closed form (MountainCar: ``force``, ``gravity``; Acrobot:
    ``LINK_MASS_2``, ``LINK_LENGTH_1``, the parameters their default schedules drift): the
    residual is the predicted minus the seen successor state (angles wrapped), the Jacobian is by
    forward differences, two iterations per step from the last estimate (a warm start).
    """

    def __init__(self, names: tuple[str, ...], built: dict[str, float], window: int = 10, iterations: int = 2) -> None:
        self.names, self.built = names, built
        self.window, self.iterations = window, iterations
        self.rows: list[tuple[Any, int, np.ndarray]] = []
        self.estimate = {name: built[name] for name in names}
        self.twin: Any = None

    def observe(self, state: Any, action: int, successor: Any) -> None:
        self.rows.append((copy.copy(state), action, np.asarray(successor, np.float64)))
        del self.rows[: -self.window]

    def bind(self, twin: gym.Env) -> None:
        if self.twin is None:
            self.twin = copy.copy(twin)

    def _residuals(self, values: np.ndarray) -> np.ndarray:
        twin = self.twin
        names, derive = driftable_params(twin)
        ParamWorld(twin, names, derive).load(dict(zip(self.names, values.tolist())))
        out = []
        for state, action, successor in self.rows:
            twin.state = state
            if hasattr(twin, "steps_beyond_terminated"):
                twin.steps_beyond_terminated = None
            twin.step(action)
            out.append(np.asarray(twin.state, np.float64) - successor)
        residual = np.concatenate(out)
        return (residual + math.pi) % (2 * math.pi) - math.pi

    def values(self) -> dict[str, float]:
        if self.twin is None or len(self.rows) < 3:
            return dict(self.estimate)
        theta = np.array([self.estimate[n] for n in self.names])
        for _ in range(self.iterations):
            base = self._residuals(theta)
            steps = 1e-4 * np.maximum(np.abs(theta), 1e-3)
            jacobian = np.stack([(self._residuals(theta + np.eye(len(theta))[i] * steps[i]) - base) / steps[i] for i in range(len(theta))], 1)
            delta, *_ = np.linalg.lstsq(jacobian, -base, rcond=None)
            if not np.all(np.isfinite(delta)):
                break
            theta = np.clip(theta + delta, 0.1 * np.abs(theta), 10.0 * np.abs(theta))
        self.estimate = dict(zip(self.names, theta.tolist()))
        return dict(self.estimate)


class TransitionCounts:
    """The transition estimate of ``agents/toy_text.py``'s adaptive agent: counts started from the
    built model times ``prior``, each (state, action)'s decayed by ``forgetting`` when it is seen,
    an ambiguous successor splitting its count over the outcomes that lead there."""

    def __init__(self, world: Any, forgetting: float = 0.9, prior: float = 2.0) -> None:
        self.model = world.model
        self.forgetting = forgetting
        self.counts = prior * np.asarray(world.built, dtype=np.float64)

    def observe(self, state: int, action: int, successor: int) -> None:
        matches = self.model.successors[state, action] == successor
        if not matches.any():
            return
        counts = self.counts[state, action]
        counts *= self.forgetting
        weights = np.where(matches, counts + 1e-12, 0.0)
        counts += weights / weights.sum()

    def probs(self) -> np.ndarray:
        return self.counts / self.counts.sum(axis=2, keepdims=True)


def successor_tv(model: Any, probs: np.ndarray, truth: np.ndarray) -> float:
    """Mean total-variation distance between two models' successor distributions ``P(s' | s, a)``,
    over the (state, action) rows of non-terminal cells (outcomes with one successor merged)."""
    n_states, n_actions, outcomes = probs.shape
    rows = np.repeat(np.arange(n_states * n_actions), outcomes)
    difference = np.zeros((n_states * n_actions, n_states))
    np.add.at(difference, (rows, model.successors.ravel()), (probs - truth).ravel())
    live = ~model.terminated.reshape(n_states * n_actions, outcomes).all(axis=1)
    live &= ~np.repeat([c in "HG" for row in model.desc for c in row], n_actions)
    return float(0.5 * np.abs(difference[live]).sum(axis=1).mean())
