"""driftgym/Services-v0: on-call incident response over a microservice graph."""

import driftgym.perturbations.services  # noqa: F401  (registers the service kinds until the lead wires it)
from driftgym.envs.services.env import OPERATIONS, ServicesEnv
from driftgym.envs.services.world import Dynamics, HEALTH, ServiceGraph

__all__ = ["Dynamics", "HEALTH", "OPERATIONS", "ServiceGraph", "ServicesEnv"]
