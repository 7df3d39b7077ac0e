"""driftgym/FileSystem-v0: the file world, its perturbation kinds and the env over them."""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st

import driftgym  # noqa: F401  (registers the ids)
from driftgym.envs.files import OPS, FileSystemEnv, FileWorld
from driftgym.envs.files.env import OP_COSTS, RESULTS, STATUSES
from driftgym.envs.files.world import KEY_DOMAINS
from driftgym.perturbations import Event, PerturbationError, PerturbationStream, kind_names, perturbation_from_dict
from worlds import files_facts_from_state

FILE_KINDS = [
    "chmod_readonly", "corrupt_file", "create_decoy", "delete_file", "edit_file",
    "move_directory", "move_file", "restore_file", "truncate_file",
]
READ, WRITE, LOCATE, CHMOD, RESTORE, WAIT = range(6)
EXAMPLES = int(os.environ.get("DRIFTGYM_FILES_EXAMPLES", "150"))


def world(seed: int = 0) -> FileWorld:
    return FileWorld.generate(np.random.default_rng(seed), 12, 6, 6, 8)


def fire(w: FileWorld, perturb: dict, step: int = 5) -> Event:
    return perturbation_from_dict(perturb).apply(w, PerturbationStream(0), step)


def quiet_env(**kwargs) -> FileSystemEnv:
    env = FileSystemEnv(schedule=[], **kwargs)
    env.reset(seed=3)
    return env


def act(env, op: int, target: int = 0):
    return env.step(np.array([op, target]))


# --------------------------------------------------------------------------- the Gymnasium contract


def test_check_env_passes_and_the_id_makes_the_env():
    check_env(gym.make("driftgym/FileSystem-v0", render_mode="ansi").unwrapped, skip_render_check=False)
    env = gym.make("driftgym/FileSystem-v0", n_files=30, n_targets=4, visibility="flag")
    obs, _ = env.reset(seed=0)
    assert isinstance(env.unwrapped, FileSystemEnv)
    assert env.action_space == gym.spaces.MultiDiscrete([6, 4])
    assert sorted(obs) == ["age", "changed", "progress", "result", "status"]
    assert env.observation_space.contains(obs)


def test_the_file_kinds_are_registered_for_the_files_world():
    assert kind_names("files") == FILE_KINDS
    assert OPS == ("read", "write", "locate", "chmod", "restore", "wait")


def test_wrong_sizes_and_costs_are_refused_with_the_limit():
    with pytest.raises(ValueError, match=r"n_targets must be at most min\(2 \* n_files, n_files \* n_keys\) = 6 \(got 7\)"):
        FileSystemEnv(n_files=3, n_targets=7)
    with pytest.raises(ValueError, match="n_keys must be at most 16"):
        FileSystemEnv(n_keys=17)
    with pytest.raises(ValueError, match="op_costs: unknown operation 'reed'; operations: read, write"):
        FileSystemEnv(op_costs={"reed": 0.1})
    with pytest.raises(PerturbationError, match="kind 'drift_param' acts on params worlds; FileSystemEnv accepts: chmod_readonly"):
        FileSystemEnv(schedule=[{"every": 1, "perturb": {"kind": "drift_param", "param": "g", "rate": 1.0}}])
    with pytest.raises(PerturbationError, match=r"keep: truncate_file needs keep in \[0, 1\) \(got 1.5\)"):
        perturbation_from_dict({"kind": "truncate_file", "keep": 1.5})
    with pytest.raises(PerturbationError, match=r"where: move_file needs where in \[0, 1\) \(got 2.0\)"):
        perturbation_from_dict({"kind": "move_file", "where": 2.0})


def test_the_timeline_does_not_depend_on_the_actions():
    logs = []
    for actions_seed in (1, 2):
        env = FileSystemEnv()
        env.reset(seed=11)
        rng = np.random.default_rng(actions_seed)
        for _ in range(200):
            env.step(env.action_space.sample() if actions_seed == 1 else np.array([rng.integers(6), rng.integers(8)]))
        logs.append((env.timeline.to_json(), env.timeline.digest()))
    assert logs[0] == logs[1]
    assert len(env.timeline) > 0


def test_same_seed_and_actions_give_the_same_digests_under_any_hash_seed():
    code = (
        "import numpy as np; from driftgym.envs.files import FileSystemEnv\n"
        "env = FileSystemEnv(); env.reset(seed=5); out = []\n"
        "for t in range(120):\n"
        "    o, r, *_ = env.step(np.array([t % 6, (3 * t) % 8])); out.append(r)\n"
        "print(env.world_digest(), sum(out), o['status'].tolist())\n"
    )
    runs = {
        subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": h}, capture_output=True, text=True, check=True).stdout
        for h in ("0", "12345")
    }
    assert len(runs) == 1


