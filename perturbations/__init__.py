"""What changes (perturbation kinds) and when (schedules, compiled to timelines).

>>> from driftgym.perturbations import Every, DriftParam
>>> timeline = Every(1, DriftParam("gravity", rate=0.01)).compile(seed=0, horizon=3)
>>> [e.step for e in timeline]
[0, 1, 2]
"""

from driftgym.perturbations.core import (
    Event,
    Perturbation,
    PerturbationError,
    RandomValue,
    canonical_json,
    digest_of,
    kind_names,
    kinds,
    perturbation_from_dict,
    pick_sorted,
    register_kind,
    suggest,
)
from driftgym.perturbations.params import (
    DecayParam,
    DriftParam,
    InterpolateParam,
    ListParam,
    Noop,
    OscillateParam,
    PolynomialParam,
    RandomWalkParam,
    ScaleParam,
    SetParam,
    StepParam,
)
from driftgym.perturbations.schedules import (
    At,
    Burst,
    Choice,
    Every,
    Poisson,
    Ramp,
    Schedule,
    Union,
    Window,
)
from driftgym.perturbations.timeline import EventLog, Playback, PerturbationStream, Timeline, TimelineEntry
from driftgym.perturbations.wire import as_schedule, schedule_from_wire

# The kinds of each domain world register on import (they never import an env).
from driftgym.perturbations import api, distributions, files, services  # noqa: E402,F401  isort: skip

__all__ = [
    "At",
    "Burst",
    "Choice",
    "DecayParam",
    "DriftParam",
    "Event",
    "EventLog",
    "Every",
    "InterpolateParam",
    "ListParam",
    "Noop",
    "OscillateParam",
    "Perturbation",
    "PerturbationError",
    "Playback",
    "PerturbationStream",
    "Poisson",
    "PolynomialParam",
    "Ramp",
    "RandomValue",
    "RandomWalkParam",
    "ScaleParam",
    "Schedule",
    "SetParam",
    "StepParam",
    "Timeline",
    "TimelineEntry",
    "Union",
    "Window",
    "as_schedule",
    "canonical_json",
    "digest_of",
    "kind_names",
    "kinds",
    "perturbation_from_dict",
    "pick_sorted",
    "register_kind",
    "schedule_from_wire",
    "suggest",
]
