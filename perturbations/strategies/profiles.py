"""What an env accepts, as the strategies need it: :class:`EnvProfile` and :func:`profile`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import gymnasium as gym

from driftgym.perturbations.core import PerturbationError, kinds

EnvLike = str | gym.Env

# Parameter names a domain world offers to the parameter kinds, and the limits they live in.
WORLD_PARAMS = {"transitions": ("slip",)}
PARAM_LIMITS = {"slip": (0.0, 1.0)}


@dataclass(frozen=True)
class EnvProfile:
    """What the strategies need to know of one env: its world kind, horizon and parameters."""

    world: str
    horizon: int
    params: Mapping[str, float]  # drift-able name -> starting value (parameter kinds' targets)
    sizes: Mapping[str, int] = dataclasses.field(default_factory=dict)  # state/action counts
    accepts: Any = None  # the env's own check of one perturbation dict (a last resort), or None
    env_id: str | None = None

    def kind_names(self) -> list[str]:
        worlds = {self.world, "any", *(["params"] if self.params else [])}
        return sorted(k for k, c in kinds().items() if c.world in worlds)

    def param_range(self, name: str) -> tuple[float, float]:
        """The range a parameter is kept in: half to twice its starting value (or [-1, 1] at 0),
        within the parameter's own limits (a probability stays in [0, 1])."""
        x0 = self.params[name]
        low, high = (-1.0, 1.0) if x0 == 0 else sorted((x0 / 2, x0 * 2))
        if name in PARAM_LIMITS:
            floor, ceiling = PARAM_LIMITS[name]
            low, high = max(low, floor), min(high, ceiling)
        return low, high


def profile(env: EnvLike) -> EnvProfile:
    """The :class:`EnvProfile` of an env id (made once and cached) or of a live env."""
    if isinstance(env, str):
        return _profile_of_id(env)
    return _profile_of_env(env)


@lru_cache(maxsize=None)
def _profile_of_id(env_id: str) -> EnvProfile:
    import driftgym  # noqa: F401  (registers the ids)

    return dataclasses.replace(_profile_of_env(gym.make(env_id)), env_id=env_id)


def _profile_of_env(env: gym.Env) -> EnvProfile:
    base = env.unwrapped
    world_kind = getattr(base, "world_kind", "")
    horizon = int(env.get_wrapper_attr("horizon"))
    sizes = {name: int(space.n) for name, space in (("state", env.observation_space), ("action", env.action_space))
             if isinstance(space, gym.spaces.Discrete)}
    if not world_kind:  # NonStationary: a parameter world, built with the env
        world = env.get_wrapper_attr("world")
        check = env.get_wrapper_attr("_check_schedule")
        return EnvProfile(world.kind, horizon, dict(world.values()), sizes, _acceptor(lambda s: check(s)))
    check = _acceptor(lambda s: base._check_schedule(s, None))
    params: dict[str, float] = {}
    if world_kind in WORLD_PARAMS:
        base.reset(seed=0)
        for name in WORLD_PARAMS[world_kind]:
            x0 = float(base.world.get_param(name))
            if check({"kind": "set_param", "param": name, "value": x0}):
                params[name] = x0
    return EnvProfile(world_kind, horizon, params, sizes, check)


def _acceptor(check: Any) -> Any:
    def accepts(perturbation: dict[str, Any]) -> bool:
        try:
            check([{"at": 0, "perturb": perturbation}])
        except PerturbationError:
            return False
        return True

    return accepts


def _check_horizon(horizon: Any) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise ValueError(f"horizon must be a whole number >= 1 (got {horizon!r})")
    return horizon