# --------------------------------------------------------------------------- each kind, field by field


def managed(w: FileWorld, index: int = 0) -> tuple[int, str]:
    inode = w.managed[index]
    return inode, w.path(inode)


def test_edit_file_sets_the_key_to_another_value():
    w = world()
    inode, path = managed(w)
    key = w.target_keys[inode][0]
    before = w.state_dict()
    old = dict(before["files"][path]["keys"])[key]
    new = [v for v in KEY_DOMAINS[key] if v != old][0]
    event = fire(w, {"kind": "edit_file", "path": path, "key": key, "value_pick": 0.0}, step=5)
    expected = copy.deepcopy(before)
    expected["files"][path]["keys"] = [[k, new if k == key else v] for k, v in before["files"][path]["keys"]]
    expected["files"][path]["mtime"] = 5
    assert w.state_dict() == expected
    assert event == Event(5, "edit_file", path, {"inode": inode, "values": {key: old}}, {"inode": inode, "values": {key: new}})


def test_edit_file_draws_count_keys_from_the_sorted_target_keys():
    w = world()
    inode, path = managed(w)
    event = fire(w, {"kind": "edit_file", "path": path, "targets_only": True, "count": 5, "key_pick": 0.0, "value_pick": 0.5})
    assert sorted(event.after["values"]) == w.target_keys[inode]
    assert all(w.node(inode).keys[k] == v != event.before["values"][k] for k, v in event.after["values"].items())


def test_move_file_moves_the_record_and_keeps_the_inode():
    w = world()
    inode, path = managed(w)
    before = w.state_dict()
    name = path.rsplit("/", 1)[1]
    event = fire(w, {"kind": "move_file", "path": path, "to": "/etc"})
    expected = copy.deepcopy(before)
    expected["files"]["/etc/" + name] = expected["files"].pop(path)
    assert w.state_dict() == expected
    assert event == Event(5, "move_file", path, {"inode": inode, "path": path}, {"inode": inode, "path": "/etc/" + name})
    assert w.path(inode) == "/etc/" + name and w.file_at(path) is None


def test_move_file_into_its_own_directory_renames_it():
    w = world()
    inode, path = managed(w)
    directory, name = path.rsplit("/", 1)
    stem, ext = name.split(".")
    event = fire(w, {"kind": "move_file", "path": path, "to": directory})
    assert event.after == {"inode": inode, "path": f"{directory}/{stem}-2.{ext}"}


def test_move_directory_moves_everything_under_it():
    w = world()
    inode, path = managed(w)
    directory = w.managed_directories()[0]
    before = w.state_dict()
    top = "/srv" if not directory.startswith("/srv") else "/etc"
    moved = top + "/" + directory.rsplit("/", 1)[1]

    def relocate(p: str) -> str:
        return moved + p[len(directory):] if p == directory or p.startswith(directory + "/") else p

    event = fire(w, {"kind": "move_directory", "path": directory, "to": top})
    expected = copy.deepcopy(before)
    expected["files"] = {relocate(p): r for p, r in before["files"].items()}
    expected["dirs"] = {relocate(p): i for p, i in before["dirs"].items()}
    assert w.state_dict() == expected
    assert event.target == directory and event.after == {"inode": before["dirs"][directory], "path": moved}
    assert sum(p != relocate(p) for p in before["files"]) >= 1


def test_move_directory_never_moves_a_directory_into_itself():
    w = world()
    directory = w.managed_directories()[0]
    event = fire(w, {"kind": "move_directory", "path": directory, "to": directory})
    assert (event.before, event.after) == (None, None)
    w.check_invariants()


def test_delete_file_removes_it_and_keeps_its_record():
    w = world()
    inode, path = managed(w)
    before = w.state_dict()
    event = fire(w, {"kind": "delete_file", "path": path})
    expected = copy.deepcopy(before)
    record = expected["files"].pop(path)
    expected["deleted"] = {str(inode): {**record, "path": path}}
    assert w.state_dict() == expected
    assert event == Event(5, "delete_file", path, {**record, "path": path}, {"inode": inode, "path": None})


