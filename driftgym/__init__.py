"""driftgym: Gymnasium environments whose world changes under the agent.

``import driftgym`` registers every id (``gym.make("driftgym/CartPole-v1")``); the module-prefix
form ``gym.make("driftgym:driftgym/CartPole-v1")`` works with no import at all.
"""

from driftgym.envs import ENV_IDS, DriftEnv, NonStationary, World, register_envs
from driftgym.perturbations import (
    At,
    Burst,
    Choice,
    Event,
    Every,
    Perturbation,
    PerturbationError,
    Poisson,
    Ramp,
    Schedule,
    Timeline,
    Union,
    Window,
    kind_names,
    perturbation_from_dict,
    schedule_from_wire,
)

__version__ = "0.1.0"

register_envs()

__all__ = [
    "ENV_IDS",
    "At",
    "Burst",
    "Choice",
    "DriftEnv",
    "Event",
    "Every",
    "NonStationary",
    "Perturbation",
    "PerturbationError",
    "Poisson",
    "Ramp",
    "Schedule",
    "Timeline",
    "Union",
    "Window",
    "World",
    "__version__",
    "kind_names",
    "perturbation_from_dict",
    "register_envs",
    "schedule_from_wire",
]
