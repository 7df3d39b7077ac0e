"""FrozenLake and CliffWalking whose transition model drifts: the ice gets slippery, the wind rises.

The ground truth is a :class:`TransitionWorld`: the map, and for every state and action a
categorical distribution over three outcomes — the move to the left of the intended one
(``(a - 1) % 4``), the intended move ``a`` and the move to its right (``(a + 1) % 4``), in
gymnasium's own order — whose successors, rewards and terminations are fixed by the map.
Perturbations rewrite the probabilities only (``perturbations/distributions.py``, and the
parameter kinds on the slip probability ``slip`` / ``slip[s]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from gymnasium.envs.toy_text.cliffwalking import CliffWalkingEnv as GymCliffWalking
from gymnasium.envs.toy_text.frozen_lake import FrozenLakeEnv as GymFrozenLake
from gymnasium.envs.toy_text.frozen_lake import generate_random_map
from gymnasium.utils import colorize

from driftgym.envs.base import DriftEnv, World, check_schedule
from driftgym.perturbations import PerturbationError, Schedule
from driftgym.perturbations.core import suggest
from driftgym.perturbations.distributions import compact_rows, shift_intended

__all__ = ["CliffWalkingEnv", "FrozenLakeEnv", "TransitionModel", "TransitionWorld"]

OUTCOMES = 3  # left of the intended move, the intended move, right of it
INTENDED = 1
_UNIFORMS = 256  # dynamics draws taken from the stream at a time


class TransitionModel:
    """What a map fixes: successors, rewards and terminations per (state, action, outcome)."""

    def __init__(self, desc: Sequence[str], successors: np.ndarray, rewards: np.ndarray, terminated: np.ndarray, probs: np.ndarray, start: int) -> None:
        self.desc = tuple(desc)
        self.successors = successors
        self.rewards = rewards
        self.terminated = terminated
        self.probs = probs
        self.start = int(start)
        self.n_states, self.n_actions = probs.shape[:2]
        self.uniform = bool((probs == probs[0, 0]).all())
        # Python lists for the step path: indexing them costs less than numpy scalars.
        self.successor_list = successors.tolist()
        self.reward_list = rewards.tolist()
        self.terminated_list = terminated.tolist()

    def __deepcopy__(self, memo: dict) -> TransitionModel:
        return self  # fixed by the map: copies of an env share it

    @classmethod
    def from_gym(cls, env: Any, desc: Sequence[str], intended_mass: float) -> TransitionModel:
        """Read a slippery gymnasium toy-text env's ``P`` (three outcomes, or one when terminal)."""
        n_states, n_actions = env.observation_space.n, env.action_space.n
        successors = np.zeros((n_states, n_actions, OUTCOMES), np.int64)
        rewards = np.zeros((n_states, n_actions, OUTCOMES), np.float64)
        terminated = np.zeros((n_states, n_actions, OUTCOMES), bool)
        for s in range(n_states):
            for a in range(n_actions):
                outcomes = env.P[s][a]
                if len(outcomes) == 1:
                    outcomes = outcomes * OUTCOMES
                for k, (_, successor, reward, done) in enumerate(outcomes):
                    successors[s, a, k], rewards[s, a, k], terminated[s, a, k] = int(successor), float(reward), bool(done)
        slip = (1.0 - intended_mass) / 2.0
        probs = np.empty((n_states, n_actions, OUTCOMES))
        probs[...] = (slip, intended_mass, slip)
        start = int(np.argmax(env.initial_state_distrib))
        return cls(desc, successors, rewards, terminated, probs, start)


