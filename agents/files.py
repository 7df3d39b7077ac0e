"""Baseline agents for ``driftgym/FileSystem-v0`` (actions are ``[operation, target]``).

- ``stale``: trusts the tree it deployed: blindly writes each target's desired value at the path
  it knew, round robin, and never reads, locates or restores.
- ``adaptive``: repairs what its own view says is wrong (write a drifted key, chmod then write a
  read-only file, locate a missing one and restore it if it is gone, restore a corrupt one, read
  one it has just located), otherwise re-reads the target it has not seen for longest once that
  is ``2 * n_targets`` steps old; when the ``changed`` bit is set (``visibility="flag"``) it
  re-reads every target, oldest first, at once.
  Its ``belief`` is its view of the targets it observed in the last ``n_targets`` steps; it
  abstains on older ones, which it knows may have drifted.
- ``oracle``: reads the ground truth (labelled upper bound) and repairs exactly the targets that
  are wrong, with the right operation, else waits.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from driftgym.agents.base import Agent, Oracle, register_agent

__all__ = ["AdaptiveManager", "OracleManager", "StaleManager"]

ENV_IDS = ("driftgym/FileSystem-v0",)
READ, WRITE, LOCATE, CHMOD, RESTORE, WAIT = range(6)
UNKNOWN, OK, DRIFTED, MISSING, READ_ONLY, CORRUPT = range(6)


def targets_of(env: gym.Env) -> int:
    return int(env.action_space.nvec[1])


class StaleManager(Agent):
    name = "stale"

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.turn = 0

    def act(self, observation: Any, info: dict[str, Any]) -> np.ndarray:
        target = self.turn % targets_of(self.env)
        self.turn += 1
        return np.array([WRITE, target], np.int64)


class AdaptiveManager(Agent):
    name = "adaptive"

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.located: set[int] = set()  # targets located since their last success
        self.sweep: list[int] = []  # targets still to re-read after a ``changed`` bit
        self.ages = np.zeros(targets_of(self.env))

    def act(self, observation: Any, info: dict[str, Any]) -> np.ndarray:
        status, age = observation["status"], observation["age"]
        self.ages = age
        for target in np.argsort(-age, kind="stable"):
            action = self.repair(int(target), int(status[target]))
            if action is not None:
                return np.array(action, np.int64)
        if "changed" in observation and observation["changed"][0] > 0:
            self.sweep = [int(t) for t in np.argsort(-age, kind="stable")]
        if self.sweep:
            return np.array([READ, self.sweep.pop(0)], np.int64)
        oldest = int(np.argmax(age))
        if age[oldest] >= 2 * targets_of(self.env):
            return np.array([READ, oldest], np.int64)
        return np.array([WAIT, 0], np.int64)

    def belief(self, keys):
        """The view's facts about targets seen in the last ``n_targets`` steps; older ones it
        knows may have drifted, so it abstains on them."""
        view, fresh = self.env.unwrapped.view_facts(), {}  # its own view (what it read), not the truth
        ages = self.ages + 1  # the probe comes after the step that followed its last observation
        for key in keys:
            if key in view and key.startswith("target:") and ages[int(key.split(":")[1])] <= targets_of(self.env):
                fresh[key] = (view[key], 1.0)
        return fresh

    def repair(self, target: int, status: int) -> tuple[int, int] | None:
        if status == OK:
            self.located.discard(target)
            return None
        if status == DRIFTED:
            return WRITE, target
        if status == READ_ONLY:
            return CHMOD, target
        if status == CORRUPT:
            return RESTORE, target
        if status == UNKNOWN:
            return READ, target
        if target in self.located:  # missing even where it was last found: gone, restore it
            self.located.discard(target)
            return RESTORE, target
        self.located.add(target)
        return LOCATE, target


class OracleManager(Oracle):
    def act(self, observation: Any, info: dict[str, Any]) -> np.ndarray:
        base = self.env.unwrapped
        world, view = base.world, base.view
        for i, target in enumerate(world.targets):
            if world.target_ok(i):
                continue
            path = world.path(target.inode)
            if path is None:
                return np.array([RESTORE, i], np.int64)
            if view.paths[i] != path:
                return np.array([LOCATE, i], np.int64)
            node = world.node(target.inode)
            if node.corrupt:
                return np.array([RESTORE, i], np.int64)
            if not node.writable:
                return np.array([CHMOD, i], np.int64)
            return np.array([WRITE, i], np.int64)
        return np.array([WAIT, 0], np.int64)


register_agent("stale", ENV_IDS)(StaleManager)
register_agent("adaptive", ENV_IDS)(AdaptiveManager)
register_agent("oracle", ENV_IDS)(OracleManager)
