"""Hypothesis strategies that draw valid perturbations, schedules, timelines, actions and scenarios.

For stress-testing an agent (or an env) under drift::

    from hypothesis import given, settings
    from driftgym.perturbations import strategies as dg

    @settings(max_examples=50, deadline=None)
    @given(schedule=dg.schedules("driftgym/Services-v0", max_events=20), seed=dg.seeds())
    def test_my_agent_never_crashes(schedule, seed):
        env = gym.make("driftgym/Services-v0", schedule=schedule, horizon=60)
        obs, info = env.reset(seed=seed)
        ...

Every strategy draws only what the env accepts: its world's kinds (and ``noop``), parameter
values inside each kind's valid range, drift-able parameter names of a parameter world (kept
between half and twice their starting value), targets left to the seed (``pick``) rather than
named, since named files, fields and services depend on the generated world. Values are valid by
construction (``validate()`` is never relied on to reject), and everything shrinks towards the
smallest readable counterexample: fewer entries, omitted optional parameters, round numbers.

Values come in the wire format (plain dicts and lists, as in a scenario file), so a failing
example prints as something you can paste into ``schedule=``.

Hypothesis is an optional dependency: ``pip install 'driftgym[test]'``.
"""

from __future__ import annotations

try:
    import hypothesis.strategies  # noqa: F401  (checked before the modules below import it)
except ImportError as error:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "driftgym.perturbations.strategies needs Hypothesis, an optional dependency: "
        "pip install 'driftgym[test]'"
    ) from error

from driftgym.perturbations.strategies.action import action_sequences, actions
from driftgym.perturbations.strategies.perturbation import perturbations
from driftgym.perturbations.strategies.profiles import PARAM_LIMITS as PARAM_LIMITS
from driftgym.perturbations.strategies.profiles import WORLD_PARAMS as WORLD_PARAMS
from driftgym.perturbations.strategies.profiles import EnvLike as EnvLike
from driftgym.perturbations.strategies.profiles import EnvProfile, profile
from driftgym.perturbations.strategies.ranges import PARAM_FIELDS as PARAM_FIELDS
from driftgym.perturbations.strategies.ranges import UNIT_FIELDS as UNIT_FIELDS
from driftgym.perturbations.strategies.ranges import WORLD_NAMES as WORLD_NAMES
from driftgym.perturbations.strategies.ranges import Span as Span
from driftgym.perturbations.strategies.ranges import domain_fields as domain_fields
from driftgym.perturbations.strategies.ranges import number as number
from driftgym.perturbations.strategies.ranges import param_fields as param_fields
from driftgym.perturbations.strategies.ranges import transition_fields as transition_fields
from driftgym.perturbations.strategies.ranges import unit as unit
from driftgym.perturbations.strategies.scenario import scenarios
from driftgym.perturbations.strategies.schedule import schedules, seeds, timelines

__all__ = [
    "EnvProfile",
    "action_sequences",
    "actions",
    "perturbations",
    "profile",
    "scenarios",
    "schedules",
    "seeds",
    "timelines",
]
