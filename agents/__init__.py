"""Baseline agents: ``random``, ``stale``, ``adaptive`` and ``oracle`` for every registered id.

>>> import gymnasium as gym, driftgym
>>> from driftgym import agents
>>> env = gym.make("driftgym/Pendulum-v1")
>>> agent = agents.make("adaptive", env)
>>> agents.names("driftgym/Pendulum-v1")
['adaptive', 'oracle', 'random', 'stale']
"""

from driftgym.agents import api, classic, files, mcts, mujoco, services, text, toy_text  # noqa: F401  (register the baselines of each env)
from driftgym.agents.base import Agent, RandomAgent, env_id_of, make, names, register_agent

__all__ = ["Agent", "RandomAgent", "env_id_of", "make", "names", "register_agent"]
