"""`FileSnapshots`: the whole-tree walks of a `FileWorld` — ``state_dict`` (what the digest
hashes), ``facts`` (what world-model accuracy is scored on) and ``check_invariants``.

A mixin of `FileWorld` (it reads the tree and its indexes, see ``world.py``); these are the only
methods besides ``digest`` that cost O(size of the tree).
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from driftgym.envs.base import invariant
from driftgym.envs.files.tree import MAX_DEPTH, ROOT, Node, Target, depth, join

__all__ = ["FileSnapshots"]


class FileSnapshots:
    """Snapshots of `FileWorld`: ``state_dict``, ``facts``, ``check_invariants``."""

    graph: nx.DiGraph
    nodes: dict[int, Node]
    path_of: dict[int, str]
    node_at: dict[str, int]
    dir_ids: list[int]
    deleted: dict[int, dict[str, Any]]
    targets: list[Target]
    managed: list[int]
    homes: dict[int, str]
    next_inode: int

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