class TransitionWorld(World):
    """The map, the agent's cell and the drifting transition probabilities ``probs[s, a, k]``."""

    kind = "transitions"
    intended = INTENDED
    outcomes = OUTCOMES

    def __init__(self, model: TransitionModel) -> None:
        self.model = model
        self.probs = model.probs.copy()
        self.built = model.probs  # as first built (shared, never written)
        self.initial = model.probs  # at the start of the episode
        self.position = model.start
        self.version = 0  # +1 whenever settle() finds the probabilities changed
        self._dirty = False
        self._uniform = model.uniform  # every row equal (then one row stands for all)
        self._thresholds: dict[int, tuple[float, float]] = {}

    # ----- the mutation API of the transition kinds
    def _rows(self, state: int | None, action: int | None) -> tuple[slice, slice]:
        m = self.model
        if state is not None and not 0 <= state < m.n_states:
            raise PerturbationError(f"state: {state} is not a state of this map (0..{m.n_states - 1})")
        if action is not None and not 0 <= action < m.n_actions:
            raise PerturbationError(f"action: {action} is not an action (0..{m.n_actions - 1})")
        return (slice(None) if state is None else slice(state, state + 1), slice(None) if action is None else slice(action, action + 1))

    def transition_probs(self, state: int | None = None, action: int | None = None) -> np.ndarray:
        """The targeted rows ``(n, K)``; while every row of the world is equal, that one row
        ``(1, K)`` stands for all of them (the kinds broadcast), so a global drift costs O(1)."""
        index = self._rows(state, action)
        if self._uniform:
            return self.probs[0, 0][None].copy()
        return self.probs[index].reshape(-1, OUTCOMES).copy()

    def initial_transition_probs(self, state: int | None = None, action: int | None = None) -> np.ndarray:
        index = self._rows(state, action)
        if self.model.uniform and self.initial is self.model.probs:
            return self.initial[0, 0][None].copy()
        return self.initial[index].reshape(-1, OUTCOMES).copy()

    def set_transition_probs(self, state: int | None, action: int | None, probs: np.ndarray) -> None:
        """Write the targeted rows (``(n, K)``, or one row for all), each re-normalised."""
        index = self._rows(state, action)
        rows = np.clip(np.asarray(probs, np.float64).reshape(-1, OUTCOMES), 0.0, None)
        totals = rows.sum(axis=1, keepdims=True)
        if not np.all(np.isfinite(totals)) or np.any(totals <= 0):
            raise PerturbationError(f"{self.transition_label(state, action)}: a transition distribution needs a positive, finite sum")
        rows = rows / totals
        view = self.probs[index]
        if len(rows) == 1:
            self.probs[index] = rows[0]
            self._uniform = state is None and action is None
        else:
            self.probs[index] = rows.reshape(view.shape)
            self._uniform = False
        self._dirty = True

    def transition_label(self, state: int | None, action: int | None) -> str:
        return f"P[{'*' if state is None else state}][{'*' if action is None else action}]"

    # ----- the parameter API: the slip probability (1 - the intended move's probability)
    def _slip_rows(self, name: str) -> int | None:
        if name == "slip":
            return None
        if name.startswith("slip[") and name.endswith("]") and name[5:-1].isdigit():
            return int(name[5:-1])
        raise PerturbationError(f"param: no transition parameter {name!r}{suggest(name, ['slip'])} known: slip, slip[s]")

    def get_param(self, name: str) -> Any:
        if name.startswith("P["):  # a transition kind's target (stacked windows ask for it)
            state, action = _parse_label(name)
            return compact_rows(self.transition_probs(state, action))
        state = self._slip_rows(name)
        if self._uniform:
            return 1.0 - float(self.probs[0, 0, INTENDED])
        return 1.0 - float(self.transition_probs(state)[:, INTENDED].mean())

    def initial_param(self, name: str) -> float:
        return 1.0 - float(self.initial_transition_probs(self._slip_rows(name))[:, INTENDED].mean())

    def set_param(self, name: str, value: Any) -> None:
        """``slip``/``slip[s]``: the intended move gets ``1 - value`` (clipped to [0, 1]) and the
        unintended moves share ``value`` in their present proportions (evenly if they had none)."""
        if name.startswith("P["):
            state, action = _parse_label(name)
            self.set_transition_probs(state, action, np.asarray(value, np.float64))
            return
        state = self._slip_rows(name)
        if self._uniform and state is None:  # one row for all: the O(1) path of a global drift
            left, intended, right = self.probs[0, 0].tolist()
            mass = min(max(1.0 - float(value), 0.0), 1.0)
            rest = left + right
            share = left / rest if rest > 0 else 0.5
            self.probs[...] = (share * (1.0 - mass), mass, (1.0 - share) * (1.0 - mass))
            self._dirty = True
            return
        rows = self.transition_probs(state)
        self.set_transition_probs(state, None, shift_intended(rows, INTENDED, 1.0 - float(value)))

    def settle(self) -> None:
        if self._dirty:
            self._dirty = False
            self._thresholds.clear()
            self.version += 1

    # ----- the step path
    def thresholds(self, state: int, action: int) -> tuple[float, float]:
        """Cumulative thresholds of (state, action) for one uniform draw; a zero-probability
        outcome can never be drawn (the last likely outcome absorbs rounding)."""
        key = state * self.model.n_actions + action
        cached = self._thresholds.get(key)
        if cached is None:
            p0, p1, p2 = self.probs[state, action].tolist()
            first = p0 if (p1 > 0 or p2 > 0) else 2.0
            second = p0 + p1 if p2 > 0 else 2.0
            cached = self._thresholds[key] = (first, second)
        return cached

    # ----- reading
    def state_dict(self) -> dict[str, Any]:
        return {"map": list(self.model.desc), "position": self.position, "probs": self.probs.tolist()}

    def facts(self) -> dict[str, Any]:
        facts: dict[str, Any] = {"slip": self.get_param("slip"), "position": self.position}
        for (s, a, k), p in np.ndenumerate(self.probs):
            facts[f"transition:{s}:{a}:{k}"] = float(p)
        return facts


