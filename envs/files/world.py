"""`FileWorld`: a virtual file tree (never the real disk) that another writer keeps changing.

The tree is a networkx ``DiGraph`` of inodes rooted at inode 0 (``/``); an edge goes from a
directory to each entry in it. Beside the graph the world keeps indexes — ``path_of`` (inode ->
path) and ``node_at`` (path -> inode) — so that a lookup costs a dict access, a file move costs
O(depth) and a directory move O(its subtree). Only ``state_dict``, ``facts``, ``digest`` and
``check_invariants`` walk the whole tree.

A file has a stable identity (its inode survives moves and restores), a mode (writable or
read-only), an mtime in steps, and content: an ordered ``key -> value`` config document, which
can be corrupt (unparseable) or truncated (its trailing keys lost). The desired-state spec lists
``(inode, key, desired value)`` targets; the files holding them are the *managed* files, and
each has a backup (its document as generated, where every target key holds its desired value).

The class is split in modules: ``tree.py`` (entries, targets, key domains, path helpers),
``queries.py`` (`FileQueries`), ``snapshots.py`` (`FileSnapshots`: state_dict, facts, invariants);
this one holds the world's state and its mutation methods.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from driftgym.envs.base import World
from driftgym.envs.files.queries import FileQueries
from driftgym.envs.files.snapshots import FileSnapshots
from driftgym.envs.files.tree import KEY_DOMAINS, KEY_NAMES, MAX_DEPTH, ROOT, Node, Target, join, split
from driftgym.envs.files.tree import depth, variant  # noqa: F401  (re-exported: importable from here as before)

__all__ = ["FileWorld", "KEY_DOMAINS", "KEY_NAMES", "MAX_DEPTH", "Node", "ROOT", "Target"]


class FileWorld(FileQueries, FileSnapshots, World):
    """The file tree, its indexes, the desired-state spec and the backups.

    Mutation methods (what the ``files`` perturbation kinds and the env's operations call):
    ``set_value``, ``set_writable``, ``set_corrupt``, ``replace_keys``, ``move``,
    ``remove_key``, ``delete_file``, ``recreate_file``, ``create_file``, ``remove_file``, ``restore_backup``,
    ``restore_at``, ``mkdirs``, ``remove_directory``. Queries: ``file_at``, ``path``, ``node``, ``managed_paths``,
    ``managed_directories``, ``damaged_managed``, ``pick_directory``, ``free_name``,
    ``alternative_value``, ``target_value``, ``target_ok``, ``count_ok``.
    """

    kind = "files"

    def __init__(self) -> None:
        self.graph = nx.DiGraph()
        self.nodes: dict[int, Node] = {}
        self.path_of: dict[int, str] = {}
        self.node_at: dict[str, int] = {}
        self.dir_ids: list[int] = []  # every directory but the root, by inode (ascending)
        self.deleted: dict[int, dict[str, Any]] = {}  # inode -> record of a deleted file
        self.targets: list[Target] = []
        self.managed: list[int] = []  # inodes of the files holding targets, ascending
        self.target_keys: dict[int, list[str]] = {}  # managed inode -> its target keys, sorted
        self.backups: dict[int, dict[str, str]] = {}
        self.homes: dict[int, str] = {}  # managed inode -> its path as generated
        self.next_inode = 1
        self.version = 0  # bumped by every change of content or existence (caches ``count_ok``)
        self._ok_cache = (-1, 0)
        root = Node(ROOT, "", ROOT, True)
        self.nodes[ROOT] = root
        self.graph.add_node(ROOT)
        self.path_of[ROOT] = "/"
        self.node_at["/"] = ROOT

    @classmethod
    def generate(cls, rng: np.random.Generator, n_files: int, n_dirs: int, n_keys: int, n_targets: int) -> FileWorld:
        """A generated tree and its spec (see ``driftgym.envs.files.generate``)."""
        from driftgym.envs.files.generate import generate_world

        return generate_world(cls(), rng, n_files, n_dirs, n_keys, n_targets)

    def set_spec(self, targets: list[Target]) -> None:
        """The desired-state spec; the managed files' current documents become their backups."""
        self.targets = list(targets)
        self.managed = sorted({t.inode for t in targets})
        for inode in self.managed:
            self.target_keys[inode] = sorted(t.key for t in targets if t.inode == inode)
            self.backups[inode] = dict(self.nodes[inode].keys)
            self.homes[inode] = self.path_of[inode]

    def add_entry(self, parent: int, name: str, is_dir: bool) -> int:
        """A new directory or (empty) file in directory ``parent``; its inode."""
        return self._add(parent, name, is_dir)

    def _add(self, parent: int, name: str, is_dir: bool, inode: int | None = None) -> int:
        if inode is None:
            inode = self.next_inode
            self.next_inode += 1
        node = Node(inode, name, parent, is_dir)
        self.nodes[inode] = node
        self.graph.add_edge(parent, inode)
        path = join(self.path_of[parent], name)
        self.path_of[inode] = path
        self.node_at[path] = inode
        if is_dir:
            self.dir_ids.append(inode)  # new inodes are the largest: the list stays sorted
        return inode

    # ------------------------------------------------------------------ mutations
    def set_value(self, inode: int, key: str, value: str, step: int) -> None:
        node = self.nodes[inode]
        node.keys[key] = value
        node.mtime = step
        self.version += 1

    def remove_key(self, inode: int, key: str, step: int) -> None:
        node = self.nodes[inode]
        node.keys.pop(key, None)
        node.mtime = step
        self.version += 1

    def set_writable(self, inode: int, writable: bool) -> None:
        self.nodes[inode].writable = writable

    def set_corrupt(self, inode: int, corrupt: bool, step: int) -> None:
        node = self.nodes[inode]
        node.corrupt = corrupt
        node.mtime = step
        self.version += 1

    def replace_keys(self, inode: int, keys: list[tuple[str, str]], step: int) -> None:
        node = self.nodes[inode]
        node.keys = dict(keys)
        node.mtime = step
        self.version += 1

    def move(self, inode: int, dir_inode: int, name: str) -> str:
        """Move (and/or rename) a file or a directory with everything under it; the new path."""
        node = self.nodes[inode]
        self.graph.remove_edge(node.parent, inode)
        self.graph.add_edge(dir_inode, inode)
        node.parent = dir_inode
        node.name = name
        self._reindex(inode, join(self.path_of[dir_inode], name))
        return self.path_of[inode]

    def _reindex(self, top: int, top_path: str) -> None:
        """New paths for ``top`` and its subtree (the new paths are all free: see ``move``)."""
        stack = [(top, top_path)]
        while stack:
            inode, path = stack.pop()
            del self.node_at[self.path_of[inode]]
            self.path_of[inode] = path
            self.node_at[path] = inode
            for child in self.graph.succ[inode]:
                stack.append((child, join(path, self.nodes[child].name)))

    def delete_file(self, inode: int) -> dict[str, Any]:
        """Remove a file from the tree; its record is kept (for ``restore`` and reverts)."""
        record = self.file_record(inode)
        self.version += 1
        node = self.nodes.pop(inode)
        self.graph.remove_node(inode)
        del self.node_at[self.path_of.pop(inode)]
        if not node.decoy:
            self.deleted[inode] = record
        return record

    def remove_file(self, inode: int) -> None:
        """Remove a file leaving no record (a decoy taken back)."""
        self.delete_file(inode)
        self.deleted.pop(inode, None)

    def remove_directory(self, inode: int) -> None:
        """Remove an empty directory (not the root): what ``rmdir`` did in a real sandbox."""
        if inode == ROOT or not self.nodes[inode].is_dir or self.graph.out_degree(inode):
            raise ValueError(f"remove_directory: inode {inode} is not an empty directory other than /")
        self.nodes.pop(inode)
        self.graph.remove_node(inode)
        del self.node_at[self.path_of.pop(inode)]
        self.dir_ids.remove(inode)

    def file_record(self, inode: int) -> dict[str, Any]:
        node = self.nodes[inode]
        return {
            "inode": inode,
            "path": self.path_of[inode],
            "writable": node.writable,
            "mtime": node.mtime,
            "corrupt": node.corrupt,
            "decoy": node.decoy,
            "keys": [[k, v] for k, v in node.keys.items()],
        }

    def mkdirs(self, path: str) -> int | None:
        """The directory at ``path``, made with its missing parents; None if a file is in the way."""
        missing: list[str] = []
        while path not in self.node_at:
            path, name = split(path)
            missing.append(name)
        inode = self.node_at[path]
        if not self.nodes[inode].is_dir:
            return None
        for name in reversed(missing):
            inode = self._add(inode, name, True)
        return inode

    def create_file(self, dir_inode: int, name: str, keys: list[tuple[str, str]], step: int, decoy: bool = False) -> int:
        inode = self._add(dir_inode, name, False)
        node = self.nodes[inode]
        node.keys = dict(keys)
        node.mtime = step
        self.version += 1
        node.decoy = decoy
        return inode

    def recreate_file(self, record: dict[str, Any]) -> str | None:
        """Put a deleted file back as its record says (a free variant name if its path is taken)."""
        inode = record["inode"]
        if inode in self.nodes:
            return None
        parent_path, name = split(record["path"])
        parent = self.mkdirs(parent_path)
        if parent is None:
            return None
        self._add(parent, self.free_name(parent, name), False, inode)
        node = self.nodes[inode]
        node.writable, node.mtime, node.corrupt, node.decoy = (
            record["writable"], record["mtime"], record["corrupt"], record["decoy"],
        )
        node.keys = {k: v for k, v in record["keys"]}
        self.deleted.pop(inode, None)
        self.version += 1
        return self.path_of[inode]

    def restore_backup(self, inode: int, step: int) -> str | None:
        """The other writer's restore: the backup document, in place or at the file's last path."""
        if inode in self.deleted:
            record = dict(self.deleted[inode], writable=True, corrupt=False)
            if self.recreate_file(record) is None:
                return None
        node = self.nodes[inode]
        node.keys = dict(self.backups[inode])
        node.corrupt = False
        node.mtime = step
        self.version += 1
        return self.path_of[inode]

    def restore_at(self, inode: int, path: str, step: int) -> str:
        """The agent's restore: the file, from its backup, at ``path``: ``ok`` or ``EEXIST``.

        Fails with ``EEXIST`` when another entry holds ``path`` or a file is in the way of its
        directories. Otherwise the missing directories are made, a moved file is brought back
        to ``path``, a deleted one recreated there (same inode), and the content is the backup,
        writable and parseable.
        """
        occupant = self.node_at.get(path)
        if occupant is not None and occupant != inode:
            return "EEXIST"
        parent_path, name = split(path)
        parent = self.mkdirs(parent_path)
        if parent is None:
            return "EEXIST"
        if inode in self.nodes:
            if self.path_of[inode] != path:
                self.move(inode, parent, name)
        else:
            self._add(parent, name, False, inode)
            self.deleted.pop(inode, None)
        node = self.nodes[inode]
        node.keys = dict(self.backups[inode])
        node.writable = True
        node.corrupt = False
        node.mtime = step
        self.version += 1
        return "ok"
