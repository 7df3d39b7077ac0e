"""Model-based baselines: UCT on planning copies, to show what a wrong world model costs.

Three agents run the same UCT planner with the same budget and differ only in the model they
plan with, built each step from ``env.get_wrapper_attr("planning_copy")``:

- ``mcts-initial``: ``planning_copy("initial")``, the world as first built (a stale model);
- ``mcts-current``: ``planning_copy("current")``, the true present world (an oracle model; the
  labelled upper bound, ``fair = False``);
- ``mcts-adaptive``: ``planning_copy("initial")`` with the drifting parameters overwritten by the
  agent's own estimate from the transitions it has seen (see the estimators below).

The planner (:class:`UCT`) is closed-loop UCT: UCB1 on values min-max normalised over the tree,
untried actions first (in index order), uniformly random rollouts to the depth limit, the root's
most visited action (ties: the higher mean, then the lower index). Each node keeps the model's
state, so a simulation only steps the model for the new leaf and its rollout. Classic-control
models are deterministic (one successor per action); toy-text models are sampled (one chance
child per successor cell). The planner's randomness (rollouts, outcome draws) is the agent's own
stream, seeded by ``reset(seed)``: the same seed gives the same action sequence.

Budgets per id (:data:`BUDGETS`: simulations per step, depth, discount, exploration). Planning
copies are stepped only inside the agent: they never advance the real env or its random streams.

>>> import gymnasium as gym, driftgym
>>> from driftgym import agents
>>> env = gym.make("driftgym/CartPole-v1")
>>> agent = agents.make("mcts-adaptive", env)
>>> observation, info = env.reset(seed=0); agent.reset(0)
>>> agent.act(observation, info) in (0, 1)
True
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from driftgym.agents.base import Agent, register_agent
from driftgym.envs.classic import ParamWorld, driftable_params

__all__ = [
    "BUDGETS", "Budget", "CartPoleEstimate", "ClassicModel", "MCTSAgent", "PredictionFit",
    "TransitionCounts", "TransitionSampler", "UCT", "successor_tv",
]

CARTPOLE = "driftgym/CartPole-v1"
CLASSIC = (CARTPOLE, "driftgym/MountainCar-v0", "driftgym/Acrobot-v1")
TOY_TEXT = ("driftgym/FrozenLake-v1", "driftgym/CliffWalking-v1")
MODES = ("initial", "current", "adaptive")
# The parameters each id's default schedule drifts: what mcts-adaptive estimates, what its error is scored on.
MODEL_PARAMS = {
    CARTPOLE: ("gravity", "length", "force_mag"),
    "driftgym/MountainCar-v0": ("force", "gravity"),
    "driftgym/Acrobot-v1": ("LINK_MASS_2", "LINK_LENGTH_1"),
}


@dataclass(frozen=True)
class Budget:
    """Per step: ``simulations`` UCT simulations, each at most ``depth`` model steps deep."""

    simulations: int
    depth: int
    gamma: float = 1.0
    exploration: float = 1.0  # the UCB1 constant, on values normalised to [0, 1]
    normalise: str = "tree"  # UCB on means scaled by the tree's min/max ("tree"), the siblings' ("siblings") or as they are ("none")
    transpositions: bool = False  # sampled models: one node per state, shared by every path reaching it
    backup: str = "mean"  # "mean": Monte Carlo returns (UCT); "bellman": sampled outcome frequencies times successor values


BUDGETS: dict[str, Budget] = {
    CARTPOLE: Budget(simulations=32, depth=25),
    "driftgym/MountainCar-v0": Budget(simulations=32, depth=40),
    "driftgym/Acrobot-v1": Budget(simulations=16, depth=20),
    "driftgym/FrozenLake-v1": Budget(simulations=300, depth=100, gamma=0.99, transpositions=True, backup="bellman"),
    "driftgym/CliffWalking-v1": Budget(simulations=200, depth=60, gamma=0.99, transpositions=True, backup="bellman"),
}
DEFAULT_BUDGET = Budget(simulations=32, depth=25)


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


# --------------------------------------------------------------------------- the planner


class Node:
    __slots__ = ("state", "terminal", "visits", "counts", "totals", "children", "rewards", "value", "outcomes")

    def __init__(self, state: Any, terminal: bool, n_actions: int, deterministic: bool) -> None:
        self.state = state
        self.terminal = terminal
        self.visits = 0
        self.counts = [0] * n_actions
        self.totals = [0.0] * n_actions
        self.children: list[Any] = [None] * n_actions if deterministic else [{} for _ in range(n_actions)]
        self.rewards = [0.0] * n_actions
        self.value = 0.0  # "bellman" backups: the best action's value (a new leaf: its rollout)
        self.outcomes: list[dict[Any, list[float]]] = [{} for _ in range(n_actions)]  # child -> [count, reward]


class UCT:
    """Closed-loop UCT over a model (ClassicModel or TransitionSampler); see the module docstring."""

    def __init__(self, budget: Budget, rng: np.random.Generator) -> None:
        self.budget = budget
        self.rng = rng
        self._draws: list[float] = []

    def draw(self) -> float:
        if not self._draws:
            self._draws = self.rng.random(1024).tolist()
        return self._draws.pop()

    def plan(self, model: Any) -> int:
        budget, n = self.budget, model.n_actions
        root = Node(model.root(), False, n, model.deterministic)
        self._table: dict[Any, Node] = {(root.state, False): root} if budget.transpositions else {}
        bounds = [math.inf, -math.inf]
        for _ in range(budget.simulations):
            self._simulate(model, root, bounds)
        return max(range(n), key=lambda a: (root.counts[a], root.totals[a] / max(root.counts[a], 1), -a))

    def _select(self, node: Node, bounds: list[float]) -> int:
        counts = node.counts
        for action, count in enumerate(counts):
            if count == 0:
                return action
        means = [total / count for total, count in zip(node.totals, counts)]
        if self.budget.normalise == "siblings":
            low, high = min(means), max(means)
        elif self.budget.normalise == "tree":
            low, high = bounds
        else:
            low, high = 0.0, 1.0
        span = high - low if high > low else 1.0
        scale = self.budget.exploration * math.sqrt(math.log(node.visits))
        best, best_score = 0, -math.inf
        for action, count in enumerate(counts):
            score = (means[action] - low) / span + scale / math.sqrt(count)
            if score > best_score:
                best, best_score = action, score
        return best

    def _child(self, model: Any, node: Node, action: int) -> tuple[Node, float, bool]:
        """The successor of ``action`` (stepping the model when needed) and whether it is new."""
        n = model.n_actions
        if model.deterministic:
            child = node.children[action]
            if child is not None:
                return child, node.rewards[action], False
            state, reward, terminal = model.step(node.state, action, 0.0)
            node.children[action] = child = Node(state, terminal, n, True)
            node.rewards[action] = reward
            return child, reward, True
        state, reward, terminal = model.step(node.state, action, self.draw())
        children = self._table if self.budget.transpositions else node.children[action]
        child = children.get((state, terminal))
        if child is None:
            children[(state, terminal)] = child = Node(state, terminal, n, False)
            return child, reward, True
        return child, reward, False

    def _simulate(self, model: Any, root: Node, bounds: list[float]) -> None:
        depth_limit, gamma = self.budget.depth, self.budget.gamma
        node, path, depth, tail = root, [], 0, 0.0
        while depth < depth_limit and not node.terminal:
            action = self._select(node, bounds)
            child, reward, new = self._child(model, node, action)
            path.append((node, action, reward, child))
            depth += 1
            node = child
            if new and not child.terminal:
                tail = self._rollout(model, child.state, depth_limit - depth)
                break
        if self.budget.backup == "bellman":
            self._bellman(path, tail, bounds)
            return
        value = tail
        for parent, action, reward, _ in reversed(path):
            value = reward + gamma * value
            parent.visits += 1
            parent.counts[action] += 1
            parent.totals[action] += value
            self._bound(parent.totals[action] / parent.counts[action], bounds)

    @staticmethod
    def _bound(mean: float, bounds: list[float]) -> None:
        if mean < bounds[0]:
            bounds[0] = mean
        if mean > bounds[1]:
            bounds[1] = mean

    def _bellman(self, path: list, tail: float, bounds: list[float]) -> None:
        """Q(s, a) = sum over sampled successors of frequency * (reward + gamma * V(successor)),
        V = the best tried action's Q (a new leaf: its rollout; terminal: 0), along the path back."""
        gamma = self.budget.gamma
        if path and path[-1][3].visits == 0 and not path[-1][3].terminal:
            path[-1][3].value = tail
        for parent, action, reward, child in reversed(path):
            outcome = parent.outcomes[action].setdefault(child, [0, reward])
            outcome[0] += 1
            parent.visits += 1
            parent.counts[action] += 1
            q = sum(c * (r + gamma * (0.0 if succ.terminal else succ.value)) for succ, (c, r) in parent.outcomes[action].items())
            parent.totals[action] = q  # totals / counts is the mean, as for "mean" backups
            parent.value = max(t / c for t, c in zip(parent.totals, parent.counts) if c)
            self._bound(q / parent.counts[action], bounds)

    def _rollout(self, model: Any, state: Any, steps: int) -> float:
        total, discount, n, gamma = 0.0, 1.0, model.n_actions, self.budget.gamma
        for _ in range(steps):
            state, reward, terminal = model.step(state, min(int(self.draw() * n), n - 1), self.draw())
            total += discount * reward
            discount *= gamma
            if terminal:
                break
        return total


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


