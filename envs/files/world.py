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
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from driftgym.envs.base import World, invariant

__all__ = ["FileWorld", "KEY_DOMAINS", "KEY_NAMES", "MAX_DEPTH", "Node", "ROOT", "Target"]

ROOT = 0
KEY_DOMAINS: dict[str, tuple[str, ...]] = {
    "port": ("80", "443", "5432", "6379", "8080", "8443", "9000"),
    "host": ("localhost", "10.0.0.5", "db.internal", "cache.internal", "0.0.0.0"),
    "timeout": ("5", "10", "30", "60", "120"),
    "workers": ("1", "2", "4", "8", "16"),
    "log_level": ("debug", "info", "warning", "error"),
    "enabled": ("true", "false"),
    "max_connections": ("50", "100", "200", "500", "1000"),
    "cache_size": ("64M", "128M", "256M", "512M", "1G"),
    "user": ("www-data", "app", "postgres", "nobody"),
    "tls": ("on", "off"),
    "retries": ("0", "1", "3", "5"),
    "compression": ("none", "gzip", "zstd"),
    "keepalive": ("on", "off"),
    "region": ("eu-west-1", "us-east-1", "ap-south-1"),
    "mode": ("production", "staging", "development"),
    "backlog": ("128", "511", "1024", "4096"),
}
KEY_NAMES = tuple(KEY_DOMAINS)
MAX_DEPTH = 8  # no path has more components (moves that would go deeper pick another place)


class Node:
    """One directory or file of the tree (file fields are unused on directories)."""

    __slots__ = ("inode", "name", "parent", "is_dir", "writable", "mtime", "keys", "corrupt", "decoy")

    def __init__(self, inode: int, name: str, parent: int, is_dir: bool) -> None:
        self.inode = inode
        self.name = name
        self.parent = parent
        self.is_dir = is_dir
        self.writable = True
        self.mtime = 0
        self.keys: dict[str, str] = {}
        self.corrupt = False
        self.decoy = False


class Target:
    """One line of the desired-state spec: ``key`` of file ``inode`` must hold ``desired``."""

    __slots__ = ("inode", "key", "desired")

    def __init__(self, inode: int, key: str, desired: str) -> None:
        self.inode = inode
        self.key = key
        self.desired = desired

    def to_dict(self) -> dict[str, Any]:
        return {"inode": self.inode, "key": self.key, "desired": self.desired}


def depth(path: str) -> int:
    """Components of a path: 0 for ``/``, 1 for ``/etc``."""
    return 0 if path == "/" else path.count("/")


def join(parent_path: str, name: str) -> str:
    return "/" + name if parent_path == "/" else parent_path + "/" + name


def split(path: str) -> tuple[str, str]:
    head, _, name = path.rpartition("/")
    return (head or "/"), name


def variant(name: str, k: int) -> str:
    """``db.ini`` -> ``db-2.ini`` (a directory ``app`` -> ``app-2``)."""
    stem, dot, ext = name.partition(".")
    return f"{stem}-{k}{dot}{ext}"


