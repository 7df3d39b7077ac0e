"""Metrics on hand-built traces with known answers, exact errors, and properties."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftgym.scenarios.metrics import (
    accuracy_by_step,
    adaptation,
    answers_match,
    area_under_curve,
    bootstrap_ci,
    brier_score,
    dynamic_regret,
    episode_adaptation,
    expected_calibration_error,
    paired_difference,
    probe_accuracy,
    summarise,
)

# 20 steps at 1.0, the change at step 20 drops reward to 0.0 for 10 steps, then back to 1.0.
STEP_DROP = [1.0] * 20 + [0.0] * 10 + [1.0] * 20


def probe(answer, truth=1, confidence=None, step=0, key="svc:db:health"):
    return {"step": step, "key": key, "truth": truth, "answer": answer, "confidence": confidence}


# --------------------------------------------------------------------------- adaptation


def test_step_drop_has_known_drop_and_recovery_step():
    result = adaptation(STEP_DROP, 20, window=20, tolerance=0.1, smoothing=5)
    # m(30) = 0.2, m(31) = 0.4, ..., m(34) = 1.0: the first rolling mean >= 0.9 is at step 34.
    assert result == {
        "event_step": 20, "pre": 1.0, "post": 0.5, "drop": 1.0,
        "recovery_time": 14, "censored": False, "auc": 10.0,
    }


def test_wider_tolerance_recovers_earlier():
    assert adaptation(STEP_DROP, 20, tolerance=0.2, smoothing=5)["recovery_time"] == 13  # m(33) = 0.8
    assert adaptation(STEP_DROP, 20, tolerance=0.0, smoothing=1)["recovery_time"] == 10
    assert adaptation(STEP_DROP, 20, tolerance=1.0, smoothing=5)["recovery_time"] == 0


def test_no_drop_recovers_at_once_and_a_rise_counts_as_recovered():
    flat = adaptation([2.0] * 40, 20)
    assert (flat["drop"], flat["recovery_time"], flat["censored"]) == (0.0, 0, False)
    rise = adaptation([1.0] * 20 + [3.0] * 20, 20)
    assert (rise["drop"], rise["recovery_time"], rise["post"]) == (-2.0, 0, 3.0)


def test_never_recovering_is_censored_at_the_window():
    result = adaptation([1.0] * 20 + [0.0] * 30, 20, window=20)
    assert (result["drop"], result["recovery_time"], result["censored"]) == (1.0, 20, True)
    assert (result["post"], result["auc"]) == (0.0, 0.0)


def test_recovery_cut_by_the_next_event_is_censored_there():
    result = adaptation(STEP_DROP, 20, window=20, next_event=28)
    assert (result["recovery_time"], result["censored"], result["post"], result["auc"]) == (8, True, 0.0, 0.0)


def test_recovery_cut_by_the_end_of_the_trace_is_censored_there():
    result = adaptation([1.0] * 10 + [0.0] * 5, 10, window=20)
    assert (result["recovery_time"], result["censored"]) == (5, True)


def test_event_at_step_zero_has_no_pre_level():
    result = adaptation([0.0, 1.0, 1.0], 0, window=2)
    assert result == {
        "event_step": 0, "pre": None, "post": 0.5, "drop": None,
        "recovery_time": None, "censored": False, "auc": 1.0,
    }


def test_previous_event_bounds_the_pre_window():
    assert adaptation(STEP_DROP + [0.0] * 5, 35, window=20)["pre"] == 0.5  # [15, 35)
    assert adaptation(STEP_DROP + [0.0] * 5, 35, window=20, previous_event=20)["pre"] == 5 / 15  # [20, 35)


def test_episode_adaptation_censors_each_event_at_the_next():
    rewards = [1.0] * 20 + [0.0] * 10 + [1.0] * 20 + [0.5] * 30
    first, second = episode_adaptation(rewards, [50, 20, 20], window=20, tolerance=0.1, smoothing=5)
    assert (first["event_step"], first["recovery_time"], first["censored"]) == (20, 14, False)
    assert (second["event_step"], second["pre"], second["drop"]) == (50, 1.0, 0.5)
    assert (second["recovery_time"], second["censored"]) == (20, True)
    cut = episode_adaptation(STEP_DROP, [20, 26])[0]
    assert (cut["recovery_time"], cut["censored"]) == (6, True)
    assert episode_adaptation(STEP_DROP, []) == []


def test_area_under_curve_is_the_sum_of_rewards():
    assert area_under_curve([1.0, 2.0, 3.5]) == 6.5
    assert area_under_curve([]) == 0.0
    assert area_under_curve(np.array([0.1] * 10)) == 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window": 0}, r"window must be an integer >= 1, got 0"),
        ({"smoothing": 0}, r"smoothing must be an integer >= 1, got 0"),
        ({"window": 2.5}, r"window must be an integer, got 2.5"),
        ({"tolerance": -0.1}, r"tolerance must be a finite number >= 0 \(reward units\), got -0.1"),
        ({"tolerance": math.nan}, r"tolerance must be a finite number >= 0"),
        ({"event_step": -1}, r"event_step must be in \[0, 49\] \(a step of rewards\), got -1"),
        ({"event_step": 50}, r"event_step must be in \[0, 49\] \(a step of rewards\), got 50"),
        ({"next_event": 20}, r"next_event must be > event_step \(20\), got 20"),
        ({"previous_event": 25}, r"previous_event must be < event_step \(20\), got 25"),
    ],
)
def test_adaptation_rejects_bad_arguments(kwargs, message):
    arguments = {"rewards": STEP_DROP, "event_step": 20, **kwargs}
    with pytest.raises(ValueError, match=message):
        adaptation(**arguments)


@pytest.mark.parametrize(
    ("rewards", "message"),
    [
        ([], r"rewards must hold at least one step, got an empty sequence"),
        ([1.0, math.nan], r"rewards must be finite numbers \(no NaN or inf\)"),
        ([[1.0], [2.0]], r"rewards must be a 1-D sequence of numbers, got shape \(2, 1\)"),
        (["a"], r"rewards must be a 1-D sequence of numbers"),
    ],
)
def test_adaptation_rejects_bad_rewards(rewards, message):
    with pytest.raises(ValueError, match=message):
        adaptation(rewards, 0)


def test_episode_adaptation_rejects_an_event_outside_the_rewards():
    with pytest.raises(ValueError, match=r"event_step must be in \[0, 49\].*got 60"):
        episode_adaptation(STEP_DROP, [20, 60])
    with pytest.raises(ValueError, match=r"event_steps\[1\] must be an integer, got 'x'"):
        episode_adaptation(STEP_DROP, [20, "x"])


# --------------------------------------------------------------------------- dynamic regret


def test_dynamic_regret_over_the_common_length():
    assert dynamic_regret([1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]) == {
        "total": 1.0, "per_step": 1 / 3, "steps": 3, "curve": [0.0, 1.0, 1.0],
    }


def test_dynamic_regret_pads_a_short_episode_when_asked():
    assert dynamic_regret([1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0], missing=0.0) == {
        "total": 2.0, "per_step": 0.5, "steps": 4, "curve": [0.0, 1.0, 1.0, 2.0],
    }


def test_dynamic_regret_is_negative_when_the_agent_beats_the_oracle():
    assert dynamic_regret([2.0, 2.0], [1.0, 1.0])["total"] == -2.0


def test_dynamic_regret_rejects_empty_and_bad_input():
    with pytest.raises(ValueError, match=r"rewards and oracle_rewards have no step in common"):
        dynamic_regret([], [1.0])
    with pytest.raises(ValueError, match=r"oracle_rewards must be finite numbers"):
        dynamic_regret([1.0], [math.inf])
    with pytest.raises(ValueError, match=r"missing must be None or a finite number, got 'zero'"):
        dynamic_regret([1.0], [1.0], missing="zero")


# --------------------------------------------------------------------------- world-model accuracy


def test_perfectly_calibrated_agent():
    probes = [probe(1, confidence=0.8)] * 8 + [probe(0, confidence=0.8)] * 2
    assert expected_calibration_error(probes) == 0.0
    assert brier_score(probes) == 0.16
    assert probe_accuracy(probes)["accuracy"] == 0.8


def test_maximally_overconfident_agent():
    probes = [probe(0, confidence=1.0)] * 5
    assert expected_calibration_error(probes) == 1.0
    assert brier_score(probes) == 1.0
    assert probe_accuracy(probes)["accuracy"] == 0.0


def test_ece_weights_each_bin_by_its_share():
    probes = [probe(1, confidence=0.9), probe(0, confidence=0.9), probe(1, confidence=0.3), probe(0, confidence=0.3)]
    # bin 9: |1 - 1.8| = 0.8, bin 3: |1 - 0.6| = 0.4 -> 1.2 / 4
    assert expected_calibration_error(probes) == pytest.approx(0.3, abs=1e-15)
    assert expected_calibration_error(probes, bins=1) == pytest.approx(0.1, abs=1e-15)  # |2 - 2.4| / 4
    with pytest.raises(ValueError, match=r"bins must be an integer >= 1, got 0"):
        expected_calibration_error(probes, bins=0)


def test_abstentions_are_counted_apart():
    probes = [probe(1), probe(1, confidence=0.5), probe(0, confidence=0.5), probe(None), probe(None, confidence=0.9)]
    assert probe_accuracy(probes) == {
        "probes": 5, "answered": 3, "abstained": 2, "correct": 2, "accuracy": 2 / 3, "coverage": 0.6,
    }
    # only the two answered probes with a confidence are scored for calibration
    assert brier_score(probes) == 0.25
    assert expected_calibration_error(probes) == 0.0


def test_nothing_answered_gives_none_not_nan():
    assert probe_accuracy([probe(None)] * 3) == {
        "probes": 3, "answered": 0, "abstained": 3, "correct": 0, "accuracy": None, "coverage": 0.0,
    }
    assert probe_accuracy([])["coverage"] is None
    assert brier_score([probe(1)]) is None
    assert expected_calibration_error([probe(None, confidence=0.5)]) is None


def test_answers_match_rules():
    assert answers_match(1.0, 1.0 + 1e-12)
    assert not answers_match(1.0, 1.001)
    assert answers_match(1.0, 1.001, rel_tol=0.01)
    assert answers_match(3, 3.0)
    assert not answers_match(True, 1)
    assert answers_match(np.bool_(True), True)
    assert answers_match(np.int64(4), 4)
    assert answers_match("degraded", "degraded") and not answers_match("up", "down")
    assert answers_match((1, 2.0), [1, 2.0 + 1e-12])
    assert not answers_match([1, 2], [1, 2, 3])
    assert answers_match({"a": [0.5]}, {"a": [0.5]}) and not answers_match({"a": 1}, {"b": 1})
    assert not answers_match("1", 1) and not answers_match([1], 1)


def test_float_answers_use_the_relative_tolerance():
    probes = [probe(0.3, truth=0.1 + 0.2), probe(0.31, truth=0.3)]
    assert probe_accuracy(probes)["correct"] == 1
    assert probe_accuracy(probes, rel_tol=0.1)["correct"] == 2


def test_accuracy_by_step_in_step_order():
    probes = [probe(1, step=10), probe(0, step=10), probe(1, step=3), probe(None, step=7)]
    assert accuracy_by_step(probes) == [(3, 1.0), (7, None), (10, 0.5)]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"step": 0, "answer": 1}, r"probes\[0\] is missing 'truth' \(needs step, truth, answer\)"),
        ({"step": -2, "truth": 1, "answer": 1}, r"probes\[0\]\['step'\] must be an integer >= -1, got -2"),
        ({"step": 0, "truth": 1, "answer": 1, "confidence": 1.5},
         r"probes\[0\]\['confidence'\] must be in \[0, 1\] or None, got 1.5"),
        ({"step": 0, "truth": 1, "answer": 1, "confidence": "high"},
         r"probes\[0\]\['confidence'\] must be a number in \[0, 1\] or None"),
        ([0, 1, 1], r"probes\[0\] must be a mapping, got list"),
    ],
)
def test_bad_probe_records_are_rejected(record, message):
    with pytest.raises(ValueError, match=message):
        probe_accuracy([record])


# --------------------------------------------------------------------------- spread over seeds


def test_bootstrap_is_deterministic_for_a_seed_and_contains_the_mean():
    values = [0.1, 0.5, 0.2, 0.9, 0.4, 0.7]
    first = bootstrap_ci(values, seed=3)
    assert first == bootstrap_ci(values, seed=3)
    assert first != bootstrap_ci(values, seed=4)
    mean, low, high = first
    assert mean == pytest.approx(2.8 / 6, abs=1e-15)
    assert low < mean < high


def test_bootstrap_interval_shrinks_with_more_data():
    rng = np.random.default_rng(7)
    small = bootstrap_ci(rng.normal(size=10).tolist())
    large = bootstrap_ci(rng.normal(size=1000).tolist())
    assert large[2] - large[1] < (small[2] - small[1]) / 4


def test_bootstrap_of_one_value_and_of_nothing():
    assert bootstrap_ci([2.5]) == (2.5, 2.5, 2.5)
    assert bootstrap_ci([0.1, 0.1, 0.1]) == (0.1, 0.1, 0.1)
    with pytest.raises(ValueError, match=r"values must hold at least one number to summarise, got an empty sequence"):
        bootstrap_ci([])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"confidence": 1.0}, r"confidence must be a number strictly between 0 and 1, got 1.0"),
        ({"confidence": 0}, r"confidence must be a number strictly between 0 and 1, got 0"),
        ({"resamples": 0}, r"resamples must be an integer >= 1, got 0"),
        ({"seed": -1}, r"seed must be an integer >= 0, got -1"),
    ],
)
def test_bootstrap_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bootstrap_ci([1.0, 2.0], **kwargs)


def test_paired_difference_of_identical_agents_is_exactly_zero():
    scores = {0: 0.31, 1: 0.77, 2: 0.12, 5: 0.5}
    result = paired_difference(scores, dict(scores))
    assert (result["mean"], result["low"], result["high"]) == (0.0, 0.0, 0.0)
    assert (result["n"], result["seeds"]) == (4, [0, 1, 2, 5])


def test_paired_difference_pairs_by_seed_not_by_order():
    a = {0: 3.0, 1: 5.0, 2: 4.0}
    b = {2: 1.0, 0: 1.0, 3: 9.0}  # seed 1 only in a, seed 3 only in b
    result = paired_difference(a, b)
    assert (result["mean"], result["n"], result["seeds"]) == (2.5, 2, [0, 2])
    assert (result["only_in_a"], result["only_in_b"]) == ([1], [3])
    assert result["low"] <= 2.5 <= result["high"]


def test_paired_difference_without_shared_seeds_names_them():
    with pytest.raises(ValueError, match=r"a_by_seed and b_by_seed share no seed: a has \[0, 1\], b has \[2\]"):
        paired_difference({1: 1.0, 0: 1.0}, {2: 1.0})


def test_summarise_reports_mean_interval_and_count():
    summary = summarise([1.0, 2.0, 3.0, 4.0])
    assert set(summary) == {"mean", "low", "high", "n"}
    assert (summary["mean"], summary["n"]) == (2.5, 4)
    assert 1.0 <= summary["low"] < 2.5 < summary["high"] <= 4.0
    assert summary == summarise([1.0, 2.0, 3.0, 4.0])


# --------------------------------------------------------------------------- properties

probes_strategy = st.lists(
    st.fixed_dictionaries({
        "step": st.integers(0, 50),
        "key": st.just("file:/srv/app.ini:exists"),
        "truth": st.integers(0, 3),
        "answer": st.none() | st.integers(0, 3),
        "confidence": st.none() | st.floats(0.0, 1.0),
    }),
    max_size=40,
)


@given(probes_strategy, st.integers(1, 20))
def test_accuracy_brier_and_ece_lie_in_unit_interval(probes, bins):
    report = probe_accuracy(probes)
    assert report["answered"] + report["abstained"] == len(probes)
    for value in (report["accuracy"], report["coverage"], brier_score(probes),
                  expected_calibration_error(probes, bins=bins)):
        assert value is None or 0.0 <= value <= 1.0
    assert all(a is None or 0.0 <= a <= 1.0 for _, a in accuracy_by_step(probes))


@st.composite
def traces(draw, values=st.floats(-1e3, 1e3)):
    rewards = draw(st.lists(values, min_size=1, max_size=80))
    event = draw(st.integers(0, len(rewards) - 1))
    return rewards, event


@given(traces(), st.integers(1, 30), st.integers(1, 10), st.floats(0.0, 5.0))
def test_recovery_time_lies_in_zero_to_window(trace, window, smoothing, tolerance):
    rewards, event = trace
    result = adaptation(rewards, event, window=window, tolerance=tolerance, smoothing=smoothing)
    if result["pre"] is None:
        assert event == 0 and result["recovery_time"] is None
    else:
        assert 0 <= result["recovery_time"] <= window
        assert result["recovery_time"] <= len(rewards) - event
        if result["censored"]:
            assert result["recovery_time"] == min(window, len(rewards) - event)


quarters = st.integers(-400, 400).map(lambda k: k / 4)


@given(traces(values=quarters), st.integers(-10**6, 10**6), st.integers(1, 30), st.integers(1, 10),
       st.sampled_from([0.0, 0.25, 0.5, 1.0]))
def test_shifting_rewards_leaves_drop_and_recovery_unchanged(trace, shift, window, smoothing, tolerance):
    rewards, event = trace
    kwargs = {"window": window, "tolerance": tolerance, "smoothing": smoothing}
    plain = adaptation(rewards, event, **kwargs)
    shifted = adaptation([r + shift for r in rewards], event, **kwargs)
    assert (shifted["drop"], shifted["recovery_time"], shifted["censored"]) == \
        (plain["drop"], plain["recovery_time"], plain["censored"])
    assert shifted["post"] == pytest.approx(plain["post"] + shift, abs=1e-6)


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=30), st.integers(0, 2**32))
def test_bootstrap_low_le_mean_le_high(values, seed):
    mean, low, high = bootstrap_ci(values, resamples=200, seed=seed)
    assert low <= mean <= high
    assert min(values) <= low and high <= max(values)
