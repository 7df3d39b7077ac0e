"""Perturbation kinds: construction from dicts, errors, random parameters, each parameter kind's effect."""

import math

import pytest

from driftgym.perturbations import (
    DriftParam,
    Event,
    PerturbationError,
    PerturbationStream,
    RandomValue,
    ScaleParam,
    digest_of,
    kind_names,
    perturbation_from_dict,
    pick_sorted,
)
from worlds import Params


def fire(spec: dict, step: int = 0, **values: float):
    world = Params(**values)
    change = perturbation_from_dict(spec).change(world, PerturbationStream(0), step)
    return change, world.values


def test_every_param_kind_is_registered_by_name():
    assert kind_names("params") == [
        "decay_param",
        "drift_param",
        "interpolate_param",
        "list_param",
        "oscillate_param",
        "polynomial_param",
        "random_walk_param",
        "scale_param",
        "set_param",
        "step_param",
    ]
    assert "noop" in kind_names("any")


@pytest.mark.parametrize(
    "spec, values, step, expected",
    [
        ({"kind": "set_param", "param": "g", "value": 12.5}, {"g": 9.8}, 0, 12.5),
        ({"kind": "scale_param", "param": "g", "factor": 2}, {"g": 9.8}, 0, 19.6),
        ({"kind": "scale_param", "param": "g", "factor": 3, "max": 20.0}, {"g": 9.8}, 0, 20.0),
        ({"kind": "step_param", "param": "g", "delta": -0.5}, {"g": 9.8}, 0, 9.3),
        ({"kind": "step_param", "param": "g", "delta": -5, "min": 6.0}, {"g": 9.8}, 0, 6.0),
        ({"kind": "drift_param", "param": "g", "rate": 0.25}, {"g": 1.0}, 7, 1.25),
        ({"kind": "oscillate_param", "param": "g", "amplitude": 2, "period": 40}, {"g": 1.0}, 10, 3.0),
        ({"kind": "oscillate_param", "param": "g", "amplitude": 2, "period": 40, "phase": math.pi}, {"g": 1.0}, 0, 1.0 + 2 * math.sin(math.pi)),
        ({"kind": "decay_param", "param": "g", "rate": 0.5, "to": 1.0}, {"g": 3.0}, 2, 1.0 + 2.0 * math.exp(-1.0)),
        ({"kind": "interpolate_param", "param": "g", "to": 20.0, "start": 10, "stop": 20}, {"g": 10.0}, 14, 15.0),
        ({"kind": "interpolate_param", "param": "g", "to": 20.0, "start": 10, "stop": 20}, {"g": 10.0}, 40, 20.0),
        ({"kind": "interpolate_param", "param": "g", "to": 20.0, "start": 10, "stop": 20, "shape": "sigmoid"}, {"g": 10.0}, 14, 15.0),
        ({"kind": "polynomial_param", "param": "g", "coefficients": [1.0, 0.5]}, {"g": 2.0}, 4, 2.0 + 4.0 + 8.0),
        ({"kind": "list_param", "param": "g", "values": [1, 2, 3]}, {"g": 9.8}, 0, 1.0),
        ({"kind": "list_param", "param": "g", "values": [1, 2, 3]}, {"g": 2.0}, 0, 3.0),
        ({"kind": "list_param", "param": "g", "values": [1, 2, 3]}, {"g": 3.0}, 0, 3.0),
        ({"kind": "list_param", "param": "g", "values": [1, 2, 3], "cycle": True}, {"g": 3.0}, 0, 1.0),
    ],
)
def test_each_param_kind_sets_the_documented_value(spec, values, step, expected):
    (target, before, after), now = fire(spec, step, **values)
    assert target == "g"
    assert before == values["g"]
    assert after == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert now["g"] == after


def test_random_walk_is_the_documented_update_with_the_stream_s_normals():
    spec = {"kind": "random_walk_param", "param": "g", "sigma": 0.5, "drift": 0.1, "reversion": 0.2, "mean": 10.0}
    stream, normals = PerturbationStream(7), PerturbationStream(7)
    world = Params(g=12.0)
    walk = perturbation_from_dict(spec)
    _, before, after = walk.change(world, stream, 0)
    assert after == pytest.approx(12.0 + 0.1 + 0.2 * (10.0 - 12.0) + 0.5 * normals.standard_normal(), rel=1e-15)
    assert walk.draws is True and DriftParam.draws is False


def test_perturbation_stream_serves_the_generator_s_draws_in_order():
    import numpy as np

    stream = PerturbationStream(3, (2,))
    generator = np.random.default_rng(np.random.SeedSequence(3, spawn_key=(2,)))
    expected = generator.standard_normal(64).tolist() + generator.standard_normal(64).tolist()[:6]
    assert [stream.standard_normal() for _ in range(70)] == expected


def test_every_param_kind_reverts_to_the_value_it_replaced():
    world = Params(g=9.8)
    kind = perturbation_from_dict({"kind": "scale_param", "param": "g", "factor": 2})
    target, before, _ = kind.change(world, None, 0)
    assert kind.revert(world, target, before, 5) == ("g", 19.6, 9.8)
    assert world.values["g"] == 9.8


