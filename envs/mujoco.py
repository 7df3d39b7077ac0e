"""Parameter drift for gymnasium's MuJoCo v5 envs: bodies, geoms, joints, actuators and physics.

A :class:`MujocoParamWorld` addresses the compiled model's fields by name, not raw index:

===============================================  =============================================
parameter                                        model field
===============================================  =============================================
``body_mass[torso]``                             ``model.body_mass[id("torso")]``
``body_inertia[torso].x`` (``.y``, ``.z``)       ``model.body_inertia[id, 0..2]``
``geom_friction[floor].sliding``                 ``model.geom_friction[id, 0]`` (``.torsional``
                                                 1, ``.rolling`` 2)
``actuator_gear[bthigh]``                        ``model.actuator_gear[id, 0]``; an actuator
                                                 without a name goes by the joint it drives
``dof_damping[bthigh]``, ``dof_armature[..]``,   the dof of a hinge or slide joint
``dof_frictionloss[..]``
``jnt_stiffness[bthigh]``                        ``model.jnt_stiffness[id]``
``opt.gravity.z`` (``.x``, ``.y``),              ``model.opt.gravity[2]``, ...
``opt.wind.x`` ..., ``opt.density``,
``opt.viscosity``
===============================================  =============================================

Every existing parameter kind (``scale_param``, ``random_walk_param``, ``oscillate_param``, ...)
works on these names unchanged. Masses, inertias, armatures and gears feed constants MuJoCo
derives at compile time (``body_subtreemass``, ``dof_invweight0``, ``actuator_acc0``, ...):
after a step's perturbations ``settle()`` calls ``mj_setConst`` once, on a scratch ``MjData``
(it overwrites the data it is given), and only if one of those changed this step.

``mujoco`` is imported only when an id is made: ``import driftgym`` works without it, and
making ``driftgym/HalfCheetah-v5`` without it raises ``DependencyNotInstalled`` naming the extra.
"""

from __future__ import annotations

import copy
import importlib
import re
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.error import DependencyNotInstalled

from driftgym.envs.classic import NonStationary, ParamWorld, drifting
from driftgym.perturbations import PerturbationError, Schedule
from driftgym.perturbations.core import suggest

__all__ = ["MUJOCO_IDS", "MujocoNonStationary", "MujocoParamWorld", "mujoco_drifting", "require_mujoco"]

EXTRA_HINT = "pip install 'driftgym[mujoco]'"

_COMPONENTS = {
    "body_inertia": ("x", "y", "z"),
    "geom_friction": ("sliding", "torsional", "rolling"),
}
_OPT_VECTORS = {"gravity": ("x", "y", "z"), "wind": ("x", "y", "z")}
_OPT_SCALARS = ("density", "viscosity")
# fields whose change needs mj_setConst (they enter the constants derived at qpos0)
_CONST_FIELDS = frozenset({"body_mass", "body_inertia", "dof_armature", "actuator_gear"})
_FIELDS = ("body_mass", "body_inertia", "geom_friction", "actuator_gear", "dof_damping", "dof_armature", "dof_frictionloss", "jnt_stiffness")
_OBJECT_OF = {
    "body_mass": "body",
    "body_inertia": "body",
    "geom_friction": "geom",
    "actuator_gear": "actuator",
    "dof_damping": "dof joint",
    "dof_armature": "dof joint",
    "dof_frictionloss": "dof joint",
    "jnt_stiffness": "joint",
}
_NAME = re.compile(r"^(\w+)\[([^\]]+)\](?:\.(\w+))?$")


def require_mujoco(env_id: str) -> Any:
    """The ``mujoco`` module, or DependencyNotInstalled naming the extra."""
    try:
        return importlib.import_module("mujoco")
    except ImportError as error:
        raise DependencyNotInstalled(f"{env_id} needs MuJoCo, which is not installed ({error}): {EXTRA_HINT}") from None


