"""Timelines (the concrete, ordered perturbations of one episode) and their playback.

A :class:`Timeline` is what a schedule compiles to for one (seed, horizon): sorted entries with
every random parameter resolved. It round-trips through JSON exactly, has a digest, prints as a
table and, for playback, a per-step plan so that a step costs one list index.

:class:`Playback` runs a timeline against a world during an episode: it fires the entries of a
step, reverts transient ones at their end, and keeps the compact event records from which the
:class:`EventLog` builds :class:`Event` objects on demand.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from driftgym.perturbations.core import (
    Event,
    Perturbation,
    PerturbationError,
    canonical_json,
    change_magnitude,
    digest_of,
    perturbation_from_dict,
)

__all__ = ["EventLog", "Playback", "PerturbationStream", "Timeline", "TimelineEntry"]

TIMELINE_FORMAT = 1


@dataclass(frozen=True)
class TimelineEntry:
    """One firing: at ``step``; for a transient effect, reverted at ``step + duration``.

    ``source`` is the index of the schedule entry it came from; entries of one step fire in
    source order.
    """

    step: int
    perturbation: Perturbation
    duration: int | None = None
    source: int = 0

    @property
    def end(self) -> int | None:
        return None if self.duration is None else self.step + self.duration

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "duration": self.duration, "source": self.source, "perturb": self.perturbation.to_dict()}


def _order(entry: TimelineEntry) -> tuple[int, int]:
    return entry.step, entry.source


class Timeline(Sequence):
    """An immutable sequence of :class:`TimelineEntry`, sorted by (step, source), for one episode.

    Internally a timeline keeps its entries in *store* order (a cached seed-independent part,
    then the part drawn for this seed) so that composing one per episode costs only the drawn
    part; reading it (iteration, indexing, JSON, the table) sees the sorted order.
    """

    def __init__(self, entries: Sequence[TimelineEntry], horizon: int) -> None:
        if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
            raise PerturbationError(f"horizon must be a whole number >= 1 (got {horizon!r})")
        _check_steps(entries, horizon)
        self.horizon = horizon
        self._store: tuple[TimelineEntry, ...] = tuple(sorted(entries, key=_order))
        self._sorted: tuple[TimelineEntry, ...] | None = self._store
        self._plan: list[tuple[tuple[int, bool], ...]] | None = None
        self._digest: str | None = None

    def with_entries(self, extra: Sequence[TimelineEntry]) -> Timeline:
        """This timeline plus ``extra`` entries, reusing this one's plan for untouched steps."""
        if not extra:
            return self
        _check_steps(extra, self.horizon)
        merged = Timeline.__new__(Timeline)
        merged.horizon = self.horizon
        merged._store = self._store + tuple(extra)
        merged._sorted = None
        merged._digest = None
        plan = list(self.plan())
        touched = set()
        for index in range(len(self._store), len(merged._store)):
            entry = merged._store[index]
            touched.add(entry.step)
            if entry.end is not None and entry.end < self.horizon:
                touched.add(entry.end)
        additions: dict[int, list[tuple[int, bool]]] = {step: list(plan[step]) for step in touched}
        for index in range(len(self._store), len(merged._store)):
            entry = merged._store[index]
            additions[entry.step].append((index, False))
            if entry.end is not None and entry.end < self.horizon:
                additions[entry.end].append((index, True))
        for step, slot in additions.items():
            plan[step] = merged._slot(slot)
        merged._plan = plan
        return merged

    def _slot(self, slot: list[tuple[int, bool]]) -> tuple[tuple[int, bool], ...]:
        """Firing order within a step: reverts (oldest first), then fires, each by source."""
        store = self._store
        reverts = sorted((i for i in slot if i[1]), key=lambda i: (_order(store[i[0]]), i[0]))
        fires = sorted((i for i in slot if not i[1]), key=lambda i: (store[i[0]].source, i[0]))
        return tuple(reverts + fires)

    # ----- sequence
    @property
    def entries(self) -> tuple[TimelineEntry, ...]:
        if self._sorted is None:
            self._sorted = tuple(sorted(self._store, key=_order))
        return self._sorted

    def __getitem__(self, index):  # type: ignore[override]
        return self.entries[index]

    def __len__(self) -> int:
        return len(self._store)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timeline) and self.horizon == other.horizon and self.entries == other.entries

    def __hash__(self) -> int:  # digest-based: stable across processes, equal timelines alike
        return int(self.digest()[:15], 16)

    def steps(self) -> list[int]:
        return [e.step for e in self.entries]

    def entry(self, store_index: int) -> TimelineEntry:
        """The entry a playback record refers to (records index the store order)."""
        return self._store[store_index]

    # ----- serialisation
    def to_dict(self) -> dict[str, Any]:
        return {"format": TIMELINE_FORMAT, "horizon": self.horizon, "entries": [e.to_dict() for e in self.entries]}

    def to_json(self) -> str:
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Timeline:
        if not isinstance(data, dict) or data.get("format") != TIMELINE_FORMAT:
            raise PerturbationError(f"not a driftgym timeline of format {TIMELINE_FORMAT}")
        entries = [
            TimelineEntry(
                int(e["step"]),
                perturbation_from_dict(e["perturb"], f"entries[{i}].perturb"),
                e["duration"],
                int(e.get("source", 0)),
            )
            for i, e in enumerate(data["entries"])
        ]
        return cls(entries, int(data["horizon"]))

    @classmethod
    def from_json(cls, text: str) -> Timeline:
        return cls.from_dict(json.loads(text))

    def digest(self) -> str:
        if self._digest is None:
            self._digest = digest_of(self.to_dict())
        return self._digest

    # ----- reading
    def __str__(self) -> str:
        rows = [("step", "until", "kind", "parameters")]
        for e in self.entries:
            params = {k: v for k, v in e.perturbation.to_dict().items() if k != "kind"}
            shown = " ".join(f"{k}={_short(v)}" for k, v in params.items() if v is not None)
            rows.append((str(e.step), "" if e.end is None else str(e.end), e.perturbation.kind, shown))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [f"{r[0]:>{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip() for r in rows]
        lines.insert(1, "-" * max(len(line) for line in lines))
        lines.append(f"{len(self)} events over {self.horizon} steps, digest {self.digest()[:12]}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Timeline({len(self)} entries, horizon={self.horizon}, digest={self.digest()[:12]})"

    def plan(self) -> list[tuple[tuple[int, bool], ...]]:
        """Per step, ``(store index, is_revert)`` pairs in firing order (see ``_slot``)."""
        if self._plan is None:
            slots: list[list[tuple[int, bool]]] = [[] for _ in range(self.horizon)]
            for index, entry in enumerate(self._store):
                slots[entry.step].append((index, False))
                if entry.end is not None and entry.end < self.horizon:
                    slots[entry.end].append((index, True))
            self._plan = [self._slot(slot) if slot else () for slot in slots]
        return self._plan


def _check_steps(entries: Sequence[TimelineEntry], horizon: int) -> None:
    for entry in entries:
        if not 0 <= entry.step < horizon:
            raise PerturbationError(f"timeline entry at step {entry.step} lies outside [0, {horizon})")
        if entry.duration is not None and entry.duration < 1:
            raise PerturbationError(f"timeline entry at step {entry.step}: duration must be >= 1 (got {entry.duration})")


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return f"[{len(value)} values]"
    return str(value)


class EventLog(Sequence):
    """The events of an episode, built from compact records when read."""

    def __init__(self, records: list[tuple], timeline: Timeline) -> None:
        self._records = records
        self._timeline = timeline

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self._event(r) for r in self._records[index]]
        return self._event(self._records[index])

    def _event(self, record: tuple) -> Event:
        step, index, revert, (target, before, after) = record
        entry = self._timeline.entry(index)
        return Event(step, entry.perturbation.kind, target, before, after, "revert" if revert else "apply", entry.source)

    def at(self, step: int) -> list[Event]:
        return [self._event(r) for r in self._records if r[0] == step]

    def to_list(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self]

    def __repr__(self) -> str:
        return f"EventLog({len(self)} events)"


class PerturbationStream:
    """The random stream perturbation kinds draw from when they fire.

    Its generator is made from ``SeedSequence(entropy, spawn_key=spawn_key)`` on the first draw
    (most schedules never draw, and making one costs more than a CartPole step), serves
    ``standard_normal()`` and ``random()`` as Python floats from blocks drawn 64 at a time, and
    passes any other ``numpy.random.Generator`` method through. Kinds draw a fixed number of
    values per firing, so the stream stays exogenous.
    """

    BLOCK = 64

    def __init__(self, entropy: int | None, spawn_key: tuple[int, ...] = ()) -> None:
        self._entropy = entropy
        self._spawn_key = spawn_key
        self._generator: np.random.Generator | None = None
        self._normals: list[float] = []
        self._uniforms: list[float] = []

    @property
    def generator(self) -> np.random.Generator:
        if self._generator is None:
            seed = np.random.SeedSequence(self._entropy, spawn_key=self._spawn_key)
            self._generator = np.random.default_rng(seed)
        return self._generator

    def standard_normal(self) -> float:
        if not self._normals:
            self._normals = self.generator.standard_normal(self.BLOCK).tolist()[::-1]
        return self._normals.pop()

    def random(self) -> float:
        if not self._uniforms:
            self._uniforms = self.generator.random(self.BLOCK).tolist()[::-1]
        return self._uniforms.pop()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # copy and pickle probe for hooks before __init__ has run
            raise AttributeError(name)
        return getattr(self.generator, name)


class Playback:
    """Fires a timeline's entries against a world, step by step.

    ``fire(world, step)`` applies what the timeline holds for ``step`` (reverts of ending
    transient entries first, then new firings), lets the world ``settle()`` (recompute what
    derives from what changed) and returns how many records it added. A record is the tuple
    ``(step, store index, is_revert, (target, before, after))``.
    """

    def __init__(self, timeline: Timeline, rng: PerturbationStream | np.random.Generator) -> None:
        self.timeline = timeline
        self.rng = rng
        self.records: list[tuple] = []
        self._plan = timeline.plan()
        self._store = timeline._store
        self._open: dict[int, tuple[Any, Any]] = {}
        self._opened: dict[int, int] = {}

    def _opened_at(self, index: int) -> int:
        return self._opened[index]

    def fire(self, world: Any, step: int) -> int:
        if step >= self.timeline.horizon:
            return 0
        plan = self._plan[step]
        if not plan:
            return 0
        store, records, rng = self._store, self.records, self.rng
        for index, revert in plan:
            entry = store[index]
            if revert:
                records.append((step, index, True, self._revert(world, index, step)))
            else:
                change = entry.perturbation.change(world, rng, step)
                if entry.duration is not None:
                    self._open[index] = (change[0], change[1])
                    self._opened[index] = len(self._opened)
                records.append((step, index, False, change))
        world.settle()
        return len(plan)

    def _revert(self, world: Any, index: int, step: int) -> tuple[Any, Any, Any]:
        """Undo an ending transient entry; overlapping ones on one target unwind like a stack.

        For kinds whose revert restores an absolute value (``absolute_revert``), an entry that
        ends while a later one on the same target is still open leaves the world as it is and
        hands its ``before`` to that later entry, which restores it when it ends.
        """
        target, before = self._open.pop(index)
        perturbation = self._store[index].perturbation
        if perturbation.absolute_revert:
            opened = self._opened[index]
            for later, (other, _) in self._open.items():  # "later": opened later, whatever the store order
                if self._opened[later] > opened and other == target and self._store[later].perturbation.absolute_revert:
                    self._open[later] = (other, before)
                    now = world.get_param(target) if hasattr(world, "get_param") else None
                    return target, now, now
        return perturbation.revert(world, target, before, step)

    def close(self, world: Any) -> None:
        """Revert every transient effect still open (at the end of an episode), unlogged."""
        for index in sorted(self._open, key=self._opened_at):
            self._revert(world, index, self.timeline.horizon)
        world.settle()

    def last(self, count: int) -> list[tuple]:
        return self.records[len(self.records) - count :] if count else []

    def magnitude(self, count: int) -> float:
        """Summed size of the last ``count`` records' changes."""
        return float(sum(change_magnitude(r[3][1], r[3][2]) for r in self.last(count)))

    @property
    def event_log(self) -> EventLog:
        return EventLog(self.records, self.timeline)
