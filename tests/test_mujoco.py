"""MuJoCo v5 ids: named parameters, mj_setConst only on need, trajectories, copies, the extra.

These run headless (no rendering) and need the ``mujoco`` extra, which CI installs.
"""

import subprocess
import sys
import textwrap
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import driftgym  # noqa: F401
from driftgym import agents
from driftgym.envs.mujoco import MUJOCO_IDS
from driftgym.perturbations import PerturbationError

warnings.filterwarnings("ignore", message=".*settotalmass.*")


def rollout(env, seed, steps=30):
    obs, _ = env.reset(seed=seed)
    actions = np.random.default_rng(seed).uniform(env.action_space.low, env.action_space.high, (steps, env.action_space.shape[0]))
    trajectory = [obs]
    for action in actions.astype(env.action_space.dtype):
        obs, *_ = env.step(action)
        trajectory.append(obs)
    return np.array(trajectory)


def at_zero(param, value):
    return [{"at": 0, "perturb": {"kind": "set_param", "param": param, "value": value}}]


@pytest.mark.parametrize("env_id", MUJOCO_IDS)
def test_check_env_passes_and_baselines_run(env_id):
    env = gym.make(env_id)
    check_env(env, skip_render_check=True)  # headless: MuJoCo's renderer is not ours
    agent = agents.make("stale", env)
    obs, info = env.reset(seed=0)
    agent.reset(0)
    for _ in range(5):
        obs, *_ = env.step(agent.act(obs, info))
        assert env.observation_space.contains(obs)


@pytest.mark.parametrize(("param", "value"), [("opt.gravity.z", -20.0), ("body_mass[torso]", 20.0), ("geom_friction[floor].sliding", 2.0)])
def test_a_drift_changes_the_trajectory_for_the_same_seed_and_actions(param, value):
    plain = rollout(gym.make("driftgym/HalfCheetah-v5", schedule=[]), seed=1)
    drifted = rollout(gym.make("driftgym/HalfCheetah-v5", schedule=at_zero(param, value)), seed=1)
    assert np.array_equal(plain[0], drifted[0])
    assert not np.array_equal(plain[-1], drifted[-1])
    again = rollout(gym.make("driftgym/HalfCheetah-v5", schedule=at_zero(param, value)), seed=1)
    assert np.array_equal(drifted, again)


def test_names_address_the_model_fields():
    env = gym.make("driftgym/HalfCheetah-v5", schedule=[])
    env.reset(seed=0)
    world = env.get_wrapper_attr("world")
    model = env.unwrapped.model
    assert world.get_param("geom_friction[floor].sliding") == float(model.geom_friction[0, 0]) == 0.4
    world.set_param("geom_friction[floor].rolling", 0.25)
    world.set_param("body_inertia[torso].y", 0.5)
    world.set_param("actuator_gear[bthigh]", 60.0)
    world.set_param("dof_damping[bthigh]", 3.5)
    world.set_param("opt.viscosity", 0.2)
    torso = model.body("torso").id
    assert (model.geom_friction[0, 2], model.body_inertia[torso, 1], model.actuator_gear[0, 0]) == (0.25, 0.5, 60.0)
    assert model.dof_damping[model.jnt_dofadr[model.joint("bthigh").id]] == 3.5
    assert model.opt.viscosity == 0.2
    ant = gym.make("driftgym/Ant-v5", schedule=[]).get_wrapper_attr("world")
    assert "actuator_gear[hip_1]" in ant.names  # unnamed actuators go by the joint they drive


def test_mj_set_const_runs_once_per_step_and_only_when_a_derived_constant_changed():
    schedule = [
        {"every": 1, "perturb": {"kind": "step_param", "param": "opt.gravity.z", "delta": -0.01}},
        {"every": 1, "perturb": {"kind": "step_param", "param": "geom_friction[floor].sliding", "delta": 0.001}},
        {"every": 5, "perturb": {"kind": "scale_param", "param": "body_mass[torso]", "factor": 1.1}},
        {"every": 5, "perturb": {"kind": "scale_param", "param": "body_mass[bthigh]", "factor": 1.1}},
    ]
    env = gym.make("driftgym/HalfCheetah-v5", schedule=schedule)
    env.reset(seed=0)
    world = env.get_wrapper_attr("world")
    model = env.unwrapped.model
    total = float(model.body_subtreemass[0])
    start = world.const_updates
    for _ in range(12):
        env.step(env.action_space.sample())
    assert world.const_updates - start == 3  # steps 0, 5, 10
    torso = model.body("torso").id
    assert model.body_subtreemass[0] == pytest.approx(total + (1.1**3 - 1) * (world.built["body_mass[torso]"] + world.built["body_mass[bthigh]"]))
    assert model.body_mass[torso] == pytest.approx(world.built["body_mass[torso]"] * 1.1**3)
    calm = gym.make("driftgym/HalfCheetah-v5", schedule=schedule[:2])
    calm.reset(seed=0)
    calm_world = calm.get_wrapper_attr("world")
    before = calm_world.const_updates
    for _ in range(12):
        calm.step(calm.action_space.sample())
    assert calm_world.const_updates == before