class MujocoParamWorld(ParamWorld):
    """The drift-able parameters of a MuJoCo env's compiled model, by name (module docstring)."""

    kind = "params"

    def __init__(self, env: Any, names: Sequence[str] | None = None) -> None:
        import mujoco

        self.env = env
        self.model = env.model
        self._scratch = mujoco.MjData(self.model)  # mj_setConst writes into the data it gets
        self._objects = self._named_objects()
        self.addresses: dict[str, tuple[np.ndarray, int, bool]] = {}
        self.names = tuple(self.all_names() if names is None else names)
        for name in self.names:
            self.addresses[name] = self.address(name)
        self.derive = None
        self.const_updates = 0  # how many times mj_setConst ran (for tests and benchmarks)
        self._const_dirty = False
        self.built = self.values()
        self.initial = dict(self.built)

    # ----- naming
    @property
    def _mujoco(self) -> Any:  # the module, looked up (a module attribute would not deep-copy)
        import mujoco

        return mujoco

    def _named_objects(self) -> dict[str, dict[str, int]]:
        m, obj = self.model, self._mujoco.mjtObj

        def names(kind: Any, count: int) -> dict[str, int]:
            found = {}
            for i in range(count):
                name = self._mujoco.mj_id2name(m, kind, i)
                if name:
                    found[name] = i
            return found

        joints = names(obj.mjOBJ_JOINT, m.njnt)
        actuators = {}
        for i in range(m.nu):
            name = self._mujoco.mj_id2name(m, obj.mjOBJ_ACTUATOR, i)
            if not name and int(m.actuator_trntype[i]) == int(self._mujoco.mjtTrn.mjTRN_JOINT):
                name = self._mujoco.mj_id2name(m, obj.mjOBJ_JOINT, int(m.actuator_trnid[i, 0]))
            if name:
                actuators[name] = i
        hinge, slide = int(self._mujoco.mjtJoint.mjJNT_HINGE), int(self._mujoco.mjtJoint.mjJNT_SLIDE)
        one_dof = {n: i for n, i in joints.items() if int(m.jnt_type[i]) in (hinge, slide)}
        bodies = names(obj.mjOBJ_BODY, m.nbody)
        bodies.pop("world", None)
        return {
            "body": bodies,
            "geom": names(obj.mjOBJ_GEOM, m.ngeom),
            "actuator": actuators,
            "joint": joints,
            "dof joint": one_dof,
        }

    def _object_kind(self, field: str) -> str:
        return _OBJECT_OF[field]

    def all_names(self) -> list[str]:
        """Every drift-able name of this model, in field order then model order."""
        result = []
        for field in _FIELDS:
            for element in self._objects[self._object_kind(field)]:
                components = _COMPONENTS.get(field)
                result += [f"{field}[{element}].{c}" for c in components] if components else [f"{field}[{element}]"]
        for vector, components in _OPT_VECTORS.items():
            result += [f"opt.{vector}.{c}" for c in components]
        result += [f"opt.{scalar}" for scalar in _OPT_SCALARS]
        return result

    def address(self, name: str) -> tuple[np.ndarray, int, bool]:
        """(flat view of the model array, index, needs mj_setConst), or an error naming what exists."""
        m = self.model
        if name.startswith("opt."):
            parts = name.split(".")
            if len(parts) == 3 and parts[1] in _OPT_VECTORS and parts[2] in _OPT_VECTORS[parts[1]]:
                return getattr(m.opt, parts[1]).reshape(-1), _OPT_VECTORS[parts[1]].index(parts[2]), False
            if len(parts) == 2 and parts[1] in _OPT_SCALARS:
                return None, parts[1], False  # a scalar of opt: read and written by attribute
            allowed = [f"opt.{v}.{c}" for v, cs in _OPT_VECTORS.items() for c in cs] + [f"opt.{s}" for s in _OPT_SCALARS]
            raise PerturbationError(f"no physics option {name!r}{suggest(name, allowed)} options: {', '.join(allowed)}")
        match = _NAME.match(name)
        if match is None or match.group(1) not in _FIELDS:
            field = match.group(1) if match else name
            raise PerturbationError(
                f"no drift-able field {field!r}{suggest(field, _FIELDS)} fields: {', '.join(_FIELDS)}, opt.gravity, opt.wind, "
                f"opt.density, opt.viscosity (e.g. body_mass[torso], geom_friction[floor].sliding, opt.gravity.z)"
            )
        field, element, component = match.groups()
        kind = self._object_kind(field)
        known = self._objects[kind]
        if element not in known:
            what, plural = {"body": ("body", "bodies"), "dof joint": ("hinge or slide joint", "hinge or slide joints")}.get(kind, (kind, kind + "s"))
            raise PerturbationError(f"{field}: the model has no {what} {element!r}{suggest(element, known)} {plural}: {', '.join(known)}")
        index = known[element]
        components = _COMPONENTS.get(field)
        if components:
            if component not in components:
                raise PerturbationError(f"{name}: {field} needs a component, one of .{', .'.join(components)}")
            offset = components.index(component)
        elif component is not None:
            raise PerturbationError(f"{name}: {field} has no components (write {field}[{element}])")
        else:
            offset = 0
        array = getattr(m, field)
        if field.startswith("dof_"):
            index = int(m.jnt_dofadr[index])
        width = array.shape[1] if array.ndim == 2 else 1
        return array.reshape(-1), index * width + offset, field in _CONST_FIELDS

    # ----- the ParamWorld API
    def get_param(self, name: str) -> float:
        array, index, _ = self.addresses[name]
        if array is None:
            return float(getattr(self.model.opt, index))
        return float(array[index])

    def set_param(self, name: str, value: float) -> None:
        array, index, const = self.addresses[name]
        if array is None:
            setattr(self.model.opt, index, value)
        else:
            array[index] = value
        if const:
            self._const_dirty = True

    def settle(self) -> None:
        if self._const_dirty:
            self._const_dirty = False
            self._mujoco.mj_setConst(self.model, self._scratch)
            self.const_updates += 1

    def values(self) -> dict[str, float]:
        return {name: self.get_param(name) for name in self.names}

    def load(self, values: dict[str, float]) -> None:
        for name, value in values.items():
            if self.get_param(name) != value:
                self.set_param(name, value)
        self.settle()

    def state_dict(self) -> dict[str, Any]:
        data = self.env.data
        return {
            "params": self.values(),
            "qpos": data.qpos.tolist(),
            "qvel": data.qvel.tolist(),
            "time": float(data.time),
        }

    def check(self, schedule: Schedule, env_name: str) -> None:
        for perturbation in schedule.perturbations():
            name = getattr(perturbation, "param", None)
            if name is None or name in self.addresses:
                continue
            try:
                self.address(name)
            except PerturbationError as error:
                raise PerturbationError(f"schedule: {env_name}: {error}") from None
            raise PerturbationError(f"schedule: {env_name}: {name!r} is not among this env's drift-able params: {', '.join(self.names)}")