def _parse_label(label: str) -> tuple[int | None, int | None]:
    state, action = label[2:-1].split("][")
    return (None if state == "*" else int(state)), (None if action == "*" else int(action))


class ToyTextEnv(DriftEnv):
    """Shared by FrozenLake and CliffWalking: the transition world, sampling, spaces, copies."""

    world_kind = "transitions"
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 4}
    action_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, model: TransitionModel, schedule, horizon, visibility, render_mode) -> None:
        self.model = model
        super().__init__(schedule, horizon, visibility, render_mode)
        n = model.n_states
        self.action_space = spaces.Discrete(model.n_actions)
        if self.visibility == "hidden":
            self.observation_space = spaces.Discrete(n)
        elif self.visibility == "flag":
            self.observation_space = spaces.MultiDiscrete([n, 2])
        else:
            self.observation_space = spaces.Dict({"state": spaces.Discrete(n), **self.notice_spaces()})
        self.lastaction: int | None = None
        self._uniforms: list[float] = []

    # ----- gymnasium's toy-text attributes, read from the world
    @property
    def desc(self) -> np.ndarray:
        return np.asarray([list(row) for row in self.model.desc], dtype="c")

    @property
    def s(self) -> int:
        return self.world.position

    @property
    def P(self) -> dict[int, dict[int, list[tuple[float, int, float, bool]]]]:
        """The current model in gymnasium's ``P[s][a] = [(prob, next_state, reward, terminated)]``."""
        m, probs = self.model, self.world.probs.tolist()
        return {
            s: {a: [(probs[s][a][k], m.successor_list[s][a][k], m.reward_list[s][a][k], m.terminated_list[s][a][k]) for k in range(OUTCOMES)] for a in range(m.n_actions)}
            for s in range(m.n_states)
        }

    # ----- DriftEnv
    def _check_schedule(self, schedule: Any, default: Any) -> Schedule:
        name = type(self).__name__
        checked = check_schedule(schedule, ("transitions", "params"), name, default)
        for perturbation in checked.perturbations():
            self._check_target(perturbation, name)
        return checked

    def _check_target(self, perturbation: Any, name: str) -> None:
        m = self.model
        param = getattr(perturbation, "param", None)
        if param is not None:
            if param != "slip" and not (param.startswith("slip[") and param.endswith("]") and param[5:-1].isdigit() and int(param[5:-1]) < m.n_states):
                raise PerturbationError(
                    f"schedule: {name} has no drift-able parameter {param!r}{suggest(param, ['slip'])} "
                    f"drift-able: slip, slip[s] for a state s in 0..{m.n_states - 1}"
                )
        for field, size in (("state", m.n_states), ("action", m.n_actions)):
            value = getattr(perturbation, field, None)
            if value is not None and value >= size:
                raise PerturbationError(f"schedule: {name} has no {field} {value} ({field}s are 0..{size - 1})")
        for field in ("probs", "to"):
            value = getattr(perturbation, field, None)
            if isinstance(value, tuple) and len(value) != OUTCOMES:
                raise PerturbationError(f"schedule: {perturbation.kind}.{field} needs {OUTCOMES} weights (left, intended, right) (got {len(value)})")
        rows = getattr(perturbation, "values", None) if perturbation.world == "transitions" else None
        for row in rows or ():
            if len(row) != OUTCOMES:
                raise PerturbationError(f"schedule: {perturbation.kind}.values needs rows of {OUTCOMES} weights (got {len(row)})")

    def _build_world(self, rng: np.random.Generator) -> TransitionWorld:
        return TransitionWorld(self.model)

    def _reset_view(self):
        self.lastaction = None
        self._uniforms = []
        return self._observe(), {}

    def _act(self, action: Any):
        world, model = self.world, self.model
        state, action = world.position, int(action)
        first, second = world.thresholds(state, action)
        if not self._uniforms:
            self._uniforms = self.dynamics_rng.random(_UNIFORMS).tolist()[::-1]
        u = self._uniforms.pop()
        k = 0 if u < first else (1 if u < second else 2)
        world.position = model.successor_list[state][action][k]
        self.lastaction = action
        info: dict[str, Any] = {}
        if self.visibility == "full":
            info["prob"] = float(world.probs[state, action, k])
        return model.reward_list[state][action][k], model.terminated_list[state][action][k], info

    def _observe(self):
        state = self.world.position
        if self.visibility == "hidden":
            return state
        if self.visibility == "flag":
            return np.array([state, 1 if self._fired else 0], np.int64)
        return {"state": state, **self.notice}

    def planning_copy(self, mode: str = "current", perturb: bool = False) -> ToyTextEnv:
        """A copy for planners with the map, the agent's cell, and the transition model as it is
        now (``"current"``) or as first built (``"initial"``); stepping it never touches this env."""
        twin = super().planning_copy(mode, perturb)
        if mode == "initial":
            twin.world.position = self.world.position
        return twin

    def _render_ansi(self) -> str:
        rows = [list(row) for row in self._map_rows()]
        ncol = len(rows[0])
        row, col = divmod(self.world.position, ncol)
        rows[row][col] = colorize(rows[row][col], "red", highlight=True)
        head = f"  ({self.action_names[self.lastaction]})\n" if self.lastaction is not None else "\n"
        return head + "\n".join("".join(r) for r in rows) + "\n"

    def _map_rows(self) -> Sequence[str]:
        return self.model.desc