def test_reset_restores_the_model_as_built_and_persist_keeps_it():
    for persist, expected in ((False, -9.81), (True, -5.0)):
        env = gym.make("driftgym/Hopper-v5", schedule=at_zero("opt.gravity.z", -5.0), persist=persist)
        env.reset(seed=0)
        env.step(env.action_space.sample())
        assert env.unwrapped.model.opt.gravity[2] == -5.0
        env.reset(seed=0)
        assert env.unwrapped.model.opt.gravity[2] == expected


def test_planning_copies_have_their_own_model_and_data():
    env = gym.make("driftgym/HalfCheetah-v5", schedule=at_zero("body_mass[torso]", 12.0))
    env.reset(seed=0)
    env.step(env.action_space.sample())
    digest = env.get_wrapper_attr("world_digest")()
    current = env.get_wrapper_attr("planning_copy")("current")
    initial = env.get_wrapper_attr("planning_copy")("initial")
    torso = current.model.body("torso").id
    assert current.model.body_mass[torso] == 12.0
    assert initial.model.body_mass[torso] == env.get_wrapper_attr("world").built["body_mass[torso]"]
    assert np.array_equal(current.data.qpos, env.unwrapped.data.qpos)
    for _ in range(5):
        current.step(np.ones(6, np.float32))
        initial.step(np.ones(6, np.float32))
    assert env.get_wrapper_attr("world_digest")() == digest
    assert env.unwrapped.model.body_mass[torso] == 12.0


def test_unknown_names_list_what_the_model_has():
    with pytest.raises(PerturbationError, match=r"schedule: driftgym/HalfCheetah-v5: body_mass: the model has no body 'torsoo'; did you mean 'torso'\? bodies: torso, bthigh, bshin, bfoot, fthigh, fshin, ffoot"):
        gym.make("driftgym/HalfCheetah-v5", schedule=at_zero("body_mass[torsoo]", 1.0))
    with pytest.raises(PerturbationError, match=r"geom_friction: the model has no geom 'flor'; did you mean 'floor'\? geoms: floor, torso, head, "):
        gym.make("driftgym/HalfCheetah-v5", schedule=at_zero("geom_friction[flor].sliding", 1.0))
    with pytest.raises(PerturbationError, match=r"geom_friction\[floor\].slide: geom_friction needs a component, one of .sliding, .torsional, .rolling"):
        gym.make("driftgym/HalfCheetah-v5", schedule=at_zero("geom_friction[floor].slide", 1.0))
    with pytest.raises(PerturbationError, match=r"no physics option 'opt.gravity.w'"):
        gym.make("driftgym/HalfCheetah-v5", schedule=at_zero("opt.gravity.w", 1.0))
    with pytest.raises(PerturbationError, match=r"no drift-able field 'body_masses'; did you mean 'body_mass'\?"):
        gym.make("driftgym/HalfCheetah-v5", schedule=at_zero("body_masses[torso]", 1.0))


def test_visibility_flag_appends_the_changed_bit():
    env = gym.make("driftgym/Reacher-v5", schedule=[{"at": 1, "perturb": {"kind": "set_param", "param": "dof_damping[joint0]", "value": 2.0}}], visibility="flag")
    env.reset(seed=0)
    bits = [env.step(np.zeros(2, np.float32))[0][-1] for _ in range(3)]
    assert env.observation_space.shape == (11,)
    assert bits == [0.0, 1.0, 0.0]


def test_driftgym_imports_without_mujoco_and_the_ids_name_the_extra():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["mujoco"] = None  # as if it were not installed
        import gymnasium as gym, driftgym
        try:
            gym.make("driftgym/HalfCheetah-v5")
        except gym.error.DependencyNotInstalled as error:
            print(error)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("driftgym/HalfCheetah-v5 needs MuJoCo, which is not installed")
    assert result.stdout.strip().endswith(": pip install 'driftgym[mujoco]'")
