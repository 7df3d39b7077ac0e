"""Metrics over recorded traces: world-model accuracy, adaptation, dynamic regret, seed spread.

Every function here is pure: it reads plain Python data (lists of rewards, probe records, values by
seed) and returns plain Python data (floats, ints, lists, dicts), never NaN — a figure that cannot be
computed (nothing answered, no step before the event) is ``None``. Randomness (the bootstrap) comes
from a ``numpy.random.Generator`` built from the ``seed`` argument, never from global state.

Example::

    >>> from driftgym.scenarios.metrics import adaptation, summarise
    >>> rewards = [1.0] * 20 + [0.0] * 10 + [1.0] * 20
    >>> result = adaptation(rewards, event_step=20, window=20, tolerance=0.1, smoothing=5)
    >>> result["drop"], result["recovery_time"], result["censored"]
    (1.0, 14, False)
    >>> summarise([3.0])
    {'mean': 3.0, 'low': 3.0, 'high': 3.0, 'n': 1}
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "answers_match", "probe_accuracy", "brier_score", "expected_calibration_error", "accuracy_by_step",
    "adaptation", "episode_adaptation", "area_under_curve", "dynamic_regret",
    "bootstrap_ci", "paired_difference", "summarise",
]

Probe = Mapping[str, Any]


# --------------------------------------------------------------------------- argument checks


def _int_arg(name: str, value: Any, minimum: int | None = None) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {number}")
    return number


def _reward_array(name: str, rewards: Sequence[float], allow_empty: bool = False) -> np.ndarray:
    try:
        array = np.asarray(rewards, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a 1-D sequence of numbers") from None
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of numbers, got shape {array.shape}")
    if not allow_empty and array.size == 0:
        raise ValueError(f"{name} must hold at least one step, got an empty sequence")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite numbers (no NaN or inf)")
    return array


def _mean(values: np.ndarray) -> float:
    return math.fsum(values.tolist()) / len(values)


# --------------------------------------------------------------------------- world-model accuracy


def answers_match(answer: Any, truth: Any, rel_tol: float = 1e-9) -> bool:
    """Whether a probe answer equals the world's truth.

    Exact equality, except: two real numbers of which at least one is a float are equal when
    ``math.isclose(answer, truth, rel_tol=rel_tol, abs_tol=0)``; booleans equal only booleans
    (``True`` does not match ``1``); lists/tuples match element by element (a tuple matches a list,
    as after a JSON round trip) and mappings key by key, with the same rules inside.
    """
    if isinstance(answer, (bool, np.bool_)) or isinstance(truth, (bool, np.bool_)):
        both_bool = isinstance(answer, (bool, np.bool_)) and isinstance(truth, (bool, np.bool_))
        return both_bool and bool(answer) == bool(truth)
    if isinstance(answer, numbers.Real) and isinstance(truth, numbers.Real):
        if isinstance(answer, numbers.Integral) and isinstance(truth, numbers.Integral):
            return int(answer) == int(truth)
        return math.isclose(float(answer), float(truth), rel_tol=rel_tol, abs_tol=0.0)
    if isinstance(answer, (list, tuple)) and isinstance(truth, (list, tuple)):
        return len(answer) == len(truth) and all(
            answers_match(a, t, rel_tol) for a, t in zip(answer, truth)
        )
    if isinstance(answer, Mapping) and isinstance(truth, Mapping):
        return set(answer) == set(truth) and all(
            answers_match(answer[k], truth[k], rel_tol) for k in answer
        )
    if isinstance(answer, (list, tuple, Mapping)) or isinstance(truth, (list, tuple, Mapping)):
        return False
    return bool(answer == truth)


def _checked_probe(index: int, probe: Probe) -> Probe:
    if not isinstance(probe, Mapping):
        raise ValueError(f"probes[{index}] must be a mapping, got {type(probe).__name__}")
    for field in ("step", "truth", "answer"):
        if field not in probe:
            raise ValueError(f"probes[{index}] is missing {field!r} (needs step, truth, answer)")
    _int_arg(f"probes[{index}]['step']", probe["step"], minimum=-1)  # -1: the probe taken at reset, before the first step
    confidence = probe.get("confidence")
    if confidence is not None:
        if isinstance(confidence, (bool, np.bool_)) or not isinstance(confidence, numbers.Real):
            raise ValueError(f"probes[{index}]['confidence'] must be a number in [0, 1] or None")
        if not 0.0 <= float(confidence) <= 1.0:
            raise ValueError(
                f"probes[{index}]['confidence'] must be in [0, 1] or None, got {confidence!r}"
            )
    return probe


def _answered(probes: Sequence[Probe], rel_tol: float) -> list[tuple[Probe, bool]]:
    """The answered probes (answer not None), each with whether it was right."""
    checked = [_checked_probe(i, p) for i, p in enumerate(probes)]
    return [(p, answers_match(p["answer"], p["truth"], rel_tol)) for p in checked if p["answer"] is not None]


def _confident(probes: Sequence[Probe], rel_tol: float) -> tuple[list[float], list[float]]:
    """(confidences, correct as 0.0/1.0) over answered probes that carry a confidence."""
    pairs = [(float(p["confidence"]), float(ok)) for p, ok in _answered(probes, rel_tol)
             if p.get("confidence") is not None]
    return [c for c, _ in pairs], [ok for _, ok in pairs]


def probe_accuracy(probes: Sequence[Probe], rel_tol: float = 1e-9) -> dict[str, Any]:
    """Accuracy of the agent's answers, with abstentions counted apart.

    A probe is ``{"step", "key", "truth", "answer", "confidence"}``; ``answer is None`` is an
    abstention. Returns ``probes`` (total), ``answered``, ``abstained``, ``correct``,
    ``accuracy = correct / answered`` (``None`` when nothing was answered) and
    ``coverage = answered / probes`` (``None`` when there are no probes).
    """
    answered = _answered(probes, rel_tol)
    correct = sum(ok for _, ok in answered)
    total = len(probes)
    return {
        "probes": total,
        "answered": len(answered),
        "abstained": total - len(answered),
        "correct": correct,
        "accuracy": correct / len(answered) if answered else None,
        "coverage": len(answered) / total if total else None,
    }


def brier_score(probes: Sequence[Probe], rel_tol: float = 1e-9) -> float | None:
    """Brier score ``mean((confidence - correct)^2)`` over answered probes with a confidence.

    ``confidence`` is the stated probability that the answer is right, ``correct`` is 1 or 0.
    0 is perfect, 1 is confidently wrong every time; ``None`` when no answered probe has a confidence.
    """
    confidences, correct = _confident(probes, rel_tol)
    if not confidences:
        return None
    return math.fsum((c - ok) ** 2 for c, ok in zip(confidences, correct)) / len(confidences)


def expected_calibration_error(
    probes: Sequence[Probe], bins: int = 10, rel_tol: float = 1e-9
) -> float | None:
    """Expected calibration error over answered probes with a confidence.

    Equal-width bins ``[k/bins, (k+1)/bins)`` for ``k = 0..bins-1`` (the last bin also holds 1.0).
    ``ECE = sum_k (n_k / N) * |acc_k - conf_k|`` where ``n_k`` probes fall in bin ``k``, ``acc_k``
    is their fraction correct and ``conf_k`` their mean confidence, i.e.
    ``ECE = sum_k |correct_k - sum of confidences_k| / N``. ``None`` when N is 0.
    """
    bins = _int_arg("bins", bins, minimum=1)
    confidences, correct = _confident(probes, rel_tol)
    if not confidences:
        return None
    by_bin: dict[int, tuple[list[float], list[float]]] = {}
    for c, ok in zip(confidences, correct):
        k = min(int(math.floor(c * bins)), bins - 1)
        by_bin.setdefault(k, ([], []))
        by_bin[k][0].append(c)
        by_bin[k][1].append(ok)
    gaps = [abs(math.fsum(oks) - math.fsum(cs)) for cs, oks in by_bin.values()]
    return math.fsum(gaps) / len(confidences)


def accuracy_by_step(probes: Sequence[Probe], rel_tol: float = 1e-9) -> list[tuple[int, float | None]]:
    """Accuracy over time: ``(step, correct / answered at that step)`` for each probed step, in order.

    A step where every probe was abstained from has accuracy ``None``.
    """
    checked = [_checked_probe(i, p) for i, p in enumerate(probes)]
    steps = sorted({int(p["step"]) for p in checked})
    result = []
    for step in steps:
        at_step = [p for p in checked if int(p["step"]) == step]
        result.append((step, probe_accuracy(at_step, rel_tol)["accuracy"]))
    return result


# --------------------------------------------------------------------------- adaptation


def _post_event_rolling_mean(centred: np.ndarray, start: int, stop: int, smoothing: int) -> np.ndarray:
    """m(s) = mean(r[max(start, s - smoothing + 1) .. s]) for s in [start, stop)."""
    return np.array([_mean(centred[max(start, s - smoothing + 1): s + 1]) for s in range(start, stop)])


def adaptation(
    rewards: Sequence[float],
    event_step: int,
    window: int = 20,
    tolerance: float = 0.1,
    smoothing: int = 5,
    next_event: int | None = None,
    previous_event: int | None = None,
) -> dict[str, Any]:
    """How performance dropped and recovered after the change at ``event_step``.

    ``rewards[t]`` is the reward of step ``t``; the event fires at the start of ``event_step`` (e),
    so ``rewards[e]`` is the first reward after the change.

    - pre window ``[max(e - window, previous_event or 0), e)``; ``pre`` = its mean (``None`` if empty).
    - post window ``[e, end)`` with ``end = min(e + window, len(rewards), next_event)``;
      ``post`` = its mean, ``auc`` = its sum.
    - rolling mean, trailing and cut at the event: ``m(s) = mean(rewards[max(e, s-smoothing+1) .. s]``
      (inclusive), for s in the post window.
    - ``drop = pre - min_s m(s)`` (negative if performance rose).
    - recovery: the first s in the post window with ``m(s) >= pre - tolerance`` (tolerance in reward
      units, one-sided: doing better than before counts as recovered); ``recovery_time = s - e``
      (0 if never dropped out of the band) and ``censored = False``. If no such s,
      ``recovery_time = end - e`` (the censoring length, <= window) and ``censored = True``.
    - with no step before the event, ``pre``, ``drop`` and ``recovery_time`` are ``None``.

    Sums are taken relative to a reference reward of the trace, so adding a constant to every
    reward changes ``pre``, ``post`` and ``auc`` by that constant and leaves ``drop`` and
    ``recovery_time`` exactly as they were (for rewards whose shifts are exact in floating point).
    """
    array = _reward_array("rewards", rewards)
    window = _int_arg("window", window, minimum=1)
    smoothing = _int_arg("smoothing", smoothing, minimum=1)
    if isinstance(tolerance, (bool, np.bool_)) or not isinstance(tolerance, numbers.Real) \
            or not math.isfinite(tolerance) or tolerance < 0:
        raise ValueError(f"tolerance must be a finite number >= 0 (reward units), got {tolerance!r}")
    event = _int_arg("event_step", event_step)
    if not 0 <= event < len(array):
        raise ValueError(f"event_step must be in [0, {len(array) - 1}] (a step of rewards), got {event}")
    stop = min(event + window, len(array))
    if next_event is not None:
        next_event = _int_arg("next_event", next_event)
        if next_event <= event:
            raise ValueError(f"next_event must be > event_step ({event}), got {next_event}")
        stop = min(stop, next_event)
    start = max(event - window, 0)
    if previous_event is not None:
        previous_event = _int_arg("previous_event", previous_event, minimum=0)
        if previous_event >= event:
            raise ValueError(f"previous_event must be < event_step ({event}), got {previous_event}")
        start = max(start, previous_event)

    reference = float(array[start])
    centred = array - reference
    post_c = _mean(centred[event:stop])
    result: dict[str, Any] = {
        "event_step": event,
        "pre": None,
        "post": post_c + reference,
        "drop": None,
        "recovery_time": None,
        "censored": False,
        "auc": math.fsum(centred[event:stop].tolist()) + reference * (stop - event),
    }
    if start == event:
        return result
    pre_c = _mean(centred[start:event])
    rolling = _post_event_rolling_mean(centred, event, stop, smoothing)
    recovered = np.flatnonzero(rolling >= pre_c - tolerance)
    result["pre"] = pre_c + reference
    result["drop"] = pre_c - float(rolling.min())
    if recovered.size:
        result["recovery_time"] = int(recovered[0])
    else:
        result["recovery_time"] = stop - event
        result["censored"] = True
    return result


def episode_adaptation(
    rewards: Sequence[float],
    event_steps: Sequence[int],
    window: int = 20,
    tolerance: float = 0.1,
    smoothing: int = 5,
) -> list[dict[str, Any]]:
    """``adaptation`` for each distinct event step, in order, each cut at its neighbours.

    Event steps are sorted and de-duplicated (several perturbations firing at one step are one
    change); event i gets ``previous_event = steps[i-1]`` and ``next_event = steps[i+1]``, so its
    pre window starts no earlier than the previous change and its recovery is censored at the next.
    """
    steps = sorted({_int_arg(f"event_steps[{i}]", s) for i, s in enumerate(event_steps)})
    results = []
    for i, step in enumerate(steps):
        results.append(adaptation(
            rewards, step, window=window, tolerance=tolerance, smoothing=smoothing,
            next_event=steps[i + 1] if i + 1 < len(steps) else None,
            previous_event=steps[i - 1] if i > 0 else None,
        ))
    return results


def area_under_curve(rewards: Sequence[float]) -> float:
    """Area under the reward curve with unit-width steps: ``sum(rewards)`` (0.0 for no steps)."""
    return math.fsum(_reward_array("rewards", rewards, allow_empty=True).tolist())


# --------------------------------------------------------------------------- dynamic regret


def dynamic_regret(
    rewards: Sequence[float],
    oracle_rewards: Sequence[float],
    missing: float | None = None,
) -> dict[str, Any]:
    """Regret against the oracle on the same seed, step by step (common random numbers).

    ``regret_t = oracle_rewards[t] - rewards[t]``; ``curve[t] = sum_{u<=t} regret_u`` (cumulative),
    ``total = curve[-1]``, ``per_step = total / steps``.
    With ``missing=None`` the sums run over the common length (the shorter trace). With a number,
    the shorter trace is padded with it up to the longer one — e.g. ``missing=0.0`` when an episode
    that terminated early earns nothing for the steps it did not live (otherwise an agent that fails
    early looks regret-free).
    """
    agent = _reward_array("rewards", rewards, allow_empty=True)
    oracle = _reward_array("oracle_rewards", oracle_rewards, allow_empty=True)
    if missing is None:
        steps = min(len(agent), len(oracle))
        agent, oracle = agent[:steps], oracle[:steps]
    else:
        if isinstance(missing, (bool, np.bool_)) or not isinstance(missing, numbers.Real) \
                or not math.isfinite(missing):
            raise ValueError(f"missing must be None or a finite number, got {missing!r}")
        steps = max(len(agent), len(oracle))
        agent = np.concatenate([agent, np.full(steps - len(agent), float(missing))])
        oracle = np.concatenate([oracle, np.full(steps - len(oracle), float(missing))])
    if steps == 0:
        raise ValueError("rewards and oracle_rewards have no step in common (an empty trace)")
    curve = np.cumsum(oracle - agent).tolist()
    return {"total": curve[-1], "per_step": curve[-1] / steps, "steps": steps, "curve": curve}


# --------------------------------------------------------------------------- spread over seeds


def bootstrap_ci(
    values: Sequence[float],
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean and its percentile-bootstrap interval.

    ``resamples`` times, draw ``n`` values with replacement (``numpy.random.default_rng(seed)``) and
    take their mean; ``low``/``high`` are the ``(1 - confidence)/2`` and ``(1 + confidence)/2``
    quantiles (numpy's linear rule) of those means, then held to ``[min(values), max(values)]``
    and widened if need be to contain the sample mean (both only ever correct rounding).
    Deterministic for a seed. One value, or all values equal -> ``(v, v, v)``.
    """
    array = _reward_array("values", values, allow_empty=True)
    if array.size == 0:
        raise ValueError("values must hold at least one number to summarise, got an empty sequence")
    if isinstance(confidence, (bool, np.bool_)) or not isinstance(confidence, numbers.Real) \
            or not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be a number strictly between 0 and 1, got {confidence!r}")
    resamples = _int_arg("resamples", resamples, minimum=1)
    seed = _int_arg("seed", seed, minimum=0)
    mean = _mean(array)
    if np.all(array == array[0]):
        return float(array[0]), float(array[0]), float(array[0])
    rng = np.random.default_rng(seed)
    rows = max(1, 1_000_000 // array.size)
    means = []
    for done in range(0, resamples, rows):
        picks = rng.integers(0, array.size, size=(min(rows, resamples - done), array.size))
        means.append(array[picks].mean(axis=1))
    low, high = np.quantile(np.concatenate(means), [(1 - confidence) / 2, (1 + confidence) / 2])
    smallest, largest = float(array.min()), float(array.max())
    low, high = max(float(low), smallest), min(float(high), largest)
    return mean, min(low, mean), max(high, mean)


def paired_difference(
    a_by_seed: Mapping[int, float],
    b_by_seed: Mapping[int, float],
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Mean of ``a[s] - b[s]`` over the seeds both share, with its bootstrap interval.

    Pairs by seed (the same perturbations on both sides), in sorted seed order. Returns ``mean``,
    ``low``, ``high`` (``bootstrap_ci`` of the differences), ``n``, ``seeds`` (shared, sorted),
    ``only_in_a`` and ``only_in_b``. No shared seed -> ValueError naming both seed sets.
    """
    shared = sorted(set(a_by_seed) & set(b_by_seed))
    if not shared:
        raise ValueError(
            f"a_by_seed and b_by_seed share no seed: a has {sorted(a_by_seed)}, b has {sorted(b_by_seed)}"
        )
    differences = [float(a_by_seed[s]) - float(b_by_seed[s]) for s in shared]
    mean, low, high = bootstrap_ci(differences, confidence, resamples, seed)
    return {
        "mean": mean, "low": low, "high": high, "n": len(shared), "seeds": shared,
        "only_in_a": sorted(set(a_by_seed) - set(shared)),
        "only_in_b": sorted(set(b_by_seed) - set(shared)),
    }


def summarise(
    values: Sequence[float],
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """``{"mean", "low", "high", "n"}``: a figure over seeds with its bootstrap interval."""
    mean, low, high = bootstrap_ci(values, confidence, resamples, seed)
    return {"mean": mean, "low": low, "high": high, "n": len(values)}