class MujocoNonStationary(NonStationary):
    """:class:`NonStationary` over a MuJoCo env's :class:`MujocoParamWorld`.

    Example:
        >>> import gymnasium as gym
        >>> from driftgym.envs.mujoco import MujocoNonStationary
        >>> env = MujocoNonStationary(gym.make("HalfCheetah-v5"), [{"at": 0, "perturb": {"kind": "set_param", "param": "opt.gravity.z", "value": -5.0}}])
        >>> _ = env.reset(seed=0)
        >>> _ = env.step(env.action_space.sample())
        >>> env.get_wrapper_attr("facts")()["param:opt.gravity.z"]
        -5.0
    """

    def _build_param_world(self, base: Any, params: Sequence[str] | None) -> MujocoParamWorld:
        return MujocoParamWorld(base, params)

    def _copy_base(self) -> gym.Env:
        """The bare MuJoCo env with its own model and data (MjData cannot be deep-copied), in
        the current simulation state."""
        mujoco = self.world._mujoco
        base = self.env.unwrapped
        twin = copy.copy(base)
        twin.model = copy.deepcopy(base.model)
        twin.data = mujoco.MjData(twin.model)
        for field in ("qpos", "qvel", "act", "ctrl", "qacc_warmstart", "mocap_pos", "mocap_quat"):
            getattr(twin.data, field)[:] = getattr(base.data, field)
        twin.data.time = base.data.time
        mujoco.mj_forward(twin.model, twin.data)
        twin.render_mode = None
        twin.mujoco_renderer = None
        if base._np_random is not None:
            twin._np_random = copy.deepcopy(base._np_random)
        return twin


