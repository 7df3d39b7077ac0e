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

The class is split in modules: ``ondisk.py`` (the document format, modes and records),
``push.py`` (`WorldToDisk`: world -> disk), ``pull.py`` (`DiskToWorld`: disk -> world); this one
holds the sandbox itself (paths, the step, closing) and the ``driftgym sandbox files`` command.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from driftgym.envs.files.env import FileSystemEnv
from driftgym.envs.files.ondisk import (  # noqa: F401  (KEY_LINE ... Seen re-exported: importable from here as before)
    CORRUPT_LINE, DIRECTORY, KEY_LINE, READ_ONLY, WRITABLE, OnDisk, ReadBack, SandboxError, Seen, parse_document,
    render_document,
)
from driftgym.envs.files.pull import DiskToWorld
from driftgym.envs.files.push import WorldToDisk
from driftgym.envs.files.world import ROOT

__all__ = ["CORRUPT_LINE", "FileSandbox", "ReadBack", "SandboxError", "main", "parse_document", "render_document"]


class FileSandbox(WorldToDisk, DiskToWorld):
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
