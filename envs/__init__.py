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
}


def register_envs() -> None:
    """Register every driftgym id with Gymnasium (idempotent)."""
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, disable_env_checker=False)
