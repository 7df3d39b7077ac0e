"""The FileSystem grammar: a config manager's shell over the virtual tree.

======================  ===================================================  =========================
command                 what it does                                         structured equivalent
======================  ===================================================  =========================
``ls DIR``              list a directory (``/`` after sub-directories)       none: idle + read cost
``cat PATH``            show a file: ``key = value`` lines and its mode      ``read`` (a target known
                                                                             at PATH) else idle + read
``find NAME``           every file whose name matches NAME (``*``, ``?``),   none: idle + locate cost;
                        with its inode: ``17 /srv/app/db.ini``               a target's file found is
                                                                             now known at that path
``set PATH KEY VALUE``  write a managed key (its desired value) at PATH     ``write``
``chmod +w PATH``       make a file writable                                 ``chmod`` (or direct)
``restore PATH``        a managed file from backup at PATH                   ``restore``
``wait``                nothing                                              ``wait``
``help``                this table                                           idle
======================  ===================================================  =========================
"""

from __future__ import annotations

import fnmatch
import shlex
from typing import Any

import numpy as np

from driftgym.envs.text.wrapper import Grammar, Outcome

__all__ = ["FilesGrammar", "command_for"]

READ, WRITE, LOCATE, CHMOD, RESTORE, WAIT = range(6)
UNKNOWN = 0
MESSAGES = {
    "ENOENT": "No such file or directory",
    "EACCES": "Permission denied (read-only)",
    "EBADMSG": "Bad message (the file does not parse: corrupt)",
    "EEXIST": "File exists (another entry holds the path)",
    "EISDIR": "Is a directory",
}
USAGES = {
    "ls": "ls DIR", "cat": "cat PATH", "find": "find NAME", "set": "set PATH KEY VALUE",
    "chmod": "chmod +w PATH", "restore": "restore PATH", "wait": "wait", "help": "help",
}


def action(op: int, target: int = 0) -> np.ndarray:
    return np.array([op, target], np.int64)