class FrozenLakeEnv(ToyTextEnv):
    """
    ## Description
    Gymnasium's FrozenLake-v1 (cross the lake from S to G without falling into a hole H) whose
    ice changes under the agent: the probability of slipping, and where a slip takes it, drift
    on a seeded schedule, per state or over the whole lake.

    ## Action Space
    | Num | Action |
    |-----|--------|
    | 0   | left   |
    | 1   | down   |
    | 2   | right  |
    | 3   | up     |

    ## Observation Space
    ``visibility="hidden"``: ``Discrete(nrow * ncol)``, the agent's cell ``row * ncol + col``
    (as gymnasium's). ``"flag"``: ``MultiDiscrete([nrow * ncol, 2])``, the cell and a changed bit.
    ``"magnitude"``/``"full"``: ``Dict(state=Discrete, changed=Box(1), magnitude=Box(1))``.

    ## Transition model and Rewards
    Each action has three outcomes in gymnasium's order: the move to its left, the move itself,
    the move to its right; ``probs[s, a]`` is their distribution (``is_slippery``: ``(1 - success_rate)
    / 2, success_rate, (1 - success_rate) / 2``; otherwise ``0, 1, 0``). Reaching G gives
    ``reward_schedule[0]`` (1), a hole ``[1]``, frozen ice ``[2]`` (0 and 0). ``info`` is empty
    (gymnasium's ``prob`` appears only under ``visibility="full"``, with ``events``).

    ## Starting State / Episode End
    The agent starts on S. The episode terminates in a hole or on G, and truncates at ``horizon``
    (100 for 4x4, 200 for 8x8).

    ## Perturbations
    Kinds on world ``transitions`` (``set_transition``, ``shift_transition``, ``list_transition``,
    ``interpolate_transition``, ``uniform_transition``, ``revert_transition``, ``random_transition``,
    ``wasserstein_transition``; ``state``/``action`` omitted: all), and every parameter kind on
    ``slip`` (1 - the intended move's probability, averaged over the lake) or ``slip[s]``.
    Default schedule: the ice melts, ``slip`` interpolating from its start (2/3) to 0.9 over steps
    [0, 100), fired every 5 steps; a gust at Poisson arrivals (rate 0.02) moves every cell's
    distribution by at most 0.2 in 1-Wasserstein distance.

    ## Arguments
    ``desc``, ``map_name`` ("4x4", "8x8"; ``desc=None, map_name=None``: a random 8x8 map from
    ``map_seed``), ``is_slippery``, ``success_rate``, ``reward_schedule`` as gymnasium's;
    ``schedule``, ``horizon``, ``visibility``, ``render_mode`` ("ansi").
    ``planning_copy(mode)`` keeps the map and the cell, with the current or initial model.

    ## Version History
    - v1: first driftgym version (gymnasium's FrozenLake-v1 dynamics).
    """

    action_names = ("Left", "Down", "Right", "Up")
    default_schedule = (
        {"every": 5, "perturb": {"kind": "interpolate_param", "param": "slip", "to": 0.9, "start": 0, "stop": 100}},
        {"poisson": 0.02, "perturb": {"kind": "wasserstein_transition", "bound": 0.2}},
    )
    default_horizon = 100

    def __init__(
        self,
        desc: Sequence[str] | None = None,
        map_name: str | None = "4x4",
        is_slippery: bool = True,
        success_rate: float = 1.0 / 3.0,
        reward_schedule: tuple[float, float, float] = (1, 0, 0),
        map_seed: int = 0,
        schedule: Schedule | Sequence[dict[str, Any]] | None = None,
        horizon: int | None = None,
        visibility: str = "hidden",
        render_mode: str | None = None,
    ) -> None:
        if desc is None and map_name is None:
            desc = generate_random_map(size=8, seed=map_seed)
        gym_env = GymFrozenLake(desc=desc, map_name=map_name, is_slippery=True, reward_schedule=reward_schedule)
        rows = tuple(b"".join(row).decode() for row in gym_env.desc)
        model = TransitionModel.from_gym(gym_env, rows, float(success_rate) if is_slippery else 1.0)
        if horizon is None:
            horizon = 200 if len(rows) * len(rows[0]) > 16 else 100
        super().__init__(model, schedule, horizon, visibility, render_mode)
        self.nrow, self.ncol = len(rows), len(rows[0])


