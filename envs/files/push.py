"""`WorldToDisk`: the sandbox's world -> disk half — the real tree made what the world says
(entries removed, moved through a staging directory, made, written, chmod-ed, stamped).

A mixin of `FileSandbox` (see ``sandbox.py``): it uses ``world``, ``disk``, ``root``, ``_stage``
and ``host_path``.
"""

from __future__ import annotations

import os
from pathlib import Path

from driftgym.envs.files.ondisk import DIRECTORY, READ_ONLY, WRITABLE, OnDisk, render_document
from driftgym.envs.files.tree import ROOT, split
from driftgym.envs.files.tree import depth as _depth
from driftgym.envs.files.world import FileWorld

__all__ = ["WorldToDisk"]


class WorldToDisk:
    """``_push``: write the world's changes since the last push or read-back to the real files."""

    world: FileWorld
    disk: dict[int, OnDisk]
    root: Path
    _stage: str

    def host_path(self, path: str) -> Path:
        raise NotImplementedError  # FileSandbox.host_path

    def _fix_directories(self) -> None:
        """Directories carry no world state: make sure we can work in every one of them."""
        for inode, entry in self.disk.items():
            if entry.is_dir:
                host = self.root if inode == ROOT else self.host_path(entry.path)
                if os.lstat(host).st_mode & 0o700 != 0o700:
                    os.chmod(host, DIRECTORY)

    def _push(self) -> None:
        world, disk = self.world, self.disk
        self._fix_directories()
        for inode in sorted((i for i in disk if i not in world.nodes), key=lambda i: -_depth(disk[i].path)):
            entry = disk.pop(inode)
            host = self.host_path(entry.path)
            os.rmdir(host) if entry.is_dir else os.unlink(host)
        at = {entry.path: inode for inode, entry in disk.items()}
        parent_of = {i: at[split(e.path)[0]] for i, e in disk.items() if i != ROOT}
        name_of = {i: split(e.path)[1] for i, e in disk.items() if i != ROOT}
        staged: set[int] = set()
        stage = self.root / self._stage

        def location(inode: int) -> Path:
            if inode == ROOT:
                return self.root
            if inode in staged:
                return stage / str(inode)
            return location(parent_of[inode]) / name_of[inode]

        tops = [i for i in disk if i != ROOT and (world.nodes[i].parent, world.nodes[i].name) != (parent_of[i], name_of[i])]
        if tops:
            os.mkdir(stage, DIRECTORY)
        for inode in tops:
            source = location(inode)
            os.rename(source, stage / str(inode))
            staged.add(inode)
        for inode, path in sorted(world.path_of.items(), key=lambda item: (_depth(item[1]), item[1])):
            if inode == ROOT:
                continue
            node, host = world.nodes[inode], self.host_path(path)
            if inode in staged:
                os.rename(stage / str(inode), host)
            elif inode not in disk and node.is_dir:
                os.mkdir(host, DIRECTORY)
            if node.is_dir:
                disk.setdefault(inode, OnDisk(path, True, os.lstat(host).st_ino)).path = path
                continue
            self._write_file(inode, path, host)
        if tops:
            os.rmdir(stage)

    def _write_file(self, inode: int, path: str, host: Path) -> None:
        node, entry = self.world.nodes[inode], self.disk.get(inode)
        keys = list(node.keys.items())
        if entry is None or entry.keys != keys or entry.corrupt != node.corrupt:
            content = render_document(node.keys, node.corrupt)
            flags = os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW | (os.O_CREAT | os.O_EXCL if entry is None else 0)
            if entry is not None and not entry.writable:
                os.chmod(host, WRITABLE)
            descriptor = os.open(host, flags, WRITABLE)
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(content)
            entry = entry or OnDisk(path, False, os.lstat(host).st_ino)
            entry.keys, entry.corrupt, entry.content, entry.writable = keys, node.corrupt, content, True
            self.disk[inode] = entry
        entry.path = path
        if entry.writable != node.writable:
            os.chmod(host, WRITABLE if node.writable else READ_ONLY)
            entry.writable = node.writable
        if entry.mtime != node.mtime or entry.mtime_ns != os.lstat(host).st_mtime_ns:
            os.utime(host, (node.mtime, node.mtime), follow_symlinks=False)
            entry.mtime, entry.mtime_ns = node.mtime, os.lstat(host).st_mtime_ns