class FilesGrammar(Grammar):
    usage = (
        "  ls DIR               list a directory                          cost 0.01\n"
        "  cat PATH             show a file                               cost 0.01\n"
        "  find NAME            files named NAME (* ? allowed), inodes    cost 0.05\n"
        "  set PATH KEY VALUE   write a managed key's desired value       cost 0.01\n"
        "  chmod +w PATH        make a file writable                      cost 0.02\n"
        "  restore PATH         restore a managed file from its backup    cost 0.10\n"
        "  wait                 do nothing                                cost 0\n"
        "  help                 this text                                 cost 0"
    )

    def idle_action(self) -> np.ndarray:
        return action(WAIT)

    def briefing(self) -> str:
        env = self.base
        world = env.world
        lines = [
            f"You manage {env.n_targets} config values on a file tree that another writer keeps changing:",
            "it edits keys, moves and renames files and directories, deletes files, makes them read-only,",
            "corrupts or truncates them and leaves lookalike decoys (same name, another inode).",
            "Keep each managed key at its desired value (a file keeps its inode when it moves):",
        ]
        for i, target in enumerate(world.targets):
            lines.append(f"  target {i}: {target.key} = {target.desired} in {env.view.paths[i]} (inode {target.inode})")
        lines += [
            "Each step earns the fraction of targets holding their desired value, minus the command's cost;",
            f"the episode lasts {env.horizon} steps. Commands (one per step):",
            self.usage,
        ]
        return "\n".join(lines)

    # ----- parsing
    def run(self, command: str, outcome: Outcome) -> None:
        try:
            words = shlex.split(command)
        except ValueError as problem:
            return self.error(outcome, f"cannot parse {command!r}: {problem}")
        if not words:
            return self.error(outcome, "empty command")
        verb, args = words[0], words[1:]
        if verb not in USAGES:
            return self.error(outcome, f"unknown command {verb!r}")
        arity = {"ls": 1, "cat": 1, "find": 1, "set": 3, "chmod": 2, "restore": 1, "wait": 0, "help": 0}[verb]
        if len(args) != arity or (verb == "chmod" and args[0] not in ("+w", "u+w", "a+w")):
            return self.error(outcome, f"{verb} takes: {USAGES[verb]}", USAGES[verb])
        if verb in ("ls", "cat", "set", "chmod", "restore") and not args[-1 if verb != "set" else 0].startswith("/"):
            return self.error(outcome, f"{verb}: a path is absolute (starts with /)", USAGES[verb])
        getattr(self, "_" + verb)(outcome, *args)

    def _known_at(self, path: str, key: str | None = None) -> int | None:
        """The lowest target the view knows at ``path`` (with ``key``), or None."""
        env = self.base
        for i, known in enumerate(env.view.paths):
            if known == path and (key is None or env.world.targets[i].key == key):
                return i
        return None

    # ----- the commands
    def _help(self, outcome: Outcome) -> None:
        self.idle(outcome)
        outcome.say(self.usage)

    def _wait(self, outcome: Outcome) -> None:
        self.step(action(WAIT), outcome)
        outcome.say("waited")

    def _ls(self, outcome: Outcome, path: str) -> None:
        self.idle(outcome, self.base.op_costs["read"])
        world = self.base.world
        inode = world.node_at.get(path)
        if inode is None:
            outcome.say(f"ls: cannot access '{path}': {MESSAGES['ENOENT']}")
        elif not world.node(inode).is_dir:
            outcome.say(path)
        else:
            names = sorted(world.node(c).name + ("/" if world.node(c).is_dir else "") for c in world.graph.succ[inode])
            outcome.say(*(names or ["(empty)"]))

    def _cat(self, outcome: Outcome, path: str) -> None:
        i = self._known_at(path)
        if i is None:
            self.idle(outcome, self.base.op_costs["read"])
        else:
            self.step(action(READ, i), outcome)
        outcome.say(*show_file(self.base.world, path))

    def _find(self, outcome: Outcome, pattern: str) -> None:
        env = self.base
        self.idle(outcome, env.op_costs["locate"])
        world, view, t = env.world, env.view, env.step_index
        hits = sorted((path, inode) for inode, path in world.path_of.items()
                      if not world.nodes[inode].is_dir and fnmatch.fnmatchcase(world.nodes[inode].name, pattern))
        if not hits:
            outcome.say(f"find: no file named {pattern}")
        for path, inode in hits:
            outcome.say(f"{inode} {path}")
            for i, target in enumerate(world.targets):  # what the manager learned: where its files are now
                if target.inode == inode:
                    view.paths[i], view.values[i], view.writable[i] = path, None, None
                    view.saw(i, UNKNOWN, t)

    def _set(self, outcome: Outcome, path: str, key: str, value: str) -> None:
        env = self.base
        i = self._known_at(path, key)
        if i is None:
            return self.error(outcome, f"set: {key} in {path} is not a managed key where its file is known "
                                       "(see the targets; find updates where a file is)", USAGES["set"])
        desired = env.world.targets[i].desired
        if value != desired:
            return self.error(outcome, f"set: refused: the spec says {key} = {desired}", USAGES["set"])
        info = self.step(action(WRITE, i), outcome)
        result = info["result"]
        outcome.say(f"{path}: {key} = {value} (written)" if result == "ok" else f"set: {path}: {MESSAGES[result]}")

    def _chmod(self, outcome: Outcome, mode: str, path: str) -> None:
        env = self.base
        i = self._known_at(path)
        if i is not None:
            result = self.step(action(CHMOD, i), outcome)["result"]
        else:
            self.idle(outcome, env.op_costs["chmod"])
            inode = env.world.node_at.get(path)
            if inode is None:
                result = "ENOENT"
            elif env.world.node(inode).is_dir:
                result = "EISDIR"
            else:
                env.world.set_writable(inode, True)
                result = "ok"
        outcome.say(f"{path}: now writable" if result == "ok" else f"chmod: {path}: {MESSAGES[result]}")

    def _restore(self, outcome: Outcome, path: str) -> None:
        i = self._known_at(path)
        if i is None:
            return self.error(outcome, f"restore: no backup is known for {path} (restore a managed file at its known path)",
                              USAGES["restore"])
        result = self.step(action(RESTORE, i), outcome)["result"]
        outcome.say(f"{path}: restored from backup" if result == "ok" else f"restore: {path}: {MESSAGES[result]}")


def show_file(world: Any, path: str) -> list[str]:
    """What ``cat`` prints: the document and the file's mode, or the error."""
    inode = world.node_at.get(path)
    if inode is None:
        return [f"cat: {path}: {MESSAGES['ENOENT']}"]
    node = world.node(inode)
    if node.is_dir:
        return [f"cat: {path}: {MESSAGES['EISDIR']}"]
    if node.corrupt:
        return [f"cat: {path}: {MESSAGES['EBADMSG']}"]
    mode = "rw" if node.writable else "ro (read-only)"
    return [f"# {path} (mode {mode}, mtime {node.mtime})", *(f"{k} = {v}" for k, v in node.keys.items())]


def command_for(env: Any, structured: Any) -> str | None:
    """The command equivalent to a structured action on ``env`` (the base FileSystemEnv) now."""
    op, i = int(structured[0]), int(structured[1])
    view, world = env.view, env.world
    path = shlex.quote(view.paths[i]) if view.paths[i] else None
    if op == WAIT:
        return "wait"
    if op == READ:
        return f"cat {path}"
    if op == WRITE:
        target = world.targets[i]
        return f"set {path} {shlex.quote(target.key)} {shlex.quote(target.desired)}"
    if op == CHMOD:
        return f"chmod +w {path}"
    if op == RESTORE:
        return f"restore {path}"
    current = world.path(world.targets[i].inode)  # locate: find the file by its current name
    return f"find {shlex.quote(current.rpartition('/')[2])}" if current else None