def test_chmod_readonly_clears_the_writable_bit():
    w = world()
    inode, path = managed(w)
    before = w.state_dict()
    event = fire(w, {"kind": "chmod_readonly", "path": path})
    expected = copy.deepcopy(before)
    expected["files"][path]["writable"] = False
    assert w.state_dict() == expected
    assert event == Event(5, "chmod_readonly", path, {"inode": inode, "writable": True}, {"inode": inode, "writable": False})


def test_corrupt_file_makes_it_unparseable():
    w = world()
    inode, path = managed(w)
    before = w.state_dict()
    event = fire(w, {"kind": "corrupt_file", "path": path})
    expected = copy.deepcopy(before)
    expected["files"][path].update(corrupt=True, mtime=5)
    assert w.state_dict() == expected
    assert event == Event(5, "corrupt_file", path, {"inode": inode, "corrupt": False}, {"inode": inode, "corrupt": True})
    assert [w.target_value(i) for i, t in enumerate(w.targets) if t.inode == inode] == [None, None]


def test_truncate_file_keeps_the_first_keys():
    w = world()
    inode, path = managed(w)
    before = w.state_dict()
    event = fire(w, {"kind": "truncate_file", "path": path, "keep": 0.5})
    expected = copy.deepcopy(before)
    expected["files"][path].update(keys=before["files"][path]["keys"][:3], mtime=5)
    assert w.state_dict() == expected
    assert event == Event(5, "truncate_file", path, {"inode": inode, "keys": before["files"][path]["keys"]},
                          {"inode": inode, "keys": before["files"][path]["keys"][:3]})


def test_create_decoy_adds_a_lookalike_with_a_new_inode():
    w = world()
    inode, path = managed(w)
    before = w.state_dict()
    name = path.rsplit("/", 1)[1]
    event = fire(w, {"kind": "create_decoy", "path": path, "to": "/etc"})
    expected = copy.deepcopy(before)
    decoy = before["next_inode"]
    expected["files"]["/etc/" + name] = {**before["files"][path], "inode": decoy, "mtime": 5, "decoy": True}
    expected["next_inode"] = decoy + 1
    assert w.state_dict() == expected
    assert event == Event(5, "create_decoy", path, {"inode": decoy, "path": None}, {"inode": decoy, "path": "/etc/" + name})


def test_restore_file_brings_back_the_backup_at_the_last_path():
    w = world()
    inode, path = managed(w)
    backup = [[k, v] for k, v in w.backups[inode].items()]
    fire(w, {"kind": "edit_file", "path": path, "key_pick": 0.0, "value_pick": 0.0}, step=1)
    fire(w, {"kind": "chmod_readonly", "path": path}, step=2)
    before = w.state_dict()
    fire(w, {"kind": "delete_file", "path": path}, step=3)
    event = fire(w, {"kind": "restore_file", "pick": 0.0}, step=6)
    expected = copy.deepcopy(before)
    expected["files"][path].update(keys=backup, mtime=6, writable=True)
    assert w.state_dict() == expected
    assert event == Event(6, "restore_file", path, {"inode": inode, "path": path, "state": "deleted"},
                          {"inode": inode, "path": path, "state": "ok"})


def test_a_kind_with_nothing_to_act_on_does_nothing():
    w = world()
    before = w.state_dict()
    assert fire(w, {"kind": "restore_file"}) == Event(5, "restore_file", None, None, None)
    assert fire(w, {"kind": "delete_file", "path": "/no/such.ini"}) == Event(5, "delete_file", "/no/such.ini", None, None)
    assert w.state_dict() == before


@pytest.mark.parametrize("kind", [k for k in FILE_KINDS if k != "restore_file"])
def test_every_kind_but_restore_reverts_at_the_end_of_a_window(kind):
    probe = FileSystemEnv(schedule=[])
    probe.reset(seed=4)
    env = FileSystemEnv(schedule=[{"window": [2, 3], "perturb": {"kind": kind, "pick": 0.0}}])
    env.reset(seed=4)
    for _ in range(6):
        act(env, WAIT)
    phases = [(e.step, e.kind, e.phase) for e in env.event_log]
    assert phases == [(2, kind, "apply"), (5, kind, "revert")]
    changed = {k: v for k, v in env.world.state_dict()["files"].items()}
    original = probe.world.state_dict()["files"]
    if kind in ("edit_file", "truncate_file", "corrupt_file"):  # the mtime of a content change stays
        changed = {p: {**r, "mtime": 0} for p, r in changed.items()}
    assert changed == original


# --------------------------------------------------------------------------- operations and rewards


