"""Drawing a scenario in its file form for one env id: :func:`scenarios`."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from driftgym.perturbations.strategies.profiles import _check_horizon, profile
from driftgym.perturbations.strategies.schedule import schedules

@st.composite
def _scenario(draw: Any, env_id: str, max_horizon: int, max_events: int, max_seeds: int, agent_names: list[str]) -> dict[str, Any]:
    horizon = draw(st.integers(1, max_horizon))
    return {
        "id": "generated",
        "env": env_id,
        "horizon": horizon,
        "visibility": draw(st.sampled_from(["hidden", "flag", "magnitude", "full"])),
        "schedule": draw(schedules(env_id, max_events=max_events, horizon=horizon)),
        "seeds": sorted(draw(st.sets(st.integers(0, 10_000), min_size=1, max_size=max_seeds))),
        "agents": draw(st.lists(st.sampled_from(agent_names), min_size=1, max_size=2, unique=True)),
        "probe": {"every": draw(st.integers(1, max(1, horizon))), "facts": draw(st.integers(1, 8))},
    }


def scenarios(env_id: str, *, max_horizon: int = 50, max_events: int = 20, max_seeds: int = 2) -> SearchStrategy[dict[str, Any]]:
    """A scenario in its file form (a dict ``Scenario.from_dict`` accepts) for one env id:
    a horizon up to ``max_horizon``, a visibility, a schedule, seeds and baseline agents."""
    from driftgym import agents

    profile(env_id)  # makes the env once: an unknown id fails here, by name
    names = agents.names(env_id)
    if not names:
        raise ValueError(f"no agent is registered for {env_id}")
    return _scenario(env_id, _check_horizon(max_horizon), max_events, max_seeds, names)