class FileWorld(World):
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

    # ------------------------------------------------------------------ queries
    def node(self, inode: int) -> Node | None:
        return self.nodes.get(inode)

    def path(self, inode: int) -> str | None:
        return self.path_of.get(inode)

    def file_at(self, path: str) -> int | None:
        inode = self.node_at.get(path)
        return None if inode is None or self.nodes[inode].is_dir else inode

    def dir_at(self, path: str) -> int | None:
        inode = self.node_at.get(path)
        return inode if inode is not None and self.nodes[inode].is_dir else None

    def managed_paths(self, writable: bool | None = None, corrupt: bool | None = None) -> list[str]:
        """Current paths of the existing managed files (optionally filtered by mode/corruption)."""
        paths = []
        for inode in self.managed:
            node = self.nodes.get(inode)
            if node is None or (writable is not None and node.writable != writable):
                continue
            if corrupt is not None and node.corrupt != corrupt:
                continue
            paths.append(self.path_of[inode])
        return paths

    def managed_directories(self) -> list[str]:
        """Directories at depth >= 2 holding a managed file (what ``move_directory`` draws from)."""
        found = set()
        for path in self.managed_paths():
            parts = path.split("/")[1:-1]
            for depth in range(2, len(parts) + 1):
                found.add("/" + "/".join(parts[:depth]))
        return sorted(found)

    def damaged_managed(self) -> dict[str, int]:
        """Managed files that are deleted, corrupt or truncated: path (last path if deleted) -> inode."""
        damaged = {}
        for inode in self.managed:
            node = self.nodes.get(inode)
            if node is None:
                damaged[self.deleted[inode]["path"]] = inode
            elif node.corrupt or any(k not in node.keys for k in self.backups[inode]):
                damaged[self.path_of[inode]] = inode
        return damaged

    def state_of(self, inode: int) -> str:
        """``deleted``, ``corrupt``, ``truncated`` (a backup key lost) or ``ok``."""
        node = self.nodes.get(inode)
        if node is None:
            return "deleted"
        if node.corrupt:
            return "corrupt"
        if inode in self.backups and any(k not in node.keys for k in self.backups[inode]):
            return "truncated"
        return "ok"

    def pick_directory(self, u: float, avoid_subtree: str | None = None, height: int = 0) -> int | None:
        """The directory ``u`` in [0, 1) picks in inode order, skipping ``avoid_subtree`` and
        those too deep to take an entry ``height`` levels tall (see ``fits``)."""
        ids = self.dir_ids
        if not ids:
            return None
        start = min(int(u * len(ids)), len(ids) - 1)
        for offset in range(len(ids)):
            inode = ids[(start + offset) % len(ids)]
            if self.fits(inode, avoid_subtree, height):
                return inode
        return None

    def fits(self, dir_inode: int, avoid_subtree: str | None = None, height: int = 0) -> bool:
        """Whether an entry ``height`` levels tall (0: a file or an empty directory) may move
        into the directory: not into ``avoid_subtree``, and no path deeper than ``MAX_DEPTH``."""
        path = self.path_of[dir_inode]
        if avoid_subtree is not None and (path == avoid_subtree or path.startswith(avoid_subtree + "/")):
            return False
        return depth(path) + 1 + height <= MAX_DEPTH

    def height(self, inode: int) -> int:
        """Levels below an entry: 0 for a file or an empty directory (walks its subtree)."""
        tallest, stack = 0, [(inode, 0)]
        while stack:
            node, level = stack.pop()
            tallest = max(tallest, level)
            stack.extend((child, level + 1) for child in self.graph.succ[node])
        return tallest

    def free_name(self, dir_inode: int, name: str) -> str:
        """``name`` if the directory has no such entry, else the first free ``name-2``, ``name-3``, ..."""
        base = self.path_of[dir_inode]
        candidate, k = name, 1
        while join(base, candidate) in self.node_at:
            k += 1
            candidate = variant(name, k)
        return candidate

    def alternative_value(self, key: str, current: str | None, u: float) -> str:
        """A plausible value of ``key`` other than ``current``, picked by ``u`` in [0, 1)."""
        domain = [v for v in KEY_DOMAINS.get(key, ()) if v != current]
        if not domain:
            return f"{current}-edited"
        return domain[min(int(u * len(domain)), len(domain) - 1)]

    def value(self, inode: int, key: str) -> str | None:
        """The value a parser reads: None when the file is gone, corrupt or lacks the key."""
        node = self.nodes.get(inode)
        if node is None or node.is_dir or node.corrupt:
            return None
        return node.keys.get(key)

    def target_value(self, i: int) -> str | None:
        target = self.targets[i]
        return self.value(target.inode, target.key)

    def target_ok(self, i: int) -> bool:
        return self.target_value(i) == self.targets[i].desired

    def count_ok(self) -> int:
        """How many targets hold their desired value (recounted only after a change)."""
        version, count = self._ok_cache
        if version != self.version:
            count = sum(self.value(t.inode, t.key) == t.desired for t in self.targets)
            self._ok_cache = (self.version, count)
        return count

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

    # ------------------------------------------------------------------ snapshots
    def state_dict(self) -> dict[str, Any]:
        files, dirs = {}, {}
        for inode, path in self.path_of.items():
            node = self.nodes[inode]
            if node.is_dir:
                dirs[path] = inode
            else:
                record = self.file_record(inode)
                del record["path"]
                files[path] = record
        return {
            "files": files,
            "dirs": dirs,
            "deleted": {str(i): r for i, r in sorted(self.deleted.items())},
            "targets": [t.to_dict() for t in self.targets],
            "next_inode": self.next_inode,
        }

    def facts(self) -> dict[str, Any]:
        """``file:<path>:exists|writable|corrupt``, ``file:<inode>:path``, ``dir:<path>:exists``,
        ``target:<i>:path|value|ok``. A path of a deleted managed file (its last path) and the
        generated path of a managed file that moved are listed with ``exists: False``.
        """
        facts: dict[str, Any] = {}
        for inode, path in sorted(self.path_of.items()):
            node = self.nodes[inode]
            if node.is_dir:
                facts[f"dir:{path}:exists"] = True
                continue
            facts[f"file:{path}:exists"] = True
            facts[f"file:{path}:writable"] = node.writable
            facts[f"file:{path}:corrupt"] = node.corrupt
            facts[f"file:{inode}:path"] = path
        for inode, record in sorted(self.deleted.items()):
            facts[f"file:{inode}:path"] = None
            facts.setdefault(f"file:{record['path']}:exists", False)
        for inode in self.managed:
            facts.setdefault(f"file:{self.homes[inode]}:exists", False)
        for i, target in enumerate(self.targets):
            facts[f"target:{i}:path"] = self.path_of.get(target.inode)
            facts[f"target:{i}:value"] = self.target_value(i)
            facts[f"target:{i}:ok"] = self.target_ok(i)
        return facts

    def check_invariants(self) -> None:
        """Raise AssertionError naming the first broken invariant of the tree and its indexes."""
        g = self.graph
        invariant(set(g.nodes) == set(self.nodes), "graph nodes and node records differ")
        roots = [n for n in g.nodes if g.in_degree(n) == 0]
        invariant(roots == [ROOT], f"the tree must have exactly one root, inode 0 (roots: {roots})")
        invariant(nx.is_arborescence(g), "not a tree: some entry is unreachable from / or has two parents")
        invariant(len(self.path_of) == len(self.nodes) == len(self.node_at), "path indexes out of sync")
        for inode, node in self.nodes.items():
            invariant(node.inode == inode, f"inode {inode} is recorded as {node.inode}")
            if inode == ROOT:
                continue
            invariant(node.name and "/" not in node.name, f"bad name {node.name!r} of inode {inode}")
            invariant(list(g.pred[inode]) == [node.parent], f"inode {inode}: parent {node.parent} is not its graph parent")
            invariant(self.nodes[node.parent].is_dir, f"inode {inode} lives in a file")
            expected = join(self.path_of[node.parent], node.name)
            invariant(self.path_of[inode] == expected, f"inode {inode}: indexed at {self.path_of[inode]}, is at {expected}")
            invariant(self.node_at.get(expected) == inode, f"path {expected} does not index inode {inode}")
            if not node.is_dir:
                invariant(g.out_degree(inode) == 0, f"file {expected} has entries under it")
        invariant(not set(self.deleted) & set(self.nodes), "a deleted inode is still in the tree")
        invariant(self.dir_ids == sorted(i for i, n in self.nodes.items() if n.is_dir and i != ROOT), "dir_ids out of sync")
        invariant(all(i < self.next_inode for i in self.nodes), "an inode at or above next_inode")
        invariant(all(depth(p) <= MAX_DEPTH for p in self.node_at), f"a path deeper than {MAX_DEPTH} components")
        fresh = sum(self.value(t.inode, t.key) == t.desired for t in self.targets)
        invariant(self.count_ok() == fresh, "count_ok is stale: a change bypassed the mutation methods")