class CliffWalkingEnv(ToyTextEnv):
    """
    ## Description
    Gymnasium's CliffWalking-v1 (walk a 4x12 grid from the bottom-left start to the bottom-right
    goal along a cliff) whose wind rises: the probability of being blown to either side of the
    intended move drifts on a seeded schedule, per state or over the whole grid.

    ## Action Space
    | Num | Action |
    |-----|--------|
    | 0   | up     |
    | 1   | right  |
    | 2   | down   |
    | 3   | left   |

    ## Observation Space
    As FrozenLake's: ``Discrete(48)`` (the cell ``row * 12 + col``) under ``"hidden"``,
    ``MultiDiscrete([48, 2])`` under ``"flag"``, a ``Dict`` with the notice under
    ``"magnitude"``/``"full"``.

    ## Transition model and Rewards
    Outcomes per action: the move to its left, the move, the move to its right
    (``is_slippery``: 1/3 each, as gymnasium's; else ``0, 1, 0``). -1 per step; stepping into the
    cliff costs -100 and returns the agent to the start. ``info`` is empty except under ``"full"``.

    ## Starting State / Episode End
    Start at cell 36; terminates on the goal (47); truncates at ``horizon`` (200).

    ## Perturbations
    As FrozenLake's kinds. Default schedule: the wind picks up, ``slip`` drifting by +0.002
    every step up to 0.3; every 50 steps from step 50 a random categorical
    (Dirichlet(5)) is mixed into every cell's distribution with weight 0.2.

    ## Arguments
    ``is_slippery`` as gymnasium's; ``schedule``, ``horizon``, ``visibility``, ``render_mode``.

    ## Version History
    - v1: first driftgym version (gymnasium's CliffWalking-v1 dynamics).
    """

    action_names = ("Up", "Right", "Down", "Left")
    default_schedule = (
        {"every": 1, "perturb": {"kind": "drift_param", "param": "slip", "rate": 0.002, "max": 0.3}},
        {"every": 50, "start": 50, "perturb": {"kind": "random_transition", "concentration": 5.0, "mix": 0.2}},
    )
    default_horizon = 200

    def __init__(
        self,
        is_slippery: bool = False,
        schedule: Schedule | Sequence[dict[str, Any]] | None = None,
        horizon: int | None = None,
        visibility: str = "hidden",
        render_mode: str | None = None,
    ) -> None:
        gym_env = GymCliffWalking(is_slippery=True)
        cliff = gym_env._cliff
        rows = tuple(
            "".join("S" if (r, c) == (3, 0) else "G" if (r, c) == (3, 11) else "C" if cliff[r, c] else "o" for c in range(12))
            for r in range(4)
        )
        model = TransitionModel.from_gym(gym_env, rows, 1.0 / 3.0 if is_slippery else 1.0)
        super().__init__(model, schedule, horizon, visibility, render_mode)
        self.shape = (4, 12)
