"""Scenario files, the runner, replay and the command line, end to end."""

import json
import signal
import subprocess
import sys
import time

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from driftgym.scenarios.replay import replay_trace
from driftgym.scenarios.runner import Cell, change_points, read_trace, run_cell, run_scenarios
from driftgym.scenarios.scenario import Scenario, ScenarioError, library, load_scenario, scenario_schema

GOOD = {"id": "tiny", "env": "driftgym/CartPole-v1", "horizon": 30, "schedule": [{"every": 1, "perturb": {"kind": "drift_param", "param": "gravity", "rate": 0.1}}], "seeds": [0, 1], "agents": ["stale", "oracle"], "probe": {"every": 5, "facts": 3}}


def driftgym_command(*args, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "driftgym", *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def test_defaults_are_filled_in():
    scenario = Scenario.from_dict({"id": "x", "env": "driftgym/Pendulum-v1", "schedule": []})
    assert (scenario.visibility, scenario.horizon, scenario.seeds, scenario.agents) == ("hidden", None, tuple(range(10)), ("random", "stale", "adaptive", "oracle"))
    assert (scenario.probe_every, scenario.probe_facts, scenario.description) == (10, 8, "")
    assert Scenario.from_dict(scenario.to_dict()) == Scenario.from_dict({**scenario.to_dict(), "seeds": "0-9"})


@pytest.mark.parametrize(
    "change, message",
    [
        ({"sedes": [1]}, "s.yaml: sedes: unknown key; did you mean 'seeds'? allowed: agents, description, env, env_kwargs, horizon, id, probe, schedule, seeds, visibility"),
        ({"env": "driftgym/CartPol-v1"}, "s.yaml: env: got 'driftgym/CartPol-v1'; did you mean 'driftgym/CartPole-v1'? allowed: driftgym/CartPole-v1, "),
        ({"schedule": None}, "s.yaml: schedule: None is not of type 'array'"),
        ({"schedule": [{"every": 1, "perturb": {"kind": "drift_parm", "param": "gravity", "rate": 1}}]}, "s.yaml: schedule[0].perturb.kind: got 'drift_parm'; did you mean 'drift_param'? allowed: "),
        ({"schedule": [{"every": 1, "perturb": {"kind": "drift_param", "param": "gravity", "rat": 1}}]}, "s.yaml: schedule[0].perturb.rat: unknown key; did you mean 'rate'? allowed: kind, max, min, param, rate"),
        ({"schedule": [{"every": 1, "perturb": {"kind": "drift_param", "param": "gravity"}}]}, "s.yaml: schedule[0].perturb.rate: missing (required)"),
        ({"schedule": [{"evry": 1, "perturb": {"kind": "noop"}}]}, "s.yaml: schedule[0].evry: unknown key; did you mean 'every'? an entry takes one of at, every, poisson, window, burst, ramp"),
        ({"schedule": [{"every": 1, "at": 2, "perturb": {"kind": "noop"}}]}, "s.yaml: schedule[0]: an entry takes exactly one of at, every, poisson, window, burst, ramp (found at, every)"),
        ({"schedule": [{"every": 0, "perturb": {"kind": "noop"}}]}, "s.yaml: schedule[0].every: got 0; allowed: a number >= 1"),
        ({"schedule": [{"every": 2, "perturb": {"kind": "drift_param", "param": "gravity", "rate": "x"}}]}, "s.yaml: schedule[0].perturb.rate: got 'x'; allowed: a number or a random value"),
        ({"schedule": [{"every": 2, "perturb": {"kind": "scale_param", "param": "gravity", "factor": 2, "min": 3, "max": 1}}]}, "s.yaml: schedule[0].perturb.min: scale_param needs min <= max (got min=3.0, max=1.0)"),
        ({"schedule": [{"at": 2, "perturb": {"choice": [{"kind": "noop"}, {"kind": "nop"}]}}]}, "s.yaml: schedule[0].perturb.choice[1].kind: got 'nop'; did you mean 'noop'?"),
        ({"visibility": "flagg"}, "s.yaml: visibility: got 'flagg'; did you mean 'flag'? allowed: hidden, flag, magnitude, full"),
        ({"probe": {"evry": 3}}, "s.yaml: probe.evry: unknown key; did you mean 'every'? allowed: every, facts"),
        ({"seeds": "9-3"}, "s.yaml: seeds: range '9-3' needs low <= high"),
        ({"horizon": 0}, "s.yaml: horizon: got 0; allowed: a number >= 1"),
    ],
)
def test_malformed_scenarios_name_the_key_and_what_is_allowed(change, message):
    with pytest.raises(ScenarioError) as error:
        Scenario.from_dict({**GOOD, **change}, "s.yaml")
    assert str(error.value).startswith(message)


def test_unknown_scenarios_and_bad_yaml(tmp_path):
    with pytest.raises(ScenarioError, match=r"unknown scenario 'calm-contrl'; did you mean 'calm-control'\?"):
        load_scenario("calm-contrl")
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [unclosed\n")
    with pytest.raises(ScenarioError, match=rf"{broken}: not valid YAML: "):
        load_scenario(broken)


@pytest.mark.parametrize("name", sorted(library()))
def test_every_bundled_scenario_validates_and_runs_a_few_steps(name):
    scenario = load_scenario(name)
    assert scenario.id == name and scenario.description
    short = Scenario.from_dict({**scenario.to_dict(), "horizon": 5, "probe": {"every": 2, "facts": 2}})
    for agent in short.agents:
        lines = run_cell(Cell(short, agent, short.seeds[0]))
        assert lines[0]["format"] == "driftgym-trace/1" and 1 <= len(lines) - 2 <= 5


def test_the_library_spans_every_env_family():
    envs = {load_scenario(n).env for n in library()}
    assert {"driftgym/CartPole-v1", "driftgym/Pendulum-v1"} <= envs


def test_a_trace_replays_and_a_tampered_one_is_caught_at_the_right_step(tmp_path):
    scenario = Scenario.from_dict(GOOD)
    run_scenarios([scenario], tmp_path)
    trace = tmp_path / "tiny" / "stale" / "seed-1.jsonl"
    assert replay_trace(trace).ok
    lines = trace.read_text().splitlines()
    step = json.loads(lines[8])
    step["reward"] = 0.5
    lines[8] = json.dumps(step)
    trace.write_text("\n".join(lines) + "\n")
    result = replay_trace(trace)
    assert (result.mismatch.step, result.mismatch.field, result.mismatch.recorded, result.mismatch.replayed) == (7, "reward", 0.5, 1.0)


def test_probes_compare_the_agent_s_belief_with_the_truth():
    lines = run_cell(Cell(Scenario.from_dict(GOOD), "stale", 0))
    probes = [p for line in lines[1:-1] for p in line.get("probes", [])]
    assert [line["step"] for line in lines[1:-1] if "probes" in line] == [4, 9, 14, 19, 24, 29][: len([l for l in lines[1:-1] if "probes" in l])]
    gravity = [p for p in probes if p["key"] == "param:gravity"]
    assert gravity and all(p["answer"] == 9.8 and p["confidence"] == 1.0 for p in gravity)
    assert all(p["truth"] > 9.8 for p in gravity)


def test_change_points_count_a_continuous_drift_once():
    events = [{"source": 0, "step": s, "phase": "apply"} for s in range(3, 9)] + [{"source": 1, "step": 5, "phase": "apply"}, {"source": 1, "step": 9, "phase": "revert"}]
    assert change_points(events) == [3, 5]


def test_results_do_not_depend_on_the_number_of_workers(tmp_path):
    scenario = Scenario.from_dict(GOOD)
    one = run_scenarios([scenario], tmp_path / "one")
    two = run_scenarios([scenario], tmp_path / "two", workers=2)
    assert one == two
    for path in sorted((tmp_path / "one").rglob("*.jsonl")):
        assert path.read_text() == (tmp_path / "two" / path.relative_to(tmp_path / "one")).read_text()


def test_the_command_line_end_to_end(tmp_path):
    listed = driftgym_command("list")
    assert listed.returncode == 0 and "calm-control:" in listed.stdout and "params: drift_param(param: a name" in listed.stdout
    shown = driftgym_command("show", "cartpole-gravity-drift", "--seed", "3")
    assert shown.returncode == 0 and shown.stdout.splitlines()[1] == "step  until  kind         parameters"
    scenario_file = tmp_path / "tiny.yaml"
    scenario_file.write_text(yaml.safe_dump(GOOD))
    ran = driftgym_command("run", str(scenario_file), "--seeds", "0-1", "--out", str(tmp_path / "out"))
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == "| scenario | agent | return | regret vs oracle | recovery time | world-model accuracy | env figures (means) |"
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["tiny"]["oracle"]["world_model_accuracy"]["mean"] == 1.0
    replayed = driftgym_command("replay", str(tmp_path / "out" / "tiny" / "oracle" / "seed-0.jsonl"))
    assert replayed.returncode == 0 and replayed.stdout.endswith("30 steps replayed, every digest matches\n")
    schema = json.loads(driftgym_command("schema").stdout)
    in_process = scenario_schema()  # may hold test-only kinds registered by other test modules
    assert schema["required"] == ["id", "env", "schedule"] and schema["properties"] == json.loads(json.dumps(in_process["properties"]))
    assert {"kind-drift_param", "kind-rename_field", "kind-move_file", "kind-crash"} <= set(schema["$defs"]) <= set(in_process["$defs"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "no-such-scenario"], "driftgym: unknown scenario 'no-such-scenario'"),
        (["run", "calm-control", "--seeds", "5-2"], "argument --seeds: bad seed range '5-2'"),
        (["run", "pendulum-mass-oscillation", "--agents", "stael"], "driftgym: unknown agent 'stael' for driftgym/Pendulum-v1; known: adaptive, oracle, random, stale"),
        (["run", "calm-control", "--out", "/proc/driftgym-out"], "driftgym: cannot write to the output directory /proc/driftgym-out"),
        (["replay", "missing.jsonl"], "driftgym: no trace at missing.jsonl"),
        (["show", "calm-contrl"], "driftgym: unknown scenario 'calm-contrl'; did you mean 'calm-control'?"),
    ],
)
def test_bad_input_gets_one_clear_line_and_a_non_zero_exit(args, message):
    result = driftgym_command(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_trace_from_another_version_is_refused(tmp_path):
    run_scenarios([Scenario.from_dict(GOOD)], tmp_path)
    trace = tmp_path / "tiny" / "stale" / "seed-0.jsonl"
    lines = trace.read_text().splitlines()
    header = json.loads(lines[0])
    header["driftgym"] = "0.0.1"
    trace.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    result = driftgym_command("replay", str(trace))
    assert result.returncode == 2 and "written by driftgym 0.0.1, this is 0.1.0" in result.stderr


def test_resume_after_a_kill_gives_the_same_summary(tmp_path):
    scenario_file = tmp_path / "long.yaml"
    scenario_file.write_text(yaml.safe_dump({**GOOD, "id": "long", "horizon": 300, "seeds": "0-11", "agents": ["stale", "adaptive", "oracle"]}))
    uninterrupted = driftgym_command("run", str(scenario_file), "--out", str(tmp_path / "whole"))
    assert uninterrupted.returncode == 0
    process = subprocess.Popen([sys.executable, "-m", "driftgym", "run", str(scenario_file), "--out", str(tmp_path / "cut")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list((tmp_path / "cut").rglob("*.jsonl"))) < 3:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = list((tmp_path / "cut").rglob("*.jsonl"))
    assert 3 <= len(finished) < 36 and not (tmp_path / "cut" / "summary.json").exists()
    assert all(read_trace(p)[-1].get("closing") for p in finished)
    resumed = driftgym_command("run", str(scenario_file), "--out", str(tmp_path / "cut"), "--resume")
    assert resumed.returncode == 0
    assert (tmp_path / "cut" / "summary.json").read_text() == (tmp_path / "whole" / "summary.json").read_text()


# --------------------------------------------------------------------------- properties

kind_parts = st.sampled_from([
    {"kind": "drift_param", "param": "gravity", "rate": 0.01},
    {"kind": "scale_param", "param": "length", "factor": {"uniform": [0.5, 1.5]}},
    {"kind": "set_param", "param": "force_mag", "value": 5.0},
    {"kind": "noop"},
])
entries = st.one_of(
    st.builds(lambda s, p: {"at": s, "perturb": p}, st.integers(0, 50), kind_parts),
    st.builds(lambda n, p: {"every": n, "perturb": p}, st.integers(1, 20), kind_parts),
    st.builds(lambda s, d, p: {"window": [s, d], "perturb": p}, st.integers(0, 50), st.integers(1, 20), kind_parts),
    st.builds(lambda r, p: {"poisson": r, "perturb": p}, st.floats(0.01, 1.0), kind_parts),
)
scenario_dicts = st.fixed_dictionaries(
    {"id": st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True), "env": st.just("driftgym/CartPole-v1"), "schedule": st.lists(entries, max_size=4)},
    optional={
        "horizon": st.integers(1, 500),
        "visibility": st.sampled_from(["hidden", "flag", "magnitude", "full"]),
        "seeds": st.lists(st.integers(0, 100), min_size=1, max_size=3),
        "probe": st.fixed_dictionaries({}, optional={"every": st.integers(1, 50), "facts": st.integers(1, 5)}),
    },
)


@given(scenario_dicts)
def test_scenarios_built_from_the_schema_s_parts_load(data):
    scenario = Scenario.from_dict(data)
    assert scenario.id == data["id"] and len(scenario.schedule.to_wire()) == len(data["schedule"])
    assert Scenario.from_dict(scenario.to_dict()) == scenario


@given(scenario_dicts, st.data())
def test_a_mutated_scenario_fails_with_an_error_naming_the_broken_key(data, draw):
    keys = sorted(data)
    key = draw.draw(st.sampled_from(keys))
    broken = {k: v for k, v in data.items() if k != key}
    broken[key + "x"] = data[key]
    with pytest.raises(ScenarioError) as error:
        Scenario.from_dict(broken, "m.yaml")
    assert str(error.value).startswith("m.yaml: ")
    assert f"{key}x: unknown key" in str(error.value) or f"{key}: missing (required)" in str(error.value)
