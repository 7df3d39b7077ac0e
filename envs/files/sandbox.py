"""The FileSystem world in a real directory: perturbations on real files, the world read back from disk.

``FileSandbox`` builds the world exactly as ``FileSystemEnv(...).reset(seed=s)`` does, writes it
into a new directory it creates (``/etc/app/db.ini`` -> ``DIR/etc/app/db.ini``), and then, step by
step, mirrors the env's step semantics: ``fire()`` applies the timeline's events of the step to the
world and to the real files; the agent runs whatever it likes in the directory (``ls``, ``cat``,
``sed -i``, ``mv``, ``chmod``, ``cp``, ``rm``, ``mkdir``); ``read_back()`` reads the tree back and
changes the world to what is really there. ``step(agent)`` does the three. The world's digest after
the same actions is the same on disk as in memory (tests/test_sandbox.py checks it).

On disk
    a file's document is ``key = value`` lines in order; a corrupt file starts with a line of
    NUL bytes (any line that is not ``key = value``, blank or a ``#`` comment makes a file corrupt,
    and its parseable lines are its keys); a truncated file has lost its trailing lines; a deleted
    file is absent; a read-only file is mode 0o444, a writable one 0o644 (writable = the owner's
    write bit); mtimes are virtual: second ``s`` of the Unix epoch is step ``s``.

What the agent's commands count as (read back at the end of step ``t``)
    - identity is the real inode number: ``mv`` moves or renames the world's file (directory);
      a file whose inode changed in place (``sed -i``, an editor saving by rename) is the same file;
    - a file is *written* at step ``t`` if its content, its inode or its mtime changed (``sed -i``
      on a target key, ``echo >>``, ``cat >``, ``touch``): its keys become what it holds, mtime ``t``;
    - ``chmod`` sets writable from the owner's write bit; ``rm`` deletes (the world keeps the
      record, as for the other writer's deletes); a file created where a deleted file last was is
      that file back (as ``restore`` does); any other new file or directory is a new entry;
      ``rmdir`` removes a directory;
    - a symlink, a device, fifo or socket, or a second hard link is an **agent error**: it is
      reported in ``ReadBack.errors``, never followed, and removed from the sandbox.
    A file deleted and another created in the same step may be taken for a move when the file
    system reuses the inode number. The agent's commands must not run during ``fire``/``read_back``.

Security: the directory must not exist (it is created, and only a directory this object created
is ever removed); every path is checked to stay inside it (no ``..``, no symlink on the way, writes
with ``O_NOFOLLOW``); ``close()`` (also at exit, and on SIGINT/SIGTERM in the command) removes it
unless ``keep``. Reading the tree back walks it (O(size) per step, as real I/O must).
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driftgym.envs.files.env import FileSystemEnv
from driftgym.envs.files.world import ROOT, split

__all__ = ["CORRUPT_LINE", "FileSandbox", "ReadBack", "SandboxError", "main", "parse_document", "render_document"]

CORRUPT_LINE = b"\x00\x00\x00\x00 driftgym: unparseable block \x00\x00\x00\x00\n"
KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*=\s*(.*?)\s*$")
WRITABLE, READ_ONLY, DIRECTORY = 0o644, 0o444, 0o755


class SandboxError(ValueError):
    """Misuse of a sandbox: a directory it may not use, a path that would leave it, a step out of order."""


def render_document(keys: dict[str, str], corrupt: bool) -> bytes:
    text = "".join(f"{k} = {v}\n" for k, v in keys.items()).encode()
    return CORRUPT_LINE + text if corrupt else text


def parse_document(data: bytes) -> tuple[list[tuple[str, str]], bool]:
    """The keys (in order; a repeated key keeps its first place and last value) and whether it is corrupt."""
    keys: dict[str, str] = {}
    corrupt = False
    for line in data.decode("utf-8", errors="surrogateescape").split("\n"):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = KEY_LINE.match(line)
        if match is None or any(ord(c) < 32 or 0xDC80 <= ord(c) <= 0xDCFF for c in line if c != "\t"):
            corrupt = True
            continue
        keys[match.group(1)] = match.group(2)
    return list(keys.items()), corrupt


@dataclass
class OnDisk:
    """What the sandbox last wrote or read for one world entry."""

    path: str
    is_dir: bool
    ino: int
    keys: list[tuple[str, str]] = field(default_factory=list)
    corrupt: bool = False
    writable: bool = True
    mtime: int = 0  # the world's mtime (steps)
    mtime_ns: int = 0  # the real one, as last stamped
    content: bytes = b""


@dataclass
class Seen:
    is_dir: bool
    ino: int
    writable: bool
    mtime_ns: int
    content: bytes = b""


@dataclass
class ReadBack:
    """What one read-back found: the world's changes (``"kind path"`` strings) and the agent's errors."""

    step: int
    changes: list[str]
    errors: list[str]


def _depth(path: str) -> int:
    return 0 if path == "/" else path.count("/")


class FileSandbox:
    """The FileSystem world of ``(env_kwargs, schedule, horizon, seed)`` in the new directory ``directory``.

    ``with FileSandbox("/tmp/box", seed=3) as box: box.fire(); subprocess.run(["cat", ...]); box.read_back()``.
    ``world`` is the world (a ``FileWorld``), ``t`` the step being taken, ``root`` the directory.
    """

    def __init__(self, directory: str | Path, seed: int = 0, scenario: Any = None, schedule: Any = None,
                 horizon: int | None = None, env_kwargs: dict[str, Any] | None = None, keep: bool = False) -> None:
        if scenario is not None:
            if scenario.env != "driftgym/FileSystem-v0":
                raise SandboxError(f"scenario {scenario.id} runs {scenario.env}; the sandbox needs driftgym/FileSystem-v0")
            env_kwargs, schedule, horizon = scenario.env_kwargs, scenario.schedule, scenario.horizon
        env = FileSystemEnv(**(env_kwargs or {}), schedule=schedule, horizon=horizon)  # validates the arguments
        env.reset(seed=seed)  # the one place worlds, streams and timelines are built
        self.world, self.playback = env.world, env.playback
        self.horizon = env.horizon
        self.keep = keep
        self.t = 0
        self._fired = False
        self.root = self._create_root(Path(directory))
        self._stage = f".driftgym-stage-{os.getpid()}"
        self.disk: dict[int, OnDisk] = {ROOT: OnDisk("/", True, os.lstat(self.root).st_ino)}
        self._closed = False
        atexit.register(self.close)
        self._push()

    @staticmethod
    def _create_root(directory: Path) -> Path:
        if os.path.lexists(directory):
            raise SandboxError(f"{directory} already exists: the sandbox only uses a new directory it creates")
        try:
            os.mkdir(directory, DIRECTORY)
        except OSError as error:
            raise SandboxError(f"cannot create the sandbox {directory}: {error.strerror}") from None
        return Path(os.path.realpath(directory))

    # ----------------------------------------------------------------- paths
    def host_path(self, path: str) -> Path:
        """The real path of a world path (``/etc/app/db.ini``); refuses anything that would leave the sandbox."""
        parts = [p for p in path.split("/") if p]
        if "\x00" in path or any(p in (".", "..") for p in parts):
            raise SandboxError(f"path {path!r} escapes or is not canonical: no '.', '..' or NUL components")
        host = self.root.joinpath(*parts)
        parent = os.path.realpath(host.parent)
        if parent != str(self.root) and not parent.startswith(str(self.root) + os.sep):
            raise SandboxError(f"path {path!r} leads out of the sandbox (through a symlink)")
        return host

    def world_path(self, host: str | Path) -> str:
        relative = os.path.relpath(host, self.root)
        return "/" if relative == "." else "/" + relative.replace(os.sep, "/")

    # ----------------------------------------------------------------- the step
    def fire(self) -> list[dict[str, Any]]:
        """The timeline's events of step ``t``, applied to the world and to the real files."""
        if self._fired:
            raise SandboxError(f"step {self.t}: fire() was called already; read_back() ends the step")
        before = len(self.playback.records)
        self.playback.fire(self.world, self.t)
        self._fired = True
        self._push()
        return [e.to_dict() for e in self.playback.event_log[before:]]

    def read_back(self) -> ReadBack:
        """Read the tree back at the end of step ``t``: the world becomes what is on disk; then ``t += 1``."""
        if not self._fired:
            raise SandboxError(f"step {self.t}: call fire() before read_back()")
        result = self._pull(self.t)
        self.t += 1
        self._fired = False
        return result

    def step(self, agent: Callable[[Path], Any] | None = None) -> tuple[list[dict[str, Any]], ReadBack]:
        """``fire()``, the agent's commands (``agent(root)``), ``read_back()``."""
        events = self.fire()
        if agent is not None:
            agent(self.root)
        return events, self.read_back()

    def targets_ok(self) -> int:
        return self.world.count_ok()

    # ----------------------------------------------------------------- world -> disk
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

    # ----------------------------------------------------------------- disk -> world
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

    # ----------------------------------------------------------------- the end
    def close(self) -> None:
        """Remove the sandbox directory (unless ``keep``); idempotent."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> FileSandbox:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# --------------------------------------------------------------------------- the command

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="driftgym sandbox files",
        description="Write the FileSystem world into a new directory; each step apply the timeline's perturbations "
                    "to the real files, run the agent's commands there, read the world back from disk.")
    parser.add_argument("--scenario", help="a bundled FileSystem scenario id or a scenario file (default: the env's default schedule)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", required=True, help="the sandbox directory: must not exist (it is created, then removed)")
    parser.add_argument("--steps", type=int, help="steps to run (default: the horizon)")
    parser.add_argument("--agent", help="a shell command run in the sandbox once per step (default: one command per line of stdin)")
    parser.add_argument("--agent-timeout", type=float, default=30.0, help="seconds an agent command may take")
    parser.add_argument("--trace", help="write a JSONL line per step (events, changes, agent errors, digest)")
    parser.add_argument("--keep", action="store_true", help="leave the directory at the end")
    return parser


def run_command(command: str, root: Path, t: int, timeout: float) -> None:
    env = dict(os.environ, DRIFTGYM_SANDBOX=str(root), DRIFTGYM_STEP=str(t))
    try:
        subprocess.run(command, shell=True, cwd=root, env=env, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        print(f"step {t}: the agent's command timed out after {timeout} s", file=sys.stderr)


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from driftgym.scenarios.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(args.scenario) if args.scenario else None
        box = FileSandbox(args.dir, args.seed, scenario, keep=args.keep)
    except (ScenarioError, SandboxError, ValueError) as error:
        print(f"driftgym sandbox files: {error}", file=sys.stderr)
        return 2

    def terminate(*_: Any) -> None:
        raise SystemExit(143)

    previous = signal.signal(signal.SIGTERM, terminate)
    trace = open(args.trace, "w") if args.trace else None
    try:
        print(f"sandbox {box.root} (seed {args.seed}); the spec:", flush=True)
        for i, target in enumerate(box.world.targets):
            print(f"  target {i}: {box.world.path(target.inode)} {target.key} = {target.desired}", flush=True)
        steps = box.horizon if args.steps is None else args.steps
        for _ in range(steps):
            events = box.fire()
            if args.agent is not None:
                run_command(args.agent, box.root, box.t, args.agent_timeout)
            else:
                line = sys.stdin.readline()
                if not line:
                    box.read_back()
                    break
                if line.strip():
                    run_command(line, box.root, box.t, args.agent_timeout)
            result = box.read_back()
            ok = box.targets_ok()
            print(f"step {result.step}: {ok}/{len(box.world.targets)} targets ok; {len(result.changes)} changes read back"
                  + "".join(f"\n  agent error: {e}" for e in result.errors), flush=True)
            if trace is not None:
                trace.write(json.dumps({"step": result.step, "events": events, "changes": result.changes,
                                        "errors": result.errors, "targets_ok": ok, "world_digest": box.world.digest()},
                                       sort_keys=True) + "\n")
    except KeyboardInterrupt:
        print("driftgym sandbox files: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        if trace is not None:
            trace.close()
        box.close()
    return 0