def test_write_to_a_moved_file_fails_with_enoent_and_works_after_locate():
    env = quiet_env()
    target = env.world.targets[0]
    path = env.world.path(target.inode)
    name = path.rsplit("/", 1)[1]
    schedule = [
        {"at": 0, "perturb": {"kind": "edit_file", "path": path, "key": target.key, "value": "wrong"}},
        {"at": 0, "perturb": {"kind": "move_file", "path": path, "to": "/etc"}},
    ]
    env.reset(seed=3, options={"schedule": schedule})
    obs, reward, *_ = act(env, WRITE, 0)
    assert RESULTS[obs["result"][0]] == "ENOENT" and STATUSES[obs["status"][0]] == "missing"
    assert reward == 7 / 8 - OP_COSTS["write"]
    obs, reward, *_ = act(env, LOCATE, 0)
    assert RESULTS[obs["result"][0]] == "ok" and STATUSES[obs["status"][0]] == "unknown"
    assert env.view.paths[0] == "/etc/" + name and reward == 7 / 8 - OP_COSTS["locate"]
    obs, reward, *_ = act(env, WRITE, 0)
    assert RESULTS[obs["result"][0]] == "ok" and STATUSES[obs["status"][0]] == "ok"
    assert reward == 8 / 8 - OP_COSTS["write"]
    assert env.world.node(target.inode).keys[target.key] == target.desired


def test_reward_is_the_true_fraction_ok_minus_the_operation_cost():
    env = quiet_env()
    inode = env.world.targets[0].inode
    path = env.world.path(inode)
    on_file = [i for i, t in enumerate(env.world.targets) if t.inode == inode]
    assert on_file == [0, 4]
    _, reward, *_ = act(env, READ, 1)
    assert reward == 1.0 - 0.01
    env.world.set_corrupt(inode, True, 1)  # silently, as a kind would
    obs, reward, *_ = act(env, WAIT)
    assert reward == 6 / 8 and obs["status"].tolist() == [1] * 8
    obs, reward, *_ = act(env, READ, 0)
    assert reward == 6 / 8 - 0.01 and STATUSES[obs["status"][0]] == "corrupt" and RESULTS[obs["result"][0]] == "EBADMSG"
    obs, reward, *_ = act(env, WRITE, 4)
    assert reward == 6 / 8 - 0.01 and RESULTS[obs["result"][4]] == "EBADMSG"
    obs, reward, *_ = act(env, RESTORE, 0)
    assert reward == 1.0 - 0.1 and STATUSES[obs["status"][0]] == "ok"
    env.world.set_writable(inode, False)
    env.world.set_value(inode, env.world.targets[4].key, "wrong", 5)
    obs, reward, *_ = act(env, WRITE, 4)
    assert reward == 7 / 8 - 0.01 and RESULTS[obs["result"][4]] == "EACCES" and STATUSES[obs["status"][4]] == "read_only"
    obs, reward, *_ = act(env, CHMOD, 4)
    assert reward == 7 / 8 - 0.02 and STATUSES[obs["status"][4]] == "drifted"
    obs, reward, *_ = act(env, WRITE, 4)
    assert reward == 1.0 - 0.01 and obs["age"][4] == 0.0 and obs["age"][1] == 7.0
    assert env.world.path(inode) == path
    custom = quiet_env(op_costs={"read": 0.5})
    assert act(custom, READ, 0)[1] == 0.5


def test_restore_recreates_a_deleted_file_with_its_inode_at_the_known_path():
    env = quiet_env()
    inode = env.world.targets[0].inode
    path = env.world.path(inode)
    directory = path.rsplit("/", 1)[0]
    fire(env.world, {"kind": "move_directory", "path": "/" + "/".join(directory.split("/")[1:3]), "to": "/etc" if not path.startswith("/etc") else "/srv"})
    fire(env.world, {"kind": "delete_file", "path": env.world.path(inode)})
    obs, *_ = act(env, READ, 0)
    assert RESULTS[obs["result"][0]] == "ENOENT"
    obs, reward, *_ = act(env, RESTORE, 0)
    assert RESULTS[obs["result"][0]] == "ok" and env.world.path(inode) == path and reward == 1.0 - 0.1
    env.world.check_invariants()


def test_restore_refuses_a_path_another_file_holds():
    env = quiet_env()
    inode = env.world.targets[0].inode
    path = env.world.path(inode)
    fire(env.world, {"kind": "move_file", "path": path, "to": "/etc"})
    fire(env.world, {"kind": "create_decoy", "path": env.world.path(inode), "to": path.rsplit("/", 1)[0]})
    assert env.world.node(env.world.file_at(path)).decoy
    obs, reward, *_ = act(env, READ, 0)  # a decoy at the stale path reads as the file
    assert STATUSES[obs["status"][0]] == "ok"
    obs, *_ = act(env, RESTORE, 0)
    assert RESULTS[obs["result"][0]] == "EEXIST"