def mujoco_drifting(env_id: str, entry: str, default_schedule: list[dict[str, Any]], horizon: int, doc: str) -> Callable[..., MujocoNonStationary]:
    """An entry point for ``gym.make``: gymnasium's v5 env (``entry``, ``module:Class``) wrapped
    in MujocoNonStationary with a default schedule; MuJoCo is imported when it is called."""

    def base(render_mode: str | None = None, **kwargs: Any) -> gym.Env:
        require_mujoco(env_id)
        module, name = entry.split(":")
        return getattr(importlib.import_module(module), name)(render_mode=render_mode, **kwargs)

    base.metadata = {"render_modes": ["human", "rgb_array", "depth_array", "rgbd_tuple"]}  # type: ignore[attr-defined]
    return drifting(env_id, base, default_schedule, horizon, doc, wrapper=MujocoNonStationary)


# --------------------------------------------------------------------------- the registered ids
#
# Each default schedule changes something at most every few steps (mass changes run mj_setConst),
# so the drifted env steps within a few percent of the bare one.

def _walk(param: str, sigma: float, low: float, high: float, every: int = 10) -> dict[str, Any]:
    return {"every": every, "perturb": {"kind": "random_walk_param", "param": param, "sigma": sigma, "reversion": 0.05, "min": low, "max": high}}


def _scale(param: str, every: int, start: int, low: float, high: float) -> dict[str, Any]:
    return {"every": every, "start": start, "perturb": {"kind": "scale_param", "param": param, "factor": {"uniform": [low, high]}}}


def _window(param: str, start: int, duration: int, value: float) -> dict[str, Any]:
    return {"window": [start, duration], "perturb": {"kind": "set_param", "param": param, "value": value}}


