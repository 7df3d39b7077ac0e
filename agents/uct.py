"""The planner of the mcts baselines: closed-loop UCT over a model of the env.

:class:`UCT` is UCB1 on values min-max normalised over the tree, untried actions first (in
index order), uniformly random rollouts to the depth limit, the root's most visited action
(ties: the higher mean, then the lower index). Each node keeps the model's state, so a
simulation only steps the model for the new leaf and its rollout. A model (see
``driftgym.agents.mcts_models``) has ``n_actions``, ``deterministic``, ``root()`` and
``step(state, action, draw) -> (state, reward, terminated)``: deterministic models have one
successor per action; sampled ones one chance child per successor state (or, with
``transpositions``, one node per state shared by every path). The planner's randomness
(rollouts, outcome draws) comes from the generator it is given: the agent's own stream.
:class:`Budget` sets the simulations per step, the depth, the discount and the exploration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Budget", "Node", "UCT"]


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