def test_round_trip_through_a_plain_dict():
    spec = {"kind": "random_walk_param", "param": "gravity", "sigma": 0.1, "drift": 0.0, "reversion": 0.0, "min": 1.0}
    kind = perturbation_from_dict(spec)
    assert kind.to_dict() == {**spec, "sigma": 0.1, "min": 1.0}
    assert perturbation_from_dict(kind.to_dict()) == kind


def test_apply_returns_the_event():
    kind = DriftParam("g", rate=1.0)
    assert kind.apply(Params(g=1.0), None, step=3) == Event(3, "drift_param", "g", 1.0, 2.0, "apply")
    assert Event(3, "drift_param", "g", 1.0, 2.5).magnitude == 1.5
    assert Event(3, "crash", "db", "up", "down").magnitude == 1.0


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"kind": "drift_parm", "param": "g", "rate": 1}, "perturb.kind: unknown perturbation kind 'drift_parm'; did you mean 'drift_param'? known kinds: "),
        ({"param": "g"}, "perturb: missing 'kind'; known kinds: "),
        ({"kind": "drift_param", "param": "g", "rat": 1}, "perturb.rat: drift_param has no parameter 'rat'; did you mean 'rate'? accepted: param, rate, min, max"),
        ({"kind": "drift_param", "param": "g"}, "perturb.rate: drift_param needs parameter 'rate' (a number)"),
        ({"kind": "drift_param", "param": "g", "rate": "fast"}, "perturb.rate: drift_param parameter 'rate' must be a number (got 'fast')"),
        ({"kind": "drift_param", "param": "g", "rate": True}, "perturb.rate: drift_param parameter 'rate' must be a number (got True)"),
        ({"kind": "drift_param", "param": 3, "rate": 1}, "perturb.param: drift_param parameter 'param' must be a name (got 3)"),
        ({"kind": "scale_param", "param": "g", "factor": 2, "min": 5, "max": 1}, "perturb.min: scale_param needs min <= max (got min=5.0, max=1.0)"),
        ({"kind": "scale_param", "param": "g", "factor": {"uniform": [3, 1]}}, "perturb.factor: uniform needs low <= high (got [3, 1])"),
        ({"kind": "scale_param", "param": "g", "factor": {"normal": [1, -1]}}, "perturb.factor: normal needs std >= 0 (got -1)"),
        ({"kind": "oscillate_param", "param": "g", "amplitude": 1, "period": 0}, "perturb.period: oscillate_param needs period > 0 (got 0.0)"),
        ({"kind": "interpolate_param", "param": "g", "to": 1, "start": 5, "stop": 5}, "perturb.stop: interpolate_param needs stop > start (got 5, 5)"),
        ({"kind": "interpolate_param", "param": "g", "to": 1, "start": 0, "stop": 5, "shape": "cubic"}, "perturb.shape: interpolate_param parameter 'shape' must be one of 'linear', 'sigmoid' (got 'cubic')"),
        ({"kind": "list_param", "param": "g", "values": []}, "perturb.values: list_param needs at least one value"),
        ("drift", "perturb: a perturbation is a mapping with a 'kind' (got 'drift')"),
    ],
)
def test_bad_perturbations_get_errors_that_name_the_key(spec, message):
    with pytest.raises(PerturbationError) as error:
        perturbation_from_dict(spec)
    assert str(error.value).startswith(message)


def test_random_parameters_resolve_from_the_rng_and_keep_their_type():
    import numpy as np

    kind = perturbation_from_dict({"kind": "scale_param", "param": "g", "factor": {"uniform": [1.5, 3.0]}})
    assert kind.random is True
    assert isinstance(kind.factor, RandomValue)
    resolved = kind.resolve(np.random.default_rng(5))
    assert resolved.factor == float(np.random.default_rng(5).uniform(1.5, 3.0))
    assert resolved.random is False and resolved.resolve(None) is resolved
    assert RandomValue("integers", (1, 3)).draw(np.random.default_rng(0)) in (1, 2, 3)
    assert RandomValue("choice", ("a", "b")).draw(np.random.default_rng(0)) in ("a", "b")


def test_canonical_digests_do_not_depend_on_key_order():
    assert digest_of({"b": 1, "a": [1.5, "x"]}) == digest_of({"a": [1.5, "x"], "b": 1})
    assert digest_of({"a": 1}) == "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"


def test_pick_sorted_resolves_against_the_sorted_order():
    assert pick_sorted(["db", "api", "cache"], 0.0) == "api"
    assert pick_sorted(["db", "api", "cache"], 0.5) == "cache"
    assert pick_sorted(["db", "api", "cache"], 0.999) == "db"
    assert pick_sorted([], 0.3) is None


def test_scale_param_dataclass_constructor_validates_too():
    with pytest.raises(PerturbationError, match="factor: scale_param parameter 'factor' must be a number"):
        ScaleParam("g", factor="big")