_GRAVITY = _walk("opt.gravity.z", 0.3, -14.7, -4.9)
SCHEDULES: dict[str, list[dict[str, Any]]] = {
    "Ant": [_GRAVITY, _scale("body_mass[torso]", 250, 250, 0.7, 1.5), _walk("geom_friction[floor].sliding", 0.05, 0.3, 1.5)],
    "HalfCheetah": [_GRAVITY, _scale("body_mass[torso]", 250, 250, 0.7, 1.5), _walk("geom_friction[floor].sliding", 0.05, 0.2, 1.2)],
    "Hopper": [_GRAVITY, _scale("body_mass[torso]", 250, 250, 0.7, 1.5), _walk("geom_friction[floor].sliding", 0.05, 0.4, 1.5)],
    "Humanoid": [_GRAVITY, _scale("body_mass[torso]", 250, 250, 0.8, 1.3), _walk("geom_friction[floor].sliding", 0.05, 0.4, 1.5)],
    "HumanoidStandup": [_GRAVITY, _scale("body_mass[torso]", 250, 250, 0.8, 1.3)],
    "InvertedPendulum": [_walk("body_mass[pole]", 0.5, 1.0, 12.0), _window("opt.gravity.z", 300, 100, -14.7)],
    "InvertedDoublePendulum": [_walk("body_mass[pole2]", 0.5, 1.0, 12.0), _window("opt.gravity.z", 300, 100, -14.7)],
    "Pusher": [_walk("geom_friction[table].sliding", 0.05, 0.3, 1.5, every=5), _scale("body_mass[object]", 50, 50, 0.5, 2.0)],
    "Reacher": [_walk("dof_damping[joint0]", 0.2, 0.1, 5.0, every=5), _walk("dof_damping[joint1]", 0.2, 0.1, 5.0, every=5)],
    "Swimmer": [_walk("opt.viscosity", 0.01, 0.0, 0.3), _scale("body_mass[torso]", 250, 250, 0.7, 1.5)],
    "Walker2d": [_GRAVITY, _scale("body_mass[torso]", 250, 250, 0.7, 1.5), _walk("geom_friction[floor].sliding", 0.05, 0.3, 1.5)],
}
_ENTRIES = {
    "Ant": ("ant_v5:AntEnv", 1000),
    "HalfCheetah": ("half_cheetah_v5:HalfCheetahEnv", 1000),
    "Hopper": ("hopper_v5:HopperEnv", 1000),
    "Humanoid": ("humanoid_v5:HumanoidEnv", 1000),
    "HumanoidStandup": ("humanoidstandup_v5:HumanoidStandupEnv", 1000),
    "InvertedPendulum": ("inverted_pendulum_v5:InvertedPendulumEnv", 1000),
    "InvertedDoublePendulum": ("inverted_double_pendulum_v5:InvertedDoublePendulumEnv", 1000),
    "Pusher": ("pusher_v5:PusherEnv", 100),
    "Reacher": ("reacher_v5:ReacherEnv", 50),
    "Swimmer": ("swimmer_v5:SwimmerEnv", 1000),
    "Walker2d": ("walker2d_v5:Walker2dEnv", 1000),
}
MUJOCO_IDS = tuple(f"driftgym/{name}-v5" for name in _ENTRIES)


def _describe(entry: dict[str, Any]) -> str:
    when = {k: v for k, v in entry.items() if k != "perturb"}
    return f"{when}: {entry['perturb']}"


def _doc(name: str, horizon: int) -> str:
    lines = "\n".join(f"    - {_describe(e)}" for e in SCHEDULES[name])
    return f"""driftgym/{name}-v5: gymnasium's {name}-v5 whose bodies and physics drift mid-episode.

    Spaces, rewards, start and termination are {name}-v5's (flat Box observations; under
    visibility "flag"/"magnitude"/"full" the changed bit and the magnitude are appended).
    Episodes truncate at ``horizon`` ({horizon}). Drift-able: every name of
    ``MujocoParamWorld.all_names()`` (body_mass[b], body_inertia[b].x/y/z,
    geom_friction[g].sliding/torsional/rolling, actuator_gear[a], dof_damping[j],
    dof_armature[j], dof_frictionloss[j], jnt_stiffness[j], opt.gravity.x/y/z, opt.wind.x/y/z,
    opt.density, opt.viscosity). Default schedule (random walks mean-revert by 0.05 and stay
    within their bounds; scale factors are drawn per episode):
{lines}
    Arguments: schedule, horizon, visibility, persist, render_mode, and {name}-v5's own kwargs.
    """


def _factory(name: str) -> Callable[..., MujocoNonStationary]:
    entry, horizon = _ENTRIES[name]
    return mujoco_drifting(f"driftgym/{name}-v5", f"gymnasium.envs.mujoco.{entry}", SCHEDULES[name], horizon, _doc(name, horizon))


ant = _factory("Ant")
half_cheetah = _factory("HalfCheetah")
hopper = _factory("Hopper")
humanoid = _factory("Humanoid")
humanoid_standup = _factory("HumanoidStandup")
inverted_pendulum = _factory("InvertedPendulum")
inverted_double_pendulum = _factory("InvertedDoublePendulum")
pusher = _factory("Pusher")
reacher = _factory("Reacher")
swimmer = _factory("Swimmer")
walker2d = _factory("Walker2d")
