"""Drawing actions inside an env's action space: :func:`actions`, :func:`action_sequences`."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from driftgym.perturbations.strategies.profiles import EnvLike

def actions(space: gym.Space) -> SearchStrategy[Any]:
    """An action inside ``space`` (Discrete, MultiDiscrete, MultiBinary, Box, Dict), in its type."""
    spaces = gym.spaces
    if isinstance(space, spaces.Discrete):
        return st.integers(int(space.start), int(space.start + space.n - 1))
    if isinstance(space, spaces.MultiDiscrete):
        nvec = space.nvec.ravel().tolist()
        start = np.asarray(space.start).ravel().tolist()
        return st.tuples(*(st.integers(s, s + n - 1) for s, n in zip(start, nvec))).map(
            lambda a: np.array(a, space.dtype).reshape(space.shape)
        )
    if isinstance(space, spaces.MultiBinary):
        size = int(np.prod(space.shape))
        return st.lists(st.integers(0, 1), min_size=size, max_size=size).map(
            lambda a: np.array(a, space.dtype).reshape(space.shape)
        )
    if isinstance(space, spaces.Box):
        low = np.where(np.isfinite(space.low), space.low, -1e3).ravel().tolist()
        high = np.where(np.isfinite(space.high), space.high, 1e3).ravel().tolist()
        width = 32 if space.dtype == np.float32 else 64
        return st.tuples(*(st.floats(lo, hi, width=width) for lo, hi in zip(low, high))).map(
            lambda a: np.array(a, space.dtype).reshape(space.shape)
        )
    if isinstance(space, spaces.Dict):
        return st.fixed_dictionaries({k: actions(s) for k, s in space.spaces.items()})
    raise TypeError(f"actions: unsupported space {space!r} (Discrete, MultiDiscrete, MultiBinary, Box, Dict)")


def _action_space(env: EnvLike | gym.Space) -> gym.Space:
    if isinstance(env, gym.Space):
        return env
    if isinstance(env, str):
        import driftgym  # noqa: F401

        made = gym.make(env)
        try:
            return made.action_space
        finally:
            made.close()
    return env.action_space


def action_sequences(env: EnvLike | gym.Space, length: int) -> SearchStrategy[list[Any]]:
    """``length`` actions of the env's action space (an env, an id or a space); shrink to zeros."""
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise ValueError(f"length must be a whole number >= 0 (got {length!r})")
    return st.lists(actions(_action_space(env)), min_size=length, max_size=length)