# --------------------------------------------------------------------------- the agents


class MCTSAgent(Agent):
    """UCT on a planning copy of the env; ``mode`` is the model (module docstring)."""

    def __init__(self, env: gym.Env, mode: str, budget: Budget | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"mcts mode must be one of {', '.join(MODES)} (got {mode!r})")
        super().__init__(env)
        if not isinstance(env.action_space, gym.spaces.Discrete):
            raise ValueError(f"mcts needs a Discrete action space (got {env.action_space})")
        spec = env.spec or env.unwrapped.spec
        self.env_id = spec.id if spec is not None else None
        self.mode = mode
        self.name = f"mcts-{mode}"
        self.fair = mode != "current"
        self.budget = budget or BUDGETS.get(self.env_id, DEFAULT_BUDGET)
        self.toy_text = getattr(env.unwrapped, "world_kind", "") == "transitions"
        self.planning_copy = env.get_wrapper_attr("planning_copy")

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.uct = UCT(self.budget, self.rng)
        self.estimator: Any = None
        self.last: tuple[Any, int] | None = None
        self.twin: Any = None  # the model planned with at the last act (for world_model_error)

    def _estimator(self, twin: Any) -> Any:
        if self.toy_text:
            return TransitionCounts(twin.world)
        built = dict(self.env.get_wrapper_attr("world").built)
        if self.env_id == CARTPOLE or type(twin).__name__ == "CartPoleEnv":
            return CartPoleEstimate(built)
        fit = PredictionFit(MODEL_PARAMS.get(self.env_id, tuple(built)), built)
        fit.bind(twin)
        return fit

    def model(self) -> Any:
        """The planning copy with the agent's model (and the present state of the real env)."""
        twin = self.planning_copy("current" if self.mode == "current" else "initial")
        if self.mode != "adaptive":
            return twin
        if self.estimator is None:
            self.estimator = self._estimator(twin)
        state = twin.world.position if self.toy_text else copy.copy(twin.state)
        if self.last is not None:
            self.estimator.observe(self.last[0], self.last[1], state)
        if self.toy_text:
            twin.world.set_transition_probs(None, None, self.estimator.probs())
            twin.world.settle()
        else:
            names, derive = driftable_params(twin)
            ParamWorld(twin, names, derive).load(self.estimator.values())
        return twin

    def act(self, observation: Any, info: dict[str, Any]) -> int:
        twin = self.model()
        self.twin = twin
        model = TransitionSampler(twin) if self.toy_text else ClassicModel(twin)
        state = copy.copy(model.root())  # planning moves the copy's state: keep the root's
        action = self.uct.plan(model)
        self.last = (state, action)
        return action

    def world_model_error(self) -> dict[str, float]:
        """Evaluation only (reads the truth): how far the last model planned with is from the world
        now. Classic: the relative error of each drift-able parameter, their mean over MODEL_PARAMS
        (``params``),
        and for CartPole of ``alpha = gravity / (length (4/3 - masspole / total_mass))``;
        toy text: ``tv``, the mean total-variation distance of the successor distributions."""
        world = self.env.get_wrapper_attr("world")
        if self.toy_text:
            return {"tv": successor_tv(world.model, self.twin.world.probs, world.probs)}
        truth = world.values()
        model = {name: float(getattr(self.twin, name)) for name in truth}
        errors = {name: abs(model[name] - truth[name]) / abs(truth[name]) for name in truth if truth[name] != 0}
        scored = MODEL_PARAMS.get(self.env_id, tuple(errors))
        errors["params"] = float(np.mean([errors[name] for name in scored if name in errors]))
        if "gravity" in truth and "length" in truth and "masspole" in truth:
            alpha = [p["gravity"] / (p["length"] * (4 / 3 - p["masspole"] / (p["masspole"] + p["masscart"]))) for p in (model, truth)]
            errors["alpha"] = abs(alpha[0] - alpha[1]) / alpha[1]
        return errors


for _mode in MODES:
    register_agent(f"mcts-{_mode}", CLASSIC + TOY_TEXT)(lambda env, mode=_mode: MCTSAgent(env, mode))
