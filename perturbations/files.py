"""File kinds: another writer edits, moves, deletes, locks and corrupts files (``world = "files"``).

They act on a file world (driftgym/FileSystem-v0) through its public methods only. A kind's
omitted target (``path``) is drawn at compile time as a uniform ``pick`` and resolved at apply
time against the sorted current paths of the *managed* files (those holding a target of the
desired-state spec) that the kind can act on. Other random choices (which directory, which key,
which value) are ``{uniform: [0, 1]}`` parameters drawn at compile time: a destination directory
is the one ``where`` picks in inode order; a key is the one ``key_pick`` picks among the file's
keys in sorted order. When a named target does not exist, or nothing qualifies, the kind does
nothing and its event has ``before = after = None``.

=================  ===============================================================  ==================
kind               what it does                                                     candidates
=================  ===============================================================  ==================
``edit_file``      sets ``count`` keys to other plausible values                    managed files
``move_file``      moves the file to another directory (same directory: renames)    managed files
``move_directory`` moves a directory and everything under it                        dirs of depth >= 2
                                                                                    holding one
``delete_file``    removes the file                                                 managed files
``chmod_readonly`` makes the file read-only (``duration``: a lock that lifts)       writable ones
``corrupt_file``   makes the content unparseable                                    parseable ones
``truncate_file``  keeps the first ``keep`` fraction of the keys                    parseable ones
``create_decoy``   a lookalike (same name, copied content, new inode) elsewhere     managed files
``restore_file``   the other writer restores the file from backup                   deleted, corrupt
                                                                                    or truncated ones
=================  ===============================================================  ==================

Events: ``target`` is the file's (or directory's) path when the kind fired; ``before``/``after``
are small dicts that always carry the ``inode`` (e.g. ``{"inode": 7, "path": "/etc/app/db.ini"}``
-> ``{"inode": 7, "path": "/srv/web/db.ini"}``). Every kind but ``restore_file`` can run in a
``window`` (it reverts what it did, as far as the world still allows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from driftgym.perturbations.core import Perturbation, PerturbationError, register_kind

__all__ = [
    "ChmodReadonly",
    "CorruptFile",
    "CreateDecoy",
    "DeleteFile",
    "EditFile",
    "MoveDirectory",
    "MoveFile",
    "RestoreFile",
    "TruncateFile",
]

NOTHING = (None, None)


def uniform() -> dict[str, list[float]]:
    return {"uniform": [0.0, 1.0]}


def _check_unit(kind: str, name: str, value: Any) -> None:
    if isinstance(value, float) and not 0.0 <= value < 1.0:
        raise PerturbationError(f"{name}: {kind} needs {name} in [0, 1) (got {value})")


@dataclass(frozen=True)
class FileKind(Perturbation):
    """Shared by the file kinds: the target path, resolved against sorted managed paths."""

    world = "files"
    target_field = "path"

    def candidates(self, world: Any) -> list[str]:
        return world.managed_paths()

    def chosen_file(self, world: Any) -> tuple[str | None, int | None]:
        path = self.target(self.candidates(world))
        return path, (None if path is None else world.file_at(path))

    def revert(self, world: Any, target: Any, before: Any, step: int) -> tuple[Any, Any, Any]:
        if before is None:  # the firing did nothing
            return target, None, None
        return self.undo(world, target, before, step)

    def undo(self, world: Any, target: Any, before: Any, step: int) -> tuple[Any, Any, Any]:
        raise PerturbationError(f"{self.kind} cannot be reverted, so it cannot run in a window")

    @property
    def revertible(self) -> bool:
        return type(self).undo is not FileKind.undo

    def validate(self) -> None:
        for name in ("pick", "where", "key_pick", "value_pick"):
            _check_unit(self.kind, name, getattr(self, name, None))


def _destination(world: Any, to: str | None, where: float, avoid_subtree: str | None = None, height: int = 0) -> int | None:
    """The named directory ``to`` if the entry may go there, else the one ``where`` picks."""
    if to is not None:
        inode = world.dir_at(to)
        return inode if inode is not None and world.fits(inode, avoid_subtree, height) else None
    return world.pick_directory(where, avoid_subtree, height)


def _move_back(world: Any, target: Any, before: Any) -> tuple[Any, Any, Any]:
    """Revert a move: back to ``before["path"]`` if the file is there and the path is free."""
    inode = before["inode"]
    now = world.path(inode)
    if now is None or now == before["path"] or world.node_at.get(before["path"]) is not None:
        return target, None, None
    parent_path, _, name = before["path"].rpartition("/")
    parent = world.dir_at(parent_path or "/")
    if parent is None or not world.fits(parent, height=world.height(inode)):
        return target, None, None
    world.move(inode, parent, name)
    return target, {"inode": inode, "path": now}, before


@register_kind
@dataclass(frozen=True)
class EditFile(FileKind):
    kind = "edit_file"
    summary = "another writer sets some keys of a file to other values"
    path: str | None = None
    key: str | None = None
    value: str | None = None
    count: int = 1
    targets_only: bool = False
    key_pick: float = field(default_factory=uniform)
    value_pick: float = field(default_factory=uniform)
    pick: float | None = None

    def candidates(self, world):
        return world.managed_paths(corrupt=False)

    def validate(self) -> None:
        super().validate()
        if self.count < 1:
            raise PerturbationError(f"count: edit_file needs count >= 1 (got {self.count})")

    def keys_to_edit(self, world: Any, inode: int) -> list[str]:
        if self.key is not None:
            return [self.key]
        pool = world.target_keys.get(inode, []) if self.targets_only else sorted(world.node(inode).keys)
        if not pool:
            return []
        start = min(int(self.key_pick * len(pool)), len(pool) - 1)
        return [pool[(start + j) % len(pool)] for j in range(min(self.count, len(pool)))]

    def change(self, world, rng, step):
        path, inode = self.chosen_file(world)
        if inode is None or world.node(inode).corrupt:
            return (path, *NOTHING)
        old, new = {}, {}
        for j, key in enumerate(self.keys_to_edit(world, inode)):
            current = world.node(inode).keys.get(key)
            u = (self.value_pick + j * 0.6180339887) % 1.0
            value = self.value if self.value is not None else world.alternative_value(key, current, u)
            old[key], new[key] = current, value
            world.set_value(inode, key, value, step)
        return path, {"inode": inode, "values": old}, {"inode": inode, "values": new}

    def undo(self, world, target, before, step):
        inode = before["inode"]
        node = world.node(inode)
        if node is None or node.corrupt:
            return target, None, None
        now = {k: node.keys.get(k) for k in before["values"]}
        for key, value in before["values"].items():
            if value is None:
                world.remove_key(inode, key, step)
            else:
                world.set_value(inode, key, value, step)
        return target, {"inode": inode, "values": now}, before


@register_kind
@dataclass(frozen=True)
class MoveFile(FileKind):
    kind = "move_file"
    summary = "move a file to another directory, or rename it in its own"
    path: str | None = None
    to: str | None = None
    name: str | None = None
    where: float = field(default_factory=uniform)
    pick: float | None = None

    def change(self, world, rng, step):
        path, inode = self.chosen_file(world)
        if inode is None:
            return (path, *NOTHING)
        dest = _destination(world, self.to, self.where)
        if dest is None:
            return (path, *NOTHING)
        new = world.move(inode, dest, world.free_name(dest, self.name or world.node(inode).name))
        return path, {"inode": inode, "path": path}, {"inode": inode, "path": new}

    def undo(self, world, target, before, step):
        return _move_back(world, target, before)


@register_kind
@dataclass(frozen=True)
class MoveDirectory(FileKind):
    kind = "move_directory"
    summary = "move a directory with everything under it (to: the new parent directory)"
    path: str | None = None
    to: str | None = None
    name: str | None = None
    where: float = field(default_factory=uniform)
    pick: float | None = None

    def candidates(self, world):
        return world.managed_directories()

    def change(self, world, rng, step):
        path = self.target(self.candidates(world))
        inode = None if path is None or path == "/" else world.dir_at(path)
        if inode is None:
            return (path, *NOTHING)
        dest = _destination(world, self.to, self.where, avoid_subtree=path, height=world.height(inode))
        if dest is None:
            return (path, *NOTHING)
        new = world.move(inode, dest, world.free_name(dest, self.name or world.node(inode).name))
        return path, {"inode": inode, "path": path}, {"inode": inode, "path": new}

    def undo(self, world, target, before, step):
        now = world.path(before["inode"])
        if now is not None and before["path"].startswith(now + "/"):
            return target, None, None  # its old place now lies inside it
        return _move_back(world, target, before)


@register_kind
@dataclass(frozen=True)
class DeleteFile(FileKind):
    kind = "delete_file"
    summary = "delete a file"
    path: str | None = None
    pick: float | None = None

    def change(self, world, rng, step):
        path, inode = self.chosen_file(world)
        if inode is None:
            return (path, *NOTHING)
        record = world.delete_file(inode)
        return path, record, {"inode": inode, "path": None}

    def undo(self, world, target, before, step):
        if world.node(before["inode"]) is not None:
            return target, None, None
        new = world.recreate_file(before)
        if new is None:
            return target, None, None
        return target, {"inode": before["inode"], "path": None}, {"inode": before["inode"], "path": new}


@register_kind
@dataclass(frozen=True)
class ChmodReadonly(FileKind):
    kind = "chmod_readonly"
    summary = "make a file read-only (with duration: a lock that lifts after that many steps)"
    transient = True
    path: str | None = None
    duration: int | None = None
    pick: float | None = None

    def candidates(self, world):
        return world.managed_paths(writable=True)

    def validate(self) -> None:
        super().validate()
        if self.duration is not None and self.duration < 1:
            raise PerturbationError(f"duration: chmod_readonly needs duration >= 1 (got {self.duration})")

    def change(self, world, rng, step):
        path, inode = self.chosen_file(world)
        if inode is None or not world.node(inode).writable:
            return (path, *NOTHING)
        world.set_writable(inode, False)
        return path, {"inode": inode, "writable": True}, {"inode": inode, "writable": False}

    def undo(self, world, target, before, step):
        inode = before["inode"]
        node = world.node(inode)
        if node is None or node.writable:
            return target, None, None
        world.set_writable(inode, True)
        return target, {"inode": inode, "writable": False}, before


@register_kind
@dataclass(frozen=True)
class CorruptFile(FileKind):
    kind = "corrupt_file"
    summary = "make a file's content unparseable"
    path: str | None = None
    pick: float | None = None

    def candidates(self, world):
        return world.managed_paths(corrupt=False)

    def change(self, world, rng, step):
        path, inode = self.chosen_file(world)
        if inode is None or world.node(inode).corrupt:
            return (path, *NOTHING)
        world.set_corrupt(inode, True, step)
        return path, {"inode": inode, "corrupt": False}, {"inode": inode, "corrupt": True}

    def undo(self, world, target, before, step):
        inode = before["inode"]
        node = world.node(inode)
        if node is None or not node.corrupt:
            return target, None, None
        world.set_corrupt(inode, False, step)
        return target, {"inode": inode, "corrupt": True}, before


@register_kind
@dataclass(frozen=True)
class TruncateFile(FileKind):
    kind = "truncate_file"
    summary = "cut a file short: keep the first 'keep' fraction of its keys"
    path: str | None = None
    keep: float = 0.5
    pick: float | None = None

    def candidates(self, world):
        return world.managed_paths(corrupt=False)

    def validate(self) -> None:
        super().validate()
        if not 0.0 <= self.keep < 1.0:
            raise PerturbationError(f"keep: truncate_file needs keep in [0, 1) (got {self.keep})")

    def change(self, world, rng, step):
        path, inode = self.chosen_file(world)
        if inode is None or world.node(inode).corrupt:
            return (path, *NOTHING)
        items = [[k, v] for k, v in world.node(inode).keys.items()]
        kept = items[: int(len(items) * self.keep)]
        world.replace_keys(inode, kept, step)
        return path, {"inode": inode, "keys": items}, {"inode": inode, "keys": kept}

    def undo(self, world, target, before, step):
        inode = before["inode"]
        node = world.node(inode)
        if node is None or node.corrupt:
            return target, None, None
        now = [[k, v] for k, v in node.keys.items()]
        lost = [[k, v] for k, v in before["keys"] if k not in node.keys]
        world.replace_keys(inode, now + lost, step)
        return target, {"inode": inode, "keys": now}, {"inode": inode, "keys": now + lost}


@register_kind
@dataclass(frozen=True)
class CreateDecoy(FileKind):
    kind = "create_decoy"
    summary = "put a lookalike (same name, copied content, another inode) in another directory"
    path: str | None = None
    to: str | None = None
    where: float = field(default_factory=uniform)
    pick: float | None = None

    def change(self, world, rng, step):
        path, inode = self.chosen_file(world)
        if inode is None:
            return (path, *NOTHING)
        dest = _destination(world, self.to, self.where)
        if dest is None:
            return (path, *NOTHING)
        node = world.node(inode)
        decoy = world.create_file(dest, world.free_name(dest, node.name), list(node.keys.items()), step, decoy=True)
        return path, {"inode": decoy, "path": None}, {"inode": decoy, "path": world.path(decoy)}

    def undo(self, world, target, before, step):
        decoy = before["inode"]
        now = world.path(decoy)
        if now is None:
            return target, None, None
        world.remove_file(decoy)
        return target, {"inode": decoy, "path": now}, before


@register_kind
@dataclass(frozen=True)
class RestoreFile(FileKind):
    kind = "restore_file"
    summary = "the other writer restores a deleted, corrupt or truncated file from its backup"
    path: str | None = None
    pick: float | None = None

    def change(self, world, rng, step):
        damaged = world.damaged_managed()
        path = self.target(damaged)
        inode = damaged.get(path) if path is not None else None
        if inode is None and path is not None:
            inode = world.file_at(path)
            inode = inode if inode in world.backups else None
        if inode is None:
            return (path, *NOTHING)
        state = world.state_of(inode)
        new = world.restore_backup(inode, step)
        if new is None:
            return (path, *NOTHING)
        return path, {"inode": inode, "path": path, "state": state}, {"inode": inode, "path": new, "state": "ok"}
