"""`FileQueries`: what a `FileWorld` answers without changing (lookups by inode and path, the
managed files, picking directories and names and values, the targets' state).

A mixin of `FileWorld`: it reads the world's ``graph``, ``nodes``, ``path_of``, ``node_at``,
``dir_ids``, ``deleted``, ``targets``, ``managed``, ``backups`` and ``version`` (see ``world.py``).
"""

from __future__ import annotations

from driftgym.envs.files.tree import KEY_DOMAINS, MAX_DEPTH, Node, Target, join, variant
from driftgym.envs.files.tree import depth as path_depth  # (``depth`` is a loop variable below)

__all__ = ["FileQueries"]


class FileQueries:
    """The queries of `FileWorld`: ``file_at``, ``dir_at``, ``path``, ``node``, ``managed_paths``,
    ``managed_directories``, ``damaged_managed``, ``state_of``, ``pick_directory``, ``fits``, ``height``,
    ``free_name``, ``alternative_value``, ``value``, ``target_value``, ``target_ok``, ``count_ok``."""

    nodes: dict[int, Node]
    path_of: dict[int, str]
    node_at: dict[str, int]
    dir_ids: list[int]
    targets: list[Target]
    managed: list[int]
    backups: dict[int, dict[str, str]]
    version: int

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
        return path_depth(path) + 1 + height <= MAX_DEPTH

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
