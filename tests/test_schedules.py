"""Schedules and timelines: exact compile results, the wire format, errors, and properties."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftgym.perturbations import (
    At,
    Burst,
    Choice,
    DriftParam,
    Every,
    Noop,
    PerturbationError,
    Playback,
    PerturbationStream,
    Poisson,
    Ramp,
    SetParam,
    Timeline,
    TimelineEntry,
    Union,
    Window,
    schedule_from_wire,
)
from worlds import Params

NOOP = Noop()


def steps_of(schedule, horizon=100, seed=0):
    return schedule.compile(seed, horizon).steps()


def test_each_schedule_fires_at_the_documented_steps():
    assert steps_of(At(5, NOOP)) == [5]
    assert steps_of(At([30, 10, 10, 200], NOOP)) == [10, 30]
    assert steps_of(Every(25, NOOP)) == [0, 25, 50, 75]
    assert steps_of(Every(25, NOOP, start=10, until=60)) == [10, 35]
    assert steps_of(Window(90, 30, NOOP)) == [90]
    assert steps_of(Window(100, 3, NOOP)) == []
    assert steps_of(Burst(2, 3, NOOP, start=1, until=12)) == [1, 2, 6, 7, 11]
    assert steps_of(Ramp(95, 120, NOOP)) == [95, 96, 97, 98, 99]


def test_poisson_is_a_seeded_bernoulli_process():
    gaps = np.random.default_rng(np.random.SeedSequence(4, spawn_key=(0,))).geometric(0.1, int(10 + 6 * 10**0.5 + 8))
    arrivals = np.cumsum(gaps)
    assert arrivals[-1] >= 100
    assert steps_of(Poisson(0.1, NOOP), seed=4) == (arrivals[arrivals <= 100] - 1).tolist()
    assert steps_of(Poisson(0.1, NOOP), seed=4) != steps_of(Poisson(0.1, NOOP), seed=5)
    assert steps_of(Poisson(1.0, NOOP, start=97)) == [97, 98, 99]
    hazard = 0.5 * 0.9 ** np.arange(100)
    uniforms = np.random.default_rng(np.random.SeedSequence(4, spawn_key=(0,))).random(100)
    assert steps_of(Poisson(0.5, NOOP, decay=0.9), seed=4) == np.flatnonzero(uniforms < hazard).tolist()


def test_a_window_reverts_at_its_end():
    timeline = Window(3, 4, SetParam("g", 2.0)).compile(0, 10)
    assert timeline.plan()[3] == ((0, False),) and timeline.plan()[7] == ((0, True),)

    world, playback = Params(g=1.0), Playback(timeline, PerturbationStream(0))
    seen = []
    for step in range(10):
        playback.fire(world, step)
        seen.append(world.values["g"])
    assert seen == [1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0]
    assert [(e.step, e.phase, e.before, e.after) for e in playback.event_log] == [(3, "apply", 1.0, 2.0), (7, "revert", 2.0, 1.0)]


def test_union_children_draw_from_their_own_seeds():
    poisson = Poisson(0.2, NOOP)
    alone = Union(poisson).compile(9, 200)
    with_more = Union(poisson, Every(7, DriftParam("g", 1.0))).compile(9, 200)
    assert [e.step for e in with_more if e.source == 0] == [e.step for e in alone]


def test_same_step_entries_fire_in_source_order_and_reverts_first():
    schedule = Union(At(5, SetParam("a", 1.0)), Window(2, 3, SetParam("b", 1.0)), At(5, SetParam("c", 1.0)))
    timeline = schedule.compile(0, 10)
    order = [(timeline.entry(i).perturbation.param, revert) for i, revert in timeline.plan()[5]]
    assert order == [("b", True), ("a", False), ("c", False)]


def test_seed_independent_schedules_compile_once_and_random_parts_are_drawn_per_seed():
    deterministic = Every(1, DriftParam("g", 0.1))
    assert deterministic.compile(1, 50) is deterministic.compile(2, 50)
    mixed = Union(deterministic, At(10, {"kind": "set_param", "param": "g", "value": {"uniform": [0, 1]}}))
    first, second = mixed.compile(1, 50), mixed.compile(2, 50)
    assert first.entries[:10] == second.entries[:10]
    assert first != second
    assert mixed.compile(1, 50) == first and mixed.compile(1, 50).digest() == first.digest()


def test_choice_draws_from_its_pool_with_weights():
    pool = Choice([SetParam("g", 1.0), SetParam("g", 2.0)], weights=[1, 0])
    assert {e.perturbation.value for e in Every(1, pool).compile(0, 30)} == {1.0}
    with pytest.raises(PerturbationError, match=r"weights: choice needs 2 non-negative weights with a positive sum \(got \[1, -1\]\)"):
        Choice([SetParam("g", 1.0), SetParam("g", 2.0)], weights=[1, -1])


WIRE = [
    {"at": 120, "perturb": {"kind": "set_param", "param": "gravity", "value": 15.0}},
    {"every": 50, "start": 20, "perturb": {"kind": "scale_param", "param": "masspole", "factor": {"uniform": [1.5, 3.0]}}},
    {"poisson": 0.01, "perturb": {"kind": "step_param", "param": "length", "delta": 0.05}},
    {"window": [80, 20], "perturb": {"kind": "set_param", "param": "force_mag", "value": 5.0}},
    {"every": 1, "perturb": {"kind": "drift_param", "param": "gravity", "rate": 0.01, "max": 20.0}},
    {"at": [30, 60], "perturb": {"choice": [{"kind": "set_param", "param": "gravity", "value": 5.0}, {"kind": "noop"}], "weights": [3, 1]}},
    {"burst": [5, 10], "until": 100, "perturb": {"kind": "noop"}},
    {"ramp": [150, 160], "perturb": {"kind": "interpolate_param", "param": "gravity", "to": 20.0, "start": 150, "stop": 160}},
]


def test_the_wire_format_parses_and_round_trips():
    schedule = schedule_from_wire(WIRE)
    assert isinstance(schedule.schedules[3], Window) and isinstance(schedule.schedules[7], Ramp)
    assert schedule_from_wire(schedule.to_wire()) == schedule
    assert schedule_from_wire(json.loads(json.dumps(schedule.to_wire()))).compile(3, 200) == schedule.compile(3, 200)


@pytest.mark.parametrize(
    "wire, message",
    [
        ([{"evry": 5, "perturb": {"kind": "noop"}}], "schedule[0].evry: unknown key; did you mean 'every'? an entry takes one of at, every, poisson, window, burst, ramp"),
        ([{"perturb": {"kind": "noop"}}], "schedule[0]: an entry takes exactly one of at, every, poisson, window, burst, ramp (found none)"),
        ([{"at": 1, "every": 2, "perturb": {"kind": "noop"}}], "schedule[0]: an entry takes exactly one of at, every, poisson, window, burst, ramp (found both 'at' and 'every')"),
        ([{"every": 5, "strat": 2, "perturb": {"kind": "noop"}}], "schedule[0].strat: unknown key for a 'every' entry; did you mean 'start'? allowed: every, perturb, start, until"),
        ([{"every": 5}], "schedule[0].perturb: missing; every entry names the perturbation it fires"),
        ([{"every": 0, "perturb": {"kind": "noop"}}], "schedule[0].every: a whole number >= 1 (got 0)"),
        ([{"at": -1, "perturb": {"kind": "noop"}}], "schedule[0].at: a whole number >= 0 (got -1)"),
        ([{"poisson": 1.5, "perturb": {"kind": "noop"}}], "schedule[0].poisson: a rate per step in (0, 1] (got 1.5)"),
        ([{"window": [5], "perturb": {"kind": "noop"}}], "schedule[0].window: a pair [start, duration] (got [5])"),
        ([{"window": [5, 0], "perturb": {"kind": "noop"}}], "schedule[0].window duration: a whole number >= 1 (got 0)"),
        ([{"at": 1, "perturb": {"kind": "crush"}}], "schedule[0].perturb.kind: unknown perturbation kind 'crush'"),
        ([{"at": 1, "perturb": {"choice": [{"kind": "noop"}], "wieghts": [1]}}], "schedule[0].perturb.wieghts: a choice takes only 'choice' and 'weights'; did you mean 'weights'?"),
        ([{"at": 1, "perturb": {"choice": [{"kind": "nop"}]}}], "schedule[0].perturb.choice[0].kind: unknown perturbation kind 'nop'; did you mean 'noop'?"),
        ("every 5", "schedule: a list of entries (got str)"),
    ],
)
def test_bad_wire_entries_name_the_path_of_the_key(wire, message):
    with pytest.raises(PerturbationError) as error:
        schedule_from_wire(wire)
    assert str(error.value).startswith(message)


def test_compile_rejects_bad_horizons_and_seeds():
    with pytest.raises(PerturbationError, match=r"horizon must be a whole number >= 1 \(got 0\)"):
        At(1, NOOP).compile(0, 0)
    with pytest.raises(PerturbationError, match=r"seed must be a non-negative whole number or None \(got -3\)"):
        Poisson(0.5, NOOP).compile(-3, 10)


def test_timeline_prints_as_a_table_and_rejects_entries_outside_the_horizon():
    timeline = Union(At(3, SetParam("g", 2.0)), Window(5, 2, SetParam("g", 1.0))).compile(0, 10)
    assert str(timeline).splitlines()[0] == "step  until  kind       parameters"
    assert str(timeline).splitlines()[2] == "   3         set_param  param=g value=2"
    assert str(timeline).splitlines()[3] == "   5      7  set_param  param=g value=1"
    assert str(timeline).splitlines()[-1] == f"2 events over 10 steps, digest {timeline.digest()[:12]}"
    with pytest.raises(PerturbationError, match=r"timeline entry at step 10 lies outside \[0, 10\)"):
        Timeline([TimelineEntry(10, NOOP)], 10)


# --------------------------------------------------------------------------- properties

params = st.sampled_from(["gravity", "masspole", "length"])
numbers = st.floats(-5, 5, allow_nan=False)
kinds = st.one_of(
    st.builds(lambda p, v: {"kind": "set_param", "param": p, "value": v}, params, numbers),
    st.builds(lambda p, lo, w: {"kind": "scale_param", "param": p, "factor": {"uniform": [lo, lo + w]}}, params, st.floats(0.1, 2), st.floats(0, 2)),
    st.builds(lambda p, r: {"kind": "drift_param", "param": p, "rate": r, "min": -10.0, "max": 10.0}, params, numbers),
    st.builds(lambda p, s: {"kind": "random_walk_param", "param": p, "sigma": s}, params, st.floats(0, 1)),
    st.just({"kind": "noop"}),
)
perturbs = st.one_of(kinds, st.builds(lambda pool: {"choice": pool}, st.lists(kinds, min_size=1, max_size=3)))
steps = st.integers(0, 300)
entries = st.one_of(
    st.builds(lambda s, p: {"at": s, "perturb": p}, st.one_of(steps, st.lists(steps, max_size=5)), perturbs),
    st.builds(lambda n, s, p: {"every": n, "start": s, "perturb": p}, st.integers(1, 50), steps, perturbs),
    st.builds(lambda r, p: {"poisson": r, "perturb": p}, st.floats(0.001, 1), perturbs),
    st.builds(lambda s, d, p: {"window": [s, d], "perturb": p}, steps, st.integers(1, 100), perturbs),
    st.builds(lambda on, off, p: {"burst": [on, off], "perturb": p}, st.integers(1, 10), st.integers(0, 10), perturbs),
)
wire_schedules = st.lists(entries, max_size=6)


@given(wire_schedules, st.integers(0, 2**32), st.integers(1, 400))
def test_any_schedule_compiles_round_trips_and_stays_in_the_horizon(wire, seed, horizon):
    schedule = schedule_from_wire(wire)
    timeline = schedule.compile(seed, horizon)
    assert all(0 <= e.step < horizon for e in timeline)
    assert timeline.steps() == sorted(timeline.steps())
    again = Timeline.from_json(timeline.to_json())
    assert again == timeline and again.digest() == timeline.digest()
    assert schedule.compile(seed, horizon).digest() == timeline.digest()
    assert schedule_from_wire(schedule.to_wire()).compile(seed, horizon) == timeline


@given(wire_schedules, st.integers(0, 2**16), st.integers(1, 200))
def test_playback_returns_every_window_to_its_value_before(wire, seed, horizon):
    windows_only = [e for e in wire if "window" in e]
    timeline = schedule_from_wire(windows_only).compile(seed, horizon)
    world, playback = Params(gravity=9.8, masspole=0.1, length=0.5), Playback(timeline, PerturbationStream(seed))
    for step in range(horizon):
        playback.fire(world, step)
    playback.close(world)
    assert world.values == {"gravity": 9.8, "masspole": 0.1, "length": 0.5}
    assert len(playback.event_log) == sum(1 + (e.end < horizon) for e in timeline)


def test_overlapping_windows_on_one_parameter_unwind_like_a_stack():
    schedule = Union(Window(0, 3, SetParam("g", 5.0)), Window(1, 4, SetParam("g", 7.0)))
    world, playback = Params(g=9.8), Playback(schedule.compile(0, 10), PerturbationStream(0))
    seen = []
    for step in range(7):
        playback.fire(world, step)
        seen.append(world.values["g"])
    assert seen == [5.0, 7.0, 7.0, 7.0, 7.0, 9.8, 9.8]
    assert [(e.step, e.phase, e.before, e.after) for e in playback.event_log] == [
        (0, "apply", 9.8, 5.0),
        (1, "apply", 5.0, 7.0),
        (3, "revert", 7.0, 7.0),
        (5, "revert", 7.0, 9.8),
    ]


def test_a_kind_that_cannot_be_undone_is_refused_in_a_window_when_the_schedule_is_built():
    with pytest.raises(PerturbationError, match=r"schedule\[0\]\.perturb\.kind: restore_file cannot be undone, so it cannot run in a window"):
        schedule_from_wire([{"window": [3, 5], "perturb": {"kind": "restore_file"}}])


def test_windows_unwind_in_the_order_they_opened_when_one_is_seeded_and_one_is_not():
    # The seeded window sits after the fixed one in the timeline's store, yet opens first.
    schedule = schedule_from_wire([
        {"window": [10, 5], "perturb": {"kind": "set_param", "param": "g", "value": 30.0}},
        {"window": [5, 20], "perturb": {"kind": "set_param", "param": "g", "value": {"uniform": [20, 21]}}},
    ])
    timeline = schedule.compile(3, 40)
    seeded = [e for e in timeline if e.source == 1][0].perturbation.value
    world, playback = Params(g=9.8), Playback(timeline, PerturbationStream(0))
    seen = {}
    for step in range(30):
        playback.fire(world, step)
        seen[step] = world.values["g"]
    assert (seen[4], seen[5], seen[10], seen[15], seen[24], seen[25], seen[29]) == (9.8, seeded, 30.0, seeded, seeded, 9.8, 9.8)