# --------------------------------------------------------------------------- facts and the view


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_facts_agree_with_the_state_dict(seed):
    env = FileSystemEnv(schedule=FileSystemEnv.default_schedule + [{"every": 7, "perturb": {"kind": "delete_file"}}])
    env.reset(seed=seed)
    env.action_space.seed(seed)
    for _ in range(120):
        env.step(env.action_space.sample())
    facts, state = env.facts(), env.world.state_dict()
    present = {k: v for k, v in facts.items() if v is not False or not k.endswith(":exists")}
    assert {k: v for k, v in present.items() if v is not None or not k.startswith("file:")} == files_facts_from_state(state, deleted=False)
    for inode, record in env.world.deleted.items():
        assert facts[f"file:{inode}:path"] is None and record["path"] not in state["files"]


def test_the_view_goes_stale_silently_and_locate_refreshes_it():
    env = quiet_env()
    assert all(env.facts()[k] == v for k, v in env.view_facts().items())
    inode = env.world.targets[0].inode
    old = env.world.path(inode)
    fire(env.world, {"kind": "move_file", "path": old, "to": "/etc"})
    obs, *_ = act(env, WAIT)
    assert obs["status"].tolist() == [1] * 8 and obs["result"].tolist() == [0] * 8
    belief, truth = env.view_facts(), env.facts()
    assert belief["target:0:path"] == old != truth["target:0:path"]
    assert belief[f"file:{old}:exists"] is True and truth[f"file:{old}:exists"] is False
    act(env, LOCATE, 0)
    act(env, READ, 0)
    belief = env.view_facts()
    assert belief["target:0:path"] == truth["target:0:path"] and belief["target:0:ok"] is True


def test_ansi_render_marks_drifted_read_only_corrupt_missing_and_decoys():
    env = FileSystemEnv(schedule=[], render_mode="ansi")
    env.reset(seed=3)
    w = env.world
    paths = [w.path(i) for i in w.managed]
    t0 = w.targets[0]
    w.set_value(t0.inode, t0.key, "wrong", 0)
    fire(w, {"kind": "chmod_readonly", "path": paths[1]})
    fire(w, {"kind": "corrupt_file", "path": paths[2]})
    fire(w, {"kind": "create_decoy", "path": paths[2], "to": "/etc"})
    fire(w, {"kind": "delete_file", "path": paths[3]})
    text = env.render()
    assert f"[managed, drifted:{t0.key}]" in text
    assert "[managed, read-only]" in text and "[managed, drifted:" in text and "corrupt]" in text
    assert "[decoy]" in text and f"[missing] {paths[3]}" in text
    assert text.startswith("step 0/200  targets ok ")


# --------------------------------------------------------------------------- properties

KIND = st.sampled_from(FILE_KINDS)
REVERTIBLE = st.sampled_from([k for k in FILE_KINDS if k != "restore_file"])
HORIZON = 40
ENTRY = st.one_of(
    st.builds(lambda s, k: {"at": s, "perturb": {"kind": k}}, st.integers(0, HORIZON - 1), KIND),
    st.builds(lambda s, k: {"every": s, "perturb": {"kind": k}}, st.integers(1, 10), KIND),
    st.builds(lambda s, d, k: {"window": [s, d], "perturb": {"kind": k}}, st.integers(0, HORIZON - 1), st.integers(1, 15), REVERTIBLE),
    st.builds(lambda d: {"poisson": 0.2, "perturb": {"kind": "chmod_readonly", "duration": d}}, st.integers(1, 10)),
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    schedule=st.lists(ENTRY, max_size=8),
    actions=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=HORIZON, max_size=HORIZON),
    seed=st.integers(0, 2**16),
    n_files=st.integers(3, 20),
)
def test_random_schedules_and_actions_keep_the_tree_sound(schedule, actions, seed, n_files):
    env = FileSystemEnv(n_files=n_files, n_targets=6, schedule=schedule, horizon=HORIZON, visibility="flag")
    obs, _ = env.reset(seed=seed)
    assert env.observation_space.contains(obs)
    for op, target in actions:
        obs, reward, terminated, truncated, _ = env.step(np.array([op, target]))
        env.world.check_invariants()
        assert env.observation_space.contains(obs)
        assert -0.1 <= reward <= 1.0 and not terminated
    assert truncated
