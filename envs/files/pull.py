"""`DiskToWorld`: the sandbox's disk -> world half — the real tree scanned (agent errors
removed), its entries identified with the world's, and the world changed to what is there.

A mixin of `FileSandbox` (see ``sandbox.py``): it uses ``world``, ``disk``, ``root``, ``_stage``,
``host_path`` and ``world_path``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from driftgym.envs.files.ondisk import OnDisk, ReadBack, Seen, parse_document
from driftgym.envs.files.tree import ROOT, split
from driftgym.envs.files.tree import depth as _depth
from driftgym.envs.files.world import FileWorld

__all__ = ["DiskToWorld"]


class DiskToWorld:
    """``_pull``: read the real tree back into the world at the end of a step."""

    world: FileWorld
    disk: dict[int, OnDisk]
    root: Path
    _stage: str

    def host_path(self, path: str) -> Path:
        raise NotImplementedError  # FileSandbox.host_path

    def world_path(self, host: str | Path) -> str:
        raise NotImplementedError  # FileSandbox.world_path

    def _scan(self, errors: list[str]) -> dict[str, Seen]:
        """Every directory and regular file under the root (world paths); agent errors removed."""
        seen: dict[str, Seen] = {}
        known = {e.ino: e.path for e in self.disk.values()}
        links: dict[int, list[str]] = {}
        stack = [self.root]
        while stack:
            directory = stack.pop()
            with os.scandir(directory) as entries:
                listed = sorted(entries, key=lambda e: e.name)
            for item in listed:
                info = item.stat(follow_symlinks=False)
                path = self.world_path(item.path)
                if stat.S_ISDIR(info.st_mode):
                    seen[path] = Seen(True, info.st_ino, True, info.st_mtime_ns)
                    stack.append(Path(item.path))
                elif stat.S_ISREG(info.st_mode):
                    if info.st_nlink > 1:
                        links.setdefault(info.st_ino, []).append(path)
                    with open(item.path, "rb", opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW)) as stream:
                        content = stream.read()
                    seen[path] = Seen(False, info.st_ino, bool(info.st_mode & stat.S_IWUSR), info.st_mtime_ns, content)
                else:
                    kind = "symlink" if stat.S_ISLNK(info.st_mode) else "special file"
                    target = f" -> {os.readlink(item.path)}" if stat.S_ISLNK(info.st_mode) else ""
                    errors.append(f"{path}: a {kind}{target} is not allowed in the sandbox (not followed; removed)")
                    os.unlink(item.path)
        for ino, paths in sorted(links.items()):
            keep = known.get(ino) if known.get(ino) in paths else sorted(paths)[0]
            extra = [p for p in sorted(paths) if p != keep]
            if len(extra) + 1 < os.lstat(self.host_path(keep)).st_nlink:
                extra.append(keep)  # it is also linked from outside the sandbox
            for path in extra:
                errors.append(f"{path}: a hard link to another file is not allowed in the sandbox (removed)")
                os.unlink(self.host_path(path))
                del seen[path]
        return seen

    def _identify(self, seen: dict[str, Seen]) -> dict[str, int]:
        """Disk path -> world inode, for the entries that are world entries (by real inode, else in place)."""
        by_ino = {e.ino: i for i, e in self.disk.items() if i != ROOT}
        at = {e.path: i for i, e in self.disk.items()}
        identity: dict[str, int] = {}
        claimed: set[int] = set()
        present = {item.ino for item in seen.values()}
        for path, item in sorted(seen.items()):
            inode = by_ino.get(item.ino)
            if inode is not None and self.disk[inode].is_dir == item.is_dir and inode not in claimed:
                identity[path] = inode
                claimed.add(inode)
        for path, item in sorted(seen.items()):
            inode = at.get(path)
            if path not in identity and not item.is_dir and inode is not None and not self.disk[inode].is_dir \
                    and inode not in claimed and self.disk[inode].ino not in present:
                identity[path] = inode
                claimed.add(inode)
        return identity

    def _pull(self, t: int) -> ReadBack:
        world, disk, changes, errors = self.world, self.disk, [], []
        seen = self._scan(errors)
        identity = self._identify(seen)
        claimed = set(identity.values())
        for inode in sorted(i for i in disk if i != ROOT and i not in claimed and not disk[i].is_dir):
            changes.append(f"delete {disk[inode].path}")
            world.delete_file(inode)
            del disk[inode]
        moving: set[int] = set()
        for path, inode in identity.items():
            parent_path, name = split(path)
            node = world.nodes[inode]
            parent = identity.get(parent_path, ROOT if parent_path == "/" else None)
            if parent != node.parent or name != node.name:
                moving.add(inode)
                world.move(inode, ROOT, f"{self._stage}-{inode}")
        for inode in sorted((i for i in disk if disk[i].is_dir and i != ROOT and i not in claimed), key=lambda i: -_depth(disk[i].path)):
            changes.append(f"rmdir {disk[inode].path}")
            world.remove_directory(inode)
            del disk[inode]
        written: list[tuple[int, str]] = []
        for path, item in sorted(seen.items(), key=lambda kv: (_depth(kv[0]), kv[0])):
            parent_path, name = split(path)
            parent = ROOT if parent_path == "/" else identity[parent_path]
            inode = identity.get(path)
            if inode is not None and inode in moving:
                changes.append(f"move {disk[inode].path} -> {path}")
                world.move(inode, parent, name)
            elif inode is None and item.is_dir:
                inode = world.add_entry(parent, name, True)
                changes.append(f"mkdir {path}")
            elif inode is None:
                inode = self._new_file(parent, path, name, t)
                changes.append(f"create {path}")
            identity[path] = inode
            if not item.is_dir:
                written += self._read_file(inode, path, item, t, changes)
        for path, inode in identity.items():
            item = seen[path]
            if item.is_dir:
                disk[inode] = OnDisk(path, True, item.ino)
        for inode, path in written:
            host = self.host_path(path)
            os.utime(host, (t, t), follow_symlinks=False)
            disk[inode].mtime_ns = os.lstat(host).st_mtime_ns
        return ReadBack(t, changes, errors)

    def _new_file(self, parent: int, path: str, name: str, t: int) -> int:
        """A file the agent made: a deleted file back where it last was, else a new one."""
        for inode, record in sorted(self.world.deleted.items()):
            if record["path"] == path:
                self.world.recreate_file(record)
                return inode
        return self.world.create_file(parent, name, [], t)

    def _read_file(self, inode: int, path: str, item: Seen, t: int, changes: list[str]) -> list[tuple[int, str]]:
        world, entry = self.world, self.disk.get(inode)
        node = world.nodes[inode]
        keys, corrupt = parse_document(item.content)
        fresh = entry is None or entry.ino != item.ino
        written = fresh or entry.content != item.content or entry.mtime_ns != item.mtime_ns
        if written:
            world.replace_keys(inode, keys, t)
            if node.corrupt != corrupt:
                world.set_corrupt(inode, corrupt, t)
            if entry is not None:
                changes.append(f"write {path}")
        if node.writable != item.writable:
            world.set_writable(inode, item.writable)
            changes.append(f"chmod {path} {'writable' if item.writable else 'read-only'}")
        self.disk[inode] = OnDisk(path, False, item.ino, keys, corrupt, item.writable, node.mtime, item.mtime_ns, item.content)
        return [(inode, path)] if written else []
