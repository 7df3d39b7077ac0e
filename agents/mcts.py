"""Model-based baselines: UCT on planning copies, to show what a wrong world model costs.

Three agents run the same UCT planner with the same budget and differ only in the model they
plan with, built each step from ``env.get_wrapper_attr("planning_copy")``:

- ``mcts-initial``: ``planning_copy("initial")``, the world as first built (a stale model);
- ``mcts-current``: ``planning_copy("current")``, the true present world (an oracle model; the
  labelled upper bound, ``fair = False``);
- ``mcts-adaptive``: ``planning_copy("initial")`` with the drifting parameters overwritten by the
  agent's own estimate from the transitions it has seen (the estimators, and the models planned
  with, are in ``driftgym.agents.mcts_models``).

The planner (:class:`UCT`, in ``driftgym.agents.uct``) is closed-loop UCT: UCB1 on values min-max
normalised over the tree, untried actions first (in index order), uniformly random rollouts to the
depth limit, the root's most visited action (ties: the higher mean, then the lower index). Each node keeps the model's
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
from typing import Any

import gymnasium as gym
import numpy as np

from driftgym.agents.base import Agent, register_agent
from driftgym.agents.mcts_models import CartPoleEstimate, ClassicModel, PredictionFit, TransitionCounts, TransitionSampler, successor_tv
from driftgym.agents.mcts_models import fit_rows  # noqa: F401  (importable from here as before the split)
from driftgym.agents.uct import Budget, UCT
from driftgym.agents.uct import Node  # noqa: F401  (importable from here as before the split)
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

BUDGETS: dict[str, Budget] = {
    CARTPOLE: Budget(simulations=32, depth=25),
    "driftgym/MountainCar-v0": Budget(simulations=32, depth=40),
    "driftgym/Acrobot-v1": Budget(simulations=16, depth=20),
    "driftgym/FrozenLake-v1": Budget(simulations=300, depth=100, gamma=0.99, transpositions=True, backup="bellman"),
    "driftgym/CliffWalking-v1": Budget(simulations=200, depth=60, gamma=0.99, transpositions=True, backup="bellman"),
}
DEFAULT_BUDGET = Budget(simulations=32, depth=25)


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
