"""Worlds and the Gymnasium envs over them. ``register_envs()`` registers every driftgym id."""

import gymnasium as gym

from driftgym.envs.base import DriftEnv, World, seed_streams
from driftgym.envs.classic import NonStationary, ParamWorld

__all__ = ["ENV_IDS", "DriftEnv", "NonStationary", "ParamWorld", "World", "register_envs", "seed_streams"]

# id -> entry point; entry points are imported only when an id is made.
ENV_IDS = {
    "driftgym/CartPole-v1": "driftgym.envs.classic:cartpole",
    "driftgym/MountainCar-v0": "driftgym.envs.classic:mountain_car",
    "driftgym/MountainCarContinuous-v0": "driftgym.envs.classic:mountain_car_continuous",
    "driftgym/Pendulum-v1": "driftgym.envs.classic:pendulum",
    "driftgym/Acrobot-v1": "driftgym.envs.classic:acrobot",
    "driftgym/FileSystem-v0": "driftgym.envs.files:FileSystemEnv",
    "driftgym/HttpApi-v0": "driftgym.envs.api:HttpApiEnv",
    "driftgym/Services-v0": "driftgym.envs.services:ServicesEnv",
    "driftgym/FrozenLake-v1": "driftgym.envs.toy_text:FrozenLakeEnv",
    "driftgym/CliffWalking-v1": "driftgym.envs.toy_text:CliffWalkingEnv",
    "driftgym/Ant-v5": "driftgym.envs.mujoco:ant",
    "driftgym/HalfCheetah-v5": "driftgym.envs.mujoco:half_cheetah",
    "driftgym/Hopper-v5": "driftgym.envs.mujoco:hopper",
    "driftgym/Humanoid-v5": "driftgym.envs.mujoco:humanoid",
    "driftgym/HumanoidStandup-v5": "driftgym.envs.mujoco:humanoid_standup",
    "driftgym/InvertedPendulum-v5": "driftgym.envs.mujoco:inverted_pendulum",
    "driftgym/InvertedDoublePendulum-v5": "driftgym.envs.mujoco:inverted_double_pendulum",
    "driftgym/Pusher-v5": "driftgym.envs.mujoco:pusher",
    "driftgym/Reacher-v5": "driftgym.envs.mujoco:reacher",
    "driftgym/Swimmer-v5": "driftgym.envs.mujoco:swimmer",
    "driftgym/Walker2d-v5": "driftgym.envs.mujoco:walker2d",
    "driftgym/FileSystem-text-v0": "driftgym.envs.text:files_text",
    "driftgym/HttpApi-text-v0": "driftgym.envs.text:api_text",
    "driftgym/Services-text-v0": "driftgym.envs.text:services_text",
}


def register_envs() -> None:
    """Register every driftgym id with Gymnasium (idempotent)."""
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, disable_env_checker=False)
