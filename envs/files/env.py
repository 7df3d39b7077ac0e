"""`FileSystemEnv` (driftgym/FileSystem-v0): keep config keys at their desired values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces

import driftgym.perturbations.files  # noqa: F401  (registers the file kinds)
from driftgym.envs.base import DriftEnv, check_whole
from driftgym.envs.files.world import ROOT, FileWorld
from driftgym.perturbations import Schedule

__all__ = ["DEFAULT_SCHEDULE", "OP_COSTS", "OPS", "RESULTS", "STATUSES", "FileSystemEnv"]

OPS = ("read", "write", "locate", "chmod", "restore", "wait")
STATUSES = ("unknown", "ok", "drifted", "missing", "read_only", "corrupt")
RESULTS = ("none", "ok", "ENOENT", "EACCES", "EBADMSG", "EEXIST", "EISDIR")
OP_COSTS = {"read": 0.01, "write": 0.01, "locate": 0.05, "chmod": 0.02, "restore": 0.10, "wait": 0.0}

DEFAULT_SCHEDULE = [
    {"poisson": 0.05, "perturb": {"kind": "edit_file", "targets_only": True}},
    {"poisson": 0.05, "perturb": {"kind": "edit_file"}},
    {"poisson": 0.02, "perturb": {"kind": "move_file"}},
    {"poisson": 0.01, "perturb": {"kind": "move_directory"}},
    {"poisson": 0.01, "perturb": {"kind": "delete_file"}},
    {"poisson": 0.015, "perturb": {"kind": "chmod_readonly", "duration": 40}},
    {"poisson": 0.01, "perturb": {"kind": "corrupt_file"}},
    {"poisson": 0.01, "perturb": {"kind": "truncate_file"}},
    {"poisson": 0.01, "perturb": {"kind": "create_decoy"}},
    {"poisson": 0.005, "perturb": {"kind": "restore_file"}},
]

UNKNOWN, OK, DRIFTED, MISSING, READ_ONLY, CORRUPT = range(len(STATUSES))
RESULT_CODE = {name: code for code, name in enumerate(RESULTS)}


class View:
    """What the agent knows of each target: the path, what it last saw and when, the last outcome."""

    def __init__(self, paths: list[str]) -> None:
        n = len(paths)
        self.paths = list(paths)
        self.status = np.full(n, OK, np.int64)
        self.seen = np.zeros(n, np.int64)
        self.result = np.zeros(n, np.int64)
        self.values: list[str | None] = [None] * n
        self.writable: list[bool | None] = [True] * n

    def saw(self, i: int, status: int, t: int) -> None:
        self.status[i] = status
        self.seen[i] = t


class FileSystemEnv(DriftEnv):
    """
    ## Description

    A configuration manager keeps `n_targets` (file, key) pairs of a virtual file tree at their
    desired values while another writer works on the same tree: it edits keys, moves and renames
    files and directories, deletes files, makes them read-only, corrupts or truncates them,
    leaves lookalike decoys and sometimes restores files from backup. The tree (never the real
    disk) is a networkx DiGraph rooted at `/` with realistic names (`/etc/app/db.ini`,
    `/srv/web/cache/site.conf`); every file has an identity (inode) that survives moves, a mode,
    an mtime, and an ordered `key = value` document. The manager knows the spec (each target's
    inode, key, desired value and the path it last knew) and learns only through its operations.

    ## Action Space

    `MultiDiscrete([6, n_targets])`: an operation and the target it acts on.

    | Num | Operation | What it does                                                                 | Cost |
    |-----|-----------|------------------------------------------------------------------------------|------|
    | 0   | read      | read the file at the known path: its content, or ENOENT / EISDIR / EBADMSG   | 0.01 |
    | 1   | write     | set the key to the desired value at the known path; ENOENT, EISDIR, EACCES   | 0.01 |
    |     |           | (read-only) or EBADMSG (corrupt) when it cannot                              |      |
    | 2   | locate    | search the tree by identity: the file's current path, or ENOENT if deleted   | 0.05 |
    | 3   | chmod     | make the file at the known path writable                                     | 0.02 |
    | 4   | restore   | the file from backup (its desired document) at the known path: recreates it  | 0.10 |
    |     |           | if deleted, brings it back if moved, fixes corruption; EEXIST if another     |      |
    |     |           | entry holds the path                                                         |      |
    | 5   | wait      | nothing (the target index is ignored)                                        | 0    |

    Operations act on paths, as real tools do: a decoy left at a stale known path is read and
    written as if it were the file.

    ## Observation Space

    A `Dict`, all about the agent's own view (nothing reveals a silent change before it looks):

    | Key        | Space                                  | Meaning                                            |
    |------------|----------------------------------------|----------------------------------------------------|
    | `status`   | `MultiDiscrete([6] * n_targets)`       | last seen: 0 unknown, 1 ok, 2 drifted, 3 missing,  |
    |            |                                        | 4 read_only (drifted and not writable), 5 corrupt  |
    | `age`      | `Box(0, horizon, (n_targets,), f32)`   | steps since the target was last observed           |
    | `result`   | `MultiDiscrete([7] * n_targets)`       | last operation's outcome on it: 0 none, 1 ok,      |
    |            |                                        | 2 ENOENT, 3 EACCES, 4 EBADMSG, 5 EEXIST, 6 EISDIR  |
    | `progress` | `Box(0, 1, (1,), float32)`             | steps taken / horizon                              |
    | `changed`  | `Box(0, 1, (1,), float32)`             | under `visibility="flag"` and above: an event fired|
    | `magnitude`| `Box(0, inf, (1,), float32)`           | under `"magnitude"` and `"full"`                   |

    Status after each operation: read -> ok / drifted / read_only / corrupt / missing; write ->
    ok, or read_only / corrupt / missing on failure; locate -> unknown (found: content not read)
    or missing; chmod -> a read_only status becomes drifted; restore -> ok. `age` resets when a
    status is set.

    ## Rewards

    Each step: `(number of targets whose TRUE value is the desired one) / n_targets - cost(op)`,
    costs as in the table (override with `op_costs`). A target's true value is the value of its
    key in its file (wherever that file is now); a deleted or corrupt file, or a lost key, is not
    the desired value. Failed operations still cost.

    ## Starting State

    A tree of `n_dirs` directories (three levels under a few of `/etc`, `/srv`, `/opt`, `/var`,
    `/home`) and `n_files` files of `n_keys` keys each, generated from the world stream of the
    seed. Targets are spread two to a file over `ceil(n_targets / 2)` managed files. At the start
    every target holds its desired value and the view says so (status ok, age 0): the manager
    has just deployed.

    ## Episode End

    Never terminates; truncates at `horizon` (default 200).

    ## Perturbations

    Kinds (`driftgym.perturbations.files`): `edit_file`, `move_file`, `move_directory`,
    `delete_file`, `chmod_readonly`, `corrupt_file`, `truncate_file`, `create_decoy`,
    `restore_file`. The default schedule (`DEFAULT_SCHEDULE`), per-step arrival rates over a
    horizon of 200: edits of target keys 0.05 and of any key 0.05, move_file 0.02,
    move_directory 0.01, delete_file 0.01, chmod_readonly (a 40-step lock) 0.015,
    corrupt_file 0.01, truncate_file 0.01, create_decoy 0.01, restore_file 0.005 (about 38
    events an episode). Over seeds 0-29, an agent that only waits ends with 14% of its targets
    right (mean reward 0.36 a step); a simple read-and-repair loop (read round-robin; write when
    drifted, chmod when read-only, locate when missing, restore when corrupt or deleted) gets 0.92.

    ## Arguments

    - `n_files=12`, `n_dirs=None` (`max(6, n_files // 3)`), `n_keys=6` (at most 16),
      `n_targets=8` (at most `2 * n_files` and `n_files * n_keys`).
    - `schedule`: wire format or a Schedule (None: the default; `[]`: none), `horizon=200`,
      `visibility="hidden"` (`"flag"`, `"magnitude"`, `"full"`), `op_costs` (op name -> cost),
      `render_mode=None` (`"ansi"`: the tree with markers).

    Beyond Gymnasium: `view_facts()` (the facts the view implies, keys as in `facts()`),
    `world.check_invariants()`.

    ## Version History

    - v0: initial version.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}
    world_kind = "files"
    default_schedule = DEFAULT_SCHEDULE
    belief_prefixes = ("target",)  # what world-model probes ask about
    default_horizon = 200

    def __init__(
        self,
        n_files: int = 12,
        n_dirs: int | None = None,
        n_keys: int = 6,
        n_targets: int = 8,
        schedule: Schedule | Sequence[dict[str, Any]] | None = None,
        horizon: int | None = None,
        visibility: str = "hidden",
        op_costs: Mapping[str, float] | None = None,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(schedule, horizon, visibility, render_mode)
        self.n_files = check_whole("n_files", n_files, 1)
        self.n_dirs = max(6, self.n_files // 3) if n_dirs is None else check_whole("n_dirs", n_dirs, 1)
        self.n_keys = check_whole("n_keys", n_keys, 1)
        self.n_targets = check_whole("n_targets", n_targets, 1)
        if self.n_keys > 16:
            raise ValueError(f"n_keys must be at most 16, the number of known config keys (got {n_keys})")
        if self.n_targets > min(2 * self.n_files, self.n_files * self.n_keys):
            raise ValueError(
                f"n_targets must be at most min(2 * n_files, n_files * n_keys) = "
                f"{min(2 * self.n_files, self.n_files * self.n_keys)} (got {n_targets})"
            )
        self.op_costs = dict(OP_COSTS)
        for op, cost in (op_costs or {}).items():
            if op not in OP_COSTS:
                raise ValueError(f"op_costs: unknown operation {op!r}; operations: {', '.join(OPS)}")
            self.op_costs[op] = float(cost)
        self._costs = [self.op_costs[op] for op in OPS]
        self.action_space = spaces.MultiDiscrete([len(OPS), self.n_targets])
        n = self.n_targets
        self.observation_space = spaces.Dict(
            {
                "status": spaces.MultiDiscrete([len(STATUSES)] * n),
                "age": spaces.Box(0.0, float(self.horizon), (n,), np.float32),
                "result": spaces.MultiDiscrete([len(RESULTS)] * n),
                "progress": spaces.Box(0.0, 1.0, (1,), np.float32),
                **self.notice_spaces(),
            }
        )
        self.view: View | None = None

    # ----- DriftEnv hooks
    def _build_world(self, rng: np.random.Generator) -> FileWorld:
        return FileWorld.generate(rng, self.n_files, self.n_dirs, self.n_keys, self.n_targets)

    def _reset_view(self):
        world = self.world
        self.view = View([world.path(t.inode) for t in world.targets])
        self.view.values = [t.desired for t in world.targets]
        self.in_spec_sum = 0.0
        return self._observe(), {}

    def _act(self, action):
        op, i = int(action[0]), int(action[1])
        name = OPS[op]
        result = None if name == "wait" else getattr(self, "_" + name)(i, self._t + 1)
        if result is not None:
            self.view.result[i] = RESULT_CODE[result]
        in_spec = self.world.count_ok() / self.n_targets
        self.in_spec_sum += in_spec
        reward = in_spec - self._costs[op]
        info = {"op": name, "target": i}
        if result is not None:
            info["result"] = result
        return reward, False, info

    def _observe(self):
        view = self.view
        return {
            "status": view.status.copy(),
            "age": (self._t - view.seen).astype(np.float32),
            "result": view.result.copy(),
            "progress": np.array([self._t / self.horizon], np.float32),
            **self.notice,
        }

    # ----- the operations: each returns its outcome name; ``t`` is the observation time
    def _open(self, i: int, t: int) -> tuple[int | None, str | None]:
        """The file at target ``i``'s known path, or the failure (ENOENT / EISDIR, seen as missing)."""
        inode = self.world.node_at.get(self.view.paths[i])
        failure = "ENOENT" if inode is None else "EISDIR" if self.world.node(inode).is_dir else None
        if failure:
            self.view.saw(i, MISSING, t)
        return inode, failure

    def _read(self, i: int, t: int) -> str:
        world, view = self.world, self.view
        inode, failure = self._open(i, t)
        if failure:
            return failure
        node = world.node(inode)
        view.writable[i] = node.writable
        if node.corrupt:
            view.values[i] = None
            view.saw(i, CORRUPT, t)
            return "EBADMSG"
        value = node.keys.get(world.targets[i].key)
        view.values[i] = value
        if value == world.targets[i].desired:
            view.saw(i, OK, t)
        else:
            view.saw(i, DRIFTED if node.writable else READ_ONLY, t)
        return "ok"

    def _write(self, i: int, t: int) -> str:
        world, view, target = self.world, self.view, self.world.targets[i]
        inode, failure = self._open(i, t)
        if failure:
            return failure
        node = world.node(inode)
        if not node.writable:
            view.writable[i] = False
            view.saw(i, CORRUPT if node.corrupt else READ_ONLY, t)
            return "EACCES"
        if node.corrupt:
            view.writable[i] = True
            view.saw(i, CORRUPT, t)
            return "EBADMSG"
        world.set_value(inode, target.key, target.desired, self._t)
        view.writable[i] = True
        view.values[i] = target.desired
        view.saw(i, OK, t)
        return "ok"

    def _locate(self, i: int, t: int) -> str:
        world, view = self.world, self.view
        path = world.path(world.targets[i].inode)
        if path is None:
            view.saw(i, MISSING, t)
            return "ENOENT"
        view.paths[i] = path
        view.values[i] = None
        view.writable[i] = None
        view.saw(i, UNKNOWN, t)
        return "ok"

    def _chmod(self, i: int, t: int) -> str:
        world, view = self.world, self.view
        inode, failure = self._open(i, t)
        if failure:
            return failure
        world.set_writable(inode, True)
        view.writable[i] = True
        if view.status[i] == READ_ONLY:
            view.status[i] = DRIFTED
        return "ok"

    def _restore(self, i: int, t: int) -> str:
        world, view, target = self.world, self.view, self.world.targets[i]
        result = world.restore_at(target.inode, view.paths[i], self._t)
        if result == "ok":
            view.values[i] = target.desired
            view.writable[i] = True
            view.saw(i, OK, t)
        return result

    # ----- beyond Gymnasium
    def episode_figures(self) -> dict[str, Any]:
        """The mean fraction of targets in spec over the episode's steps so far."""
        self._require_reset()
        return {"targets_in_spec": self.in_spec_sum / max(self._t, 1)}

    def view_facts(self) -> dict[str, Any]:
        """The facts the agent's view implies (keys as in ``facts()``; only those it has an
        opinion on). Targets sharing a file: the most recent observation wins."""
        self._require_reset()
        world, view = self.world, self.view
        facts: dict[str, Any] = {}
        order = sorted(range(self.n_targets), key=lambda i: (int(view.seen[i]), -i))
        for i in order:
            inode, path, status = world.targets[i].inode, view.paths[i], int(view.status[i])
            facts[f"target:{i}:path"] = path if status != MISSING else None
            if status != MISSING:
                facts[f"file:{inode}:path"] = path
            facts[f"file:{path}:exists"] = status != MISSING
            if view.writable[i] is not None and status != MISSING:
                facts[f"file:{path}:writable"] = view.writable[i]
            if status in (OK, DRIFTED, READ_ONLY, CORRUPT, MISSING):
                facts[f"target:{i}:ok"] = status == OK
            if status in (OK, DRIFTED, READ_ONLY):
                facts[f"target:{i}:value"] = view.values[i]
            elif status in (CORRUPT, MISSING):
                facts[f"target:{i}:value"] = None
            if status == CORRUPT:
                facts[f"file:{path}:corrupt"] = True
            elif status in (OK, DRIFTED, READ_ONLY):
                facts[f"file:{path}:corrupt"] = False
        return facts

    def _render_ansi(self) -> str:
        world = self.world
        marks: dict[int, list[str]] = {}
        for i, target in enumerate(world.targets):
            if world.node(target.inode) is not None and not world.target_ok(i):
                marks.setdefault(target.inode, []).append(f"drifted:{target.key}")
        lines = [f"step {self._t}/{self.horizon}  targets ok {world.count_ok()}/{self.n_targets}", "/"]
        shown = _shown_nodes(world) if len(world.nodes) > 200 else None
        self._render_dir(ROOT, 1, marks, shown, lines)
        for inode, record in sorted(world.deleted.items()):
            if inode in world.backups:
                lines.append(f"  [missing] {record['path']} (inode {inode})")
        return "\n".join(lines) + "\n"

    def _render_dir(self, inode: int, depth: int, marks, shown, lines: list[str]) -> None:
        world = self.world
        children = sorted(world.graph.succ[inode], key=lambda c: world.node(c).name)
        for child in children:
            if shown is not None and child not in shown:
                continue
            node = world.node(child)
            if node.is_dir:
                lines.append("  " * depth + node.name + "/")
                self._render_dir(child, depth + 1, marks, shown, lines)
                continue
            flags = list(marks.get(child, []))
            if not node.writable:
                flags.append("read-only")
            if node.corrupt:
                flags.append("corrupt")
            if node.decoy:
                flags.append("decoy")
            if child in world.backups:
                flags.insert(0, "managed")
            suffix = f"  [{', '.join(flags)}]" if flags else ""
            lines.append("  " * depth + node.name + suffix)


def _shown_nodes(world: FileWorld) -> set[int]:
    """For a big tree: only the managed files, the decoys and their directories."""
    shown: set[int] = set()
    for inode, node in world.nodes.items():
        if inode in world.backups or node.decoy:
            while inode != ROOT and inode not in shown:
                shown.add(inode)
                inode = world.node(inode).parent
    return shown
