"""The FileSystem world in a real directory: real `mv`, `chmod`, `cat`, `sed` subprocesses, escapes
refused, and the digest contract between the in-memory env and the sandbox on disk."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from driftgym.envs.files.env import OPS, FileSystemEnv
from driftgym.envs.files.sandbox import CORRUPT_LINE, FileSandbox, SandboxError, main, parse_document, render_document

PYTHON = sys.executable
BUSY = [  # every kind, often, so that 60 steps see many of each
    {"poisson": 0.15, "perturb": {"kind": "edit_file", "targets_only": True}},
    {"poisson": 0.08, "perturb": {"kind": "move_file"}},
    {"poisson": 0.05, "perturb": {"kind": "move_directory"}},
    {"poisson": 0.05, "perturb": {"kind": "delete_file"}},
    {"poisson": 0.06, "perturb": {"kind": "chmod_readonly", "duration": 6}},
    {"poisson": 0.05, "perturb": {"kind": "corrupt_file"}},
    {"poisson": 0.05, "perturb": {"kind": "truncate_file"}},
    {"poisson": 0.05, "perturb": {"kind": "create_decoy"}},
    {"poisson": 0.05, "perturb": {"kind": "restore_file"}},
]


def sh(command: str, cwd: Path) -> str:
    return subprocess.run(["sh", "-c", command], cwd=cwd, check=True, capture_output=True, text=True).stdout


def test_the_world_is_written_as_files(tmp_path):
    schedule = [{"at": 0, "perturb": {"kind": "corrupt_file", "pick": 0.0}},
                {"at": 0, "perturb": {"kind": "chmod_readonly", "pick": 0.99}}]
    with FileSandbox(tmp_path / "box", seed=5, schedule=schedule) as box:
        world = box.world
        box.fire()
        files = sorted(world.path_of[i] for i, n in world.nodes.items() if not n.is_dir)
        on_disk = sorted(box.world_path(p) for p in box.root.rglob("*") if p.is_file())
        assert on_disk == files
        corrupt = world.managed_paths(corrupt=True)[0]
        locked = world.managed_paths(writable=False)[0]
        assert (box.root / corrupt[1:]).read_bytes().startswith(CORRUPT_LINE)
        assert stat.S_IMODE(os.stat(box.root / locked[1:]).st_mode) == 0o444
        some = world.file_at(files[0])
        assert sh(f"cat .{files[0]}", box.root) == "".join(f"{k} = {v}\n" for k, v in world.nodes[some].keys.items()) \
            or world.nodes[some].corrupt
        assert os.stat(box.root / files[0][1:]).st_mtime == world.nodes[some].mtime  # virtual time
        assert box.read_back().changes == []


def test_documents_round_trip():
    keys = {"port": "443", "host": "db.internal", "empty": ""}
    assert parse_document(render_document(keys, False)) == (list(keys.items()), False)
    assert parse_document(render_document(keys, True)) == (list(keys.items()), True)
    assert parse_document(b"port=80\n# a comment\n\nport = 81\nhost = x\n") == ([("port", "81"), ("host", "x")], False)
    assert parse_document(b"port = 80\nthis is not a key line\n") == ([("port", "80")], True)


def test_real_mv_chmod_cat_and_sed_are_read_back(tmp_path):
    with FileSandbox(tmp_path / "box", seed=2, schedule=[]) as box:
        world = box.world
        target = world.targets[0]
        path = world.path(target.inode)
        box.fire()
        sh(f"mkdir -p srv/moved && mv .{path} srv/moved/renamed.ini && chmod 444 srv/moved/renamed.ini", box.root)
        result = box.read_back()
        assert result.changes == ["mkdir /srv/moved", f"move {path} -> /srv/moved/renamed.ini",
                                  "chmod /srv/moved/renamed.ini read-only"]
        assert world.path(target.inode) == "/srv/moved/renamed.ini"  # the same file: identity survives mv
        assert world.nodes[target.inode].writable is False
        box.fire()
        sh(f"chmod u+w srv/moved/renamed.ini && sed -i 's/^{target.key} = .*/{target.key} = changed/' srv/moved/renamed.ini",
           box.root)
        result = box.read_back()
        assert result.changes == ["write /srv/moved/renamed.ini", "chmod /srv/moved/renamed.ini writable"]
        assert world.value(target.inode, target.key) == "changed" and world.nodes[target.inode].mtime == 1
        assert sh("cat srv/moved/renamed.ini", box.root).count(f"{target.key} = changed\n") == 1
        box.fire()
        sh("rm srv/moved/renamed.ini && rmdir srv/moved", box.root)
        assert box.read_back().changes == ["delete /srv/moved/renamed.ini", "rmdir /srv/moved"]
        assert world.path(target.inode) is None and world.deleted[target.inode]["path"] == "/srv/moved/renamed.ini"
        world.check_invariants()


def test_symlinks_hard_links_and_dotdot_are_refused(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret = 1\n")
    with FileSandbox(tmp_path / "box", seed=1, schedule=[]) as box:
        digest = box.world.digest()
        box.fire()
        managed = box.world.path(box.world.targets[0].inode)
        sh(f"ln -s {outside} etc/evil.conf && ln -s ../../.. escape && ln {outside} hard.ini", box.root)
        result = box.read_back()
        assert result.changes == [] and box.world.digest() == digest
        assert sorted(result.errors) == [
            "/escape: a symlink -> ../../.. is not allowed in the sandbox (not followed; removed)",
            f"/etc/evil.conf: a symlink -> {outside} is not allowed in the sandbox (not followed; removed)",
            "/hard.ini: a hard link to another file is not allowed in the sandbox (removed)",
        ]
        assert outside.read_text() == "secret = 1\n" and not os.path.lexists(box.root / "escape")
        box.fire()
        sh(f"ln -sf {outside} .{managed}", box.root)  # a managed file replaced by a link out: deleted, never followed
        result = box.read_back()
        assert result.changes == [f"delete {managed}"] and len(result.errors) == 1
        with pytest.raises(SandboxError, match=r"escapes or is not canonical: no '\.', '\.\.' or NUL"):
            box.host_path("/etc/../../outside.txt")
        os.symlink(tmp_path, box.root / "etc" / "out")
        with pytest.raises(SandboxError, match="leads out of the sandbox"):
            box.host_path("/etc/out/outside.txt")
        assert outside.read_text() == "secret = 1\n"


def test_only_a_new_directory_is_used_and_it_is_removed(tmp_path):
    existing = tmp_path / "mine"
    existing.mkdir()
    (existing / "keep.txt").write_text("x")
    with pytest.raises(SandboxError, match="already exists: the sandbox only uses a new directory it creates"):
        FileSandbox(existing)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SandboxError, match="already exists"):
        FileSandbox(tmp_path / "empty")
    assert (existing / "keep.txt").read_text() == "x"
    box = FileSandbox(tmp_path / "box")
    with pytest.raises(SandboxError, match="call fire\\(\\) before read_back\\(\\)"):
        box.read_back()
    box.close()
    assert not (tmp_path / "box").exists()
    with FileSandbox(tmp_path / "kept", keep=True):
        pass
    assert (tmp_path / "kept" / "etc").is_dir()


def mirror(box: FileSandbox, env: FileSystemEnv, op: str, i: int) -> str | None:
    """The env's operation ``op`` on target ``i``, done with real commands on the sandbox; None if it cannot be mirrored."""
    world, target = box.world, box.world.targets[i]
    path = env.view.paths[i]
    host = box.root / path[1:]
    if op in ("read", "locate", "wait"):
        if host.is_file():
            sh(f"cat '.{path}' > /dev/null", box.root)
        return op
    if op == "write":
        if not host.is_file() or not os.stat(host).st_mode & stat.S_IWUSR or parse_document(host.read_bytes())[1]:
            return op  # ENOENT, EISDIR, EACCES or EBADMSG: nothing changes
        keys = dict(parse_document(host.read_bytes())[0])
        if target.key in keys:
            sh(f"sed -i 's/^{target.key} = .*/{target.key} = {target.desired}/' '.{path}'", box.root)
        else:
            sh(f"echo '{target.key} = {target.desired}' >> '.{path}'", box.root)
        return op
    if op == "chmod":
        if host.is_file():
            sh(f"chmod u+w '.{path}'", box.root)
        return op
    # restore: the backup at the known path
    occupant = world.node_at.get(path)
    if occupant is not None and occupant != target.inode:
        return op  # EEXIST
    now = world.path(target.inode)
    if now is None and world.deleted[target.inode]["path"] != path:
        return None
    parent = path.rpartition("/")[0] or "/"
    walk = parent
    while walk not in world.node_at:
        walk = walk.rpartition("/")[0] or "/"
    if not world.nodes[world.node_at[walk]].is_dir:
        return op  # a file in the way: EEXIST
    backup = "".join(f"{k} = {v}\n" for k, v in world.backups[target.inode].items())
    (box.root.parent / "backup.txt").write_text(backup)
    move = f"mv '.{now}' '.{path}' && " if now is not None and now != path else ""
    sh(f"mkdir -p '.{parent}' && {move}cp ../backup.txt '.{path}' && chmod 644 '.{path}'", box.root)
    return op


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_memory_and_disk_give_the_same_digests(tmp_path, seed):
    env = FileSystemEnv(schedule=BUSY, horizon=60)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    mirrored = 0
    with FileSandbox(tmp_path / "box", seed=seed, schedule=BUSY, horizon=60) as box:
        assert box.world.digest() == env.world.digest()
        for t in range(60):
            box.fire()
            op, i = int(rng.choice(len(OPS), p=[0.2, 0.3, 0.15, 0.15, 0.15, 0.05])), int(rng.integers(env.n_targets))
            if mirror(box, env, OPS[op], i) is None:
                op = OPS.index("wait")
            mirrored += op != OPS.index("wait")
            env.step(np.array([op, i]))
            result = box.read_back()
            assert result.errors == []
            assert box.world.digest() == env.world.digest(), f"step {t}: {OPS[op]} {i}; read back {result.changes}"
        box.world.check_invariants()
        assert len(env.event_log) >= 15 and mirrored >= 40


def test_the_command_runs_an_agent_and_cleans_up(tmp_path, capsys):
    box_dir = tmp_path / "box"
    status = main(["--dir", str(box_dir), "--seed", "4", "--steps", "3", "--agent", "ls -R > /dev/null",
                   "--trace", str(tmp_path / "t.jsonl")])
    out = capsys.readouterr().out
    assert status == 0 and "step 2: " in out and "target 0: /" in out
    assert not box_dir.exists() and len((tmp_path / "t.jsonl").read_text().splitlines()) == 3
    assert main(["--dir", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_sandbox_is_removed(tmp_path, signum):
    box_dir = tmp_path / "box"
    process = subprocess.Popen([PYTHON, "-m", "driftgym", "sandbox", "files", "--dir", str(box_dir)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().startswith(f"sandbox {os.path.realpath(box_dir)}")
        process.stdin.write("touch made-by-agent\n")
        process.stdin.flush()
        while "step 0:" not in process.stdout.readline():
            pass
        assert (box_dir / "made-by-agent").exists()
        process.send_signal(signum)
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode in (130, 143) and not box_dir.exists()
