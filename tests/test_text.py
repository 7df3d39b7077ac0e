"""The text interface: grammars, digest equality with the structured envs, probes in words, agents."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st

import driftgym  # noqa: F401
import driftgym.agents.text  # noqa: F401  (registers the text agents)
from driftgym import agents
from driftgym.agents.text import ChatAgent, command_of_reply
from driftgym.envs.text import TEXT_IDS, register_text_envs, structured_id
from driftgym.envs.text import api as api_text
from driftgym.envs.text import files as files_text
from driftgym.envs.text import services as services_text
from driftgym.envs.text.questions import Question, answer_json, parse_answer, question_for
from driftgym.perturbations import as_schedule
from driftgym.scenarios import metrics
from driftgym.scenarios.runner import Cell, probe, run_cell
from driftgym.scenarios.scenario import Scenario

register_text_envs()
FILES, API, SERVICES = TEXT_IDS
COMMAND_FOR = {FILES: files_text.command_for, API: api_text.command_for, SERVICES: services_text.command_for}


def make(env_id, **kwargs):
    env = gym.make(env_id, **kwargs)
    env.reset(seed=0)
    return env


def run(env, command):
    return env.step(command)


# ----------------------------------------------------------------------------- spaces and checks
@pytest.mark.parametrize("env_id", list(TEXT_IDS))
def test_check_env_and_spaces(env_id):
    env = gym.make(env_id, render_mode="ansi")
    check_env(env.unwrapped if False else env, skip_render_check=False)
    text, _ = env.reset(seed=1)
    assert isinstance(env.observation_space, gym.spaces.Text) and env.observation_space.max_length == 16384
    assert env.observation_space.contains(text)
    for command in ("help", "\x00\x01 garbage ünïcode", "", "x" * 5000):
        text, *_ = env.step(command)
        assert env.observation_space.contains(text)
    assert structured_id(env_id) in gym.registry


def test_a_non_string_action_is_misuse():
    env = make(SERVICES)
    with pytest.raises(gym.error.InvalidAction, match="a text env's action is a command string"):
        env.step(3)
    text, *_ = env.step(np.array("wait"))  # a replayed trace gives back a 0-d string array
    assert text.startswith("waited")


# ----------------------------------------------------------------------------- files grammar
def test_files_briefing_states_the_task():
    env = gym.make(FILES)
    text, _ = env.reset(seed=0)
    assert text.splitlines()[4] == "  target 0: mode = development in /srv/mail/db/mail.conf (inode 7)"
    assert "Each step earns the fraction of targets holding their desired value" in text
    assert "  set PATH KEY VALUE   write a managed key's desired value       cost 0.01" in text


def test_files_every_command():
    env = make(FILES, schedule=[])
    text, reward, _, _, info = run(env, "ls /srv")
    assert text == "app/\nmail/\n[step 1/200] reward +0.990" and info["actions"] == [[5, 0]]
    text, reward, *_ , info = run(env, "cat /srv/mail/db/mail.conf")
    assert text.splitlines()[:3] == ["# /srv/mail/db/mail.conf (mode rw, mtime 0)", "mode = development", "timeout = 10"]
    assert info["actions"] == [[0, 0]] and reward == pytest.approx(0.99)
    text, reward, *_ , info = run(env, "cat /srv/nothing.conf")
    assert text.splitlines()[0] == "cat: /srv/nothing.conf: No such file or directory" and info["actions"] == [[5, 0]]
    text, reward, *_ , info = run(env, "find mail.conf")
    assert text.splitlines()[0] == "7 /srv/mail/db/mail.conf" and reward == pytest.approx(0.95)
    text, *_ , info = run(env, "find *.env")
    assert text.splitlines()[:2] == ["13 /srv/mail/db.env", "11 /srv/mail/db/site.env"]
    text, reward, *_ , info = run(env, "set /srv/mail/db/mail.conf timeout 10")
    assert text.splitlines()[0] == "/srv/mail/db/mail.conf: timeout = 10 (written)" and info["actions"] == [[1, 4]]
    text, reward, *_ , info = run(env, "set /srv/mail/db/mail.conf timeout 99")
    assert text.splitlines()[0] == "error: set: refused: the spec says timeout = 10" and reward == pytest.approx(0.99)
    text, *_ , info = run(env, "chmod +w /srv/mail/db.env")
    assert text.splitlines()[0] == "/srv/mail/db.env: now writable" and info["actions"] == [[3, 2]]
    text, *_ , info = run(env, "restore /srv/mail/db.env")
    assert text.splitlines()[0] == "/srv/mail/db.env: restored from backup" and info["actions"] == [[4, 2]]
    text, reward, *_ , info = run(env, "restore /srv/app")
    assert info["error"].startswith("restore: no backup is known for /srv/app")
    text, reward, *_ , info = run(env, "wait")
    assert text.splitlines()[0] == "waited" and reward == 1.0 and info["actions"] == [[5, 0]]
    text, reward, *_ , info = run(env, "help")
    assert text.splitlines()[0].startswith("  ls DIR") and reward == 1.0


@pytest.mark.parametrize("command, error", [
    ("", "empty command"), ("rm -rf /", "unknown command 'rm'"), ("ls", "ls takes: ls DIR"),
    ("chmod 777 /srv", "chmod takes: chmod +w PATH"), ("cat relative.conf", "cat: a path is absolute (starts with /)"),
    ("set /a b", "set takes: set PATH KEY VALUE"), ("cat 'open", "cannot parse \"cat 'open\": No closing quotation"),
])
def test_files_malformed_commands_are_outcomes(command, error):
    env = make(FILES, schedule=[])
    text, reward, terminated, truncated, info = env.step(command)
    assert info["error"] == error and text.splitlines()[0] == f"error: {error}" and "usage:" in text
    assert reward == pytest.approx(1.0 - 0.01) and not terminated and info["actions"] == [[5, 0]]


# ----------------------------------------------------------------------------- api grammar
def test_api_every_command():
    env = make(API, schedule=[])
    text, reward, *_ , info = run(env, "GET /openapi.json")
    assert text.startswith("HTTP/1.1 200 OK\nContent-Type: application/json\n") and info["actions"] == [2]
    assert json.loads(text.split("\n\n")[1].split("\n")[0])["openapi"] == "3.0.3"
    assert text.splitlines()[-2] == "job #0: read users/45 field status (15 s left, 0 more queued)"
    text, reward, *_ , info = run(env, "auth")
    assert '{"access_token":"tok-0","token_type":"Bearer"}' in text and info["actions"] == [3] and reward == -0.01
    text, reward, *_ , info = run(env, "GET /v1/users/45\nAuthorization: Bearer tok-0")
    assert info["actions"] == [0] and reward == pytest.approx(0.99)  # the job's request: completed
    text, reward, *_ , info = run(env, "GET /v1/users/3\nauthorization: Bearer tok-0")
    assert text.splitlines()[0] == "HTTP/1.1 200 OK" and info["actions"] == [4] and reward == -0.01
    text, reward, *_ , info = run(env, "GET /v1/users/3 HTTP/1.1\nHost: api.driftgym.test")
    assert text.splitlines()[0] == "HTTP/1.1 401 Unauthorized" and 'WWW-Authenticate: Bearer' in text
    text, reward, *_ , info = run(env, "PATCH /v1/users/3\nAuthorization: Bearer tok-0\n\n{\"nope\": 1}")
    assert text.splitlines()[0] == "HTTP/1.1 422 Unprocessable Content" and '"unknown_field"' in text
    text, reward, *_ , info = run(env, "wait 3")
    assert text.splitlines()[0] == "waited 3 s" and info["actions"] == [4, 4, 4]
    text, reward, *_ , info = run(env, "drop")
    assert text.splitlines()[0] == "job dropped" and info["actions"] == [5] and reward == pytest.approx(-0.2)
    text, *_ = run(env, "help")
    assert text.splitlines()[0].startswith("  METHOD /path[?query]")


@pytest.mark.parametrize("command, error", [
    ("", "empty command"), ("FETCH /v1/users", "not a request line: 'FETCH /v1/users'"),
    ("GET users", "not a request line: 'GET users'"), ("GET /v1/users SPDY", "not a protocol version: 'SPDY'"),
    ("GET /v1/users\nno colon here", "not a header line: 'no colon here'"),
    ("PATCH /v1/users/1\n\n{oops", "the body is not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ("wait 0", "wait takes a whole number of seconds from 1 to 60"), ("wait soon", "wait takes a whole number of seconds from 1 to 60"),
    ("auth now", "auth takes no argument"),
])
def test_api_malformed_commands_are_outcomes(command, error):
    env = make(API, schedule=[])
    text, reward, _, _, info = env.step(command)
    assert info["error"] == error and text.splitlines()[0] == f"error: {error}"
    assert reward == pytest.approx(-0.01) and info["actions"] == [4]


# ----------------------------------------------------------------------------- services grammar
def test_services_every_command():
    env = make(SERVICES, schedule=[])
    text, reward, *_ , info = run(env, "status")
    assert text.splitlines()[0] == "gateway: never probed" and info["actions"] == [[0, 0]]
    text, reward, *_ , info = run(env, "probe db")
    assert text.splitlines()[0].startswith("db: up, version good, region ") and info["actions"] == [[1, 7]]
    assert text.splitlines()[1].startswith("success ") and text.splitlines()[1].endswith("ok")
    for command, action, word in (("restart cache", [2, 5], "done"), ("scale api +1", [3, 1], "done"),
                                  ("scale api -1", [4, 1], "done"), ("rollback db", [5, 7], "failed"),
                                  ("failover auth", [6, 2], "done"), ("wait", [0, 0], None), ("help", [0, 0], None)):
        text, reward, *_ , info = run(env, command)
        assert info["actions"] == [action]
        if word:
            assert text.splitlines()[0] == f"{services_text.OPERATIONS[action[0]]} {command.split()[1]}: {word}"


@pytest.mark.parametrize("command, error", [
    ("", "empty command"), ("reboot db", "unknown command 'reboot'"), ("probe", "probe takes: probe SVC"),
    ("scale db +2", "scale takes: scale SVC +1|-1"),
    ("probe nosuch", "no service 'nosuch'; services: gateway, api, auth, catalog, cart, cache, queue, db"),
])
def test_services_malformed_commands_are_outcomes(command, error):
    env = make(SERVICES, schedule=[])
    _, reward, _, _, info = env.step(command)
    assert info["error"] == error and info["actions"] == [[0, 0]]
    twin = make("driftgym/Services-v0", schedule=[])
    assert reward == pytest.approx(twin.step(np.array([0, 0]))[1] - 0.01)


# ----------------------------------------------------------------------------- text == structured
@pytest.mark.parametrize("env_id", list(TEXT_IDS))
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_commands_and_structured_actions_drive_the_same_world(env_id, data):
    seed = data.draw(st.integers(0, 50))
    text_env = gym.make(env_id, horizon=60)
    twin = gym.make(structured_id(env_id), horizon=60)
    text_env.reset(seed=seed)
    twin.reset(seed=seed)
    twin.action_space.seed(seed)
    for _ in range(60):
        action = twin.action_space.sample()
        if env_id == FILES and action[0] == files_text.LOCATE:  # `find` is no locate: it teaches every target of the file
            action = np.array([files_text.WAIT, 0])
        command = COMMAND_FOR[env_id](text_env.unwrapped, action)
        _, text_reward, *_ = text_env.step(command)
        _, reward, *_ = twin.step(action)
        assert text_reward == reward, command
        assert text_env.get_wrapper_attr("world_digest")() == twin.get_wrapper_attr("world_digest")(), command


def scenario(env_id, agent, horizon=None, probe_every=10):
    default = gym.make(env_id).unwrapped.default_schedule
    return Scenario(id="text", env=env_id, schedule=as_schedule(list(default)), seeds=(0,), agents=(agent,),
                    horizon=horizon, probe_every=probe_every)


@pytest.mark.parametrize("env_id", list(TEXT_IDS))
def test_the_text_stale_agent_is_the_structured_one(env_id):
    text_lines = run_cell(Cell(scenario(env_id, "stale"), "stale", 0))
    structured_lines = run_cell(Cell(scenario(structured_id(env_id), "stale"), "stale", 0))
    assert [l["world_digest"] for l in text_lines[1:-1]] == [l["world_digest"] for l in structured_lines[1:-1]]
    assert [l["reward"] for l in text_lines[1:-1]] == [l["reward"] for l in structured_lines[1:-1]]


@pytest.mark.parametrize("env_id", list(TEXT_IDS))
def test_adaptive_beats_stale_and_the_oracle_knows_the_world(env_id):
    returns = {a: run_cell(Cell(scenario(env_id, a), a, 0))[-1]["closing"] for a in ("stale", "adaptive", "oracle")}
    assert returns["adaptive"]["return"] > returns["stale"]["return"] + 30
    assert returns["oracle"]["world_model"]["accuracy"] == 1.0
    assert returns["adaptive"]["world_model"]["accuracy"] > returns["stale"]["world_model"]["accuracy"]


def test_a_text_trace_replays(monkeypatch, tmp_path):
    from driftgym.envs import ENV_IDS
    from driftgym.scenarios import replay, scenario as scenario_module
    from driftgym.scenarios.runner import trace_text

    for env_id, entry in TEXT_IDS.items():
        monkeypatch.setitem(ENV_IDS, env_id, entry)
    monkeypatch.setattr(scenario_module, "_SCHEMA_CACHE", [])
    path = tmp_path / "trace.jsonl"
    path.write_text(trace_text(run_cell(Cell(scenario(API, "adaptive", horizon=80), "adaptive", 0))))
    result = replay.replay_trace(path)
    assert result.ok and result.steps == 80


# ----------------------------------------------------------------------------- probes in words
def test_questions_from_facts():
    env = make(FILES)
    assert question_for("file:/etc/app/db.ini:exists").text == "Does /etc/app/db.ini exist?"
    assert question_for("target:2:ok", env).text == "Does target 2 (backlog, desired 128) hold its desired value now?"
    assert question_for("api:users.amount:name").text == "What is the field name for users.amount now?"
    assert question_for("svc:db:health").options == ("up", "degraded", "down", "restarting")
    assert question_for("edge:api->db:up").kind == "bool"
    assert question_for("api:rate_limit").prompt().endswith(
        'Reply with JSON only: {"answer": <your answer>, "confidence": <0 to 1>}; answer null if you do not know.')
    with pytest.raises(ValueError, match="no question for fact key 'weird:key'"):
        question_for("weird:key")


@pytest.mark.parametrize("reply, kind, expected", [
    ('{"answer": true, "confidence": 0.8}', "bool", (True, 0.8)),
    ('Sure! ```json\n{"answer": "yes", "confidence": "90%"}\n```', "bool", (True, 0.9)),
    ("{'answer': 'total', 'confidence': 1.7}", "text", ("total", 1.0)),
    ('{"answer": 5432, "confidence": 0.5}', "text", ("5432", 0.5)),
    ('{"Answer": "7"}', "int", (7, None)),
    ('{"answer": "30 per 10 s", "confidence": 0.2}', "pair", ([30, 10], 0.2)),
    ('{"answer": null, "confidence": 0.9}', "text", (None, None)),
    ('{"answer": "maybe"}', "bool", (None, None)),
    ("I think it is probably fine", "text", (None, None)),
    ("no", "bool", (False, None)),
    ('{"answer": ', "text", (None, None)),
    (None, "text", (None, None)),
])
def test_answers_are_parsed_tolerantly(reply, kind, expected):
    assert parse_answer(reply, Question("k", "?", kind)) == expected


def wrong(truth):
    return (not truth) if isinstance(truth, bool) else truth + 1 if isinstance(truth, int) else f"{truth}-x"


class Calibrated(driftgym.agents.text.TextAgent):
    """Right on even probes, wrong on odd ones, each with confidence 0.5: perfectly calibrated."""

    def reset(self, seed=None):
        super().reset(seed)
        self.count = 0

    def act(self, observation, info):
        return "wait"

    def reply(self, question):
        truth = self.env.get_wrapper_attr("facts")()[question.key]
        self.count += 1
        return answer_json(truth if self.count % 2 else wrong(truth), 0.5)


class Overconfident(Calibrated):
    def reply(self, question):
        truth = self.env.get_wrapper_attr("facts")()[question.key]
        self.count += 1
        return f"My answer: {{\"answer\": {json.dumps(truth if self.count % 4 == 0 else wrong(truth))}, \"confidence\": 1}}"


def test_probe_round_trip_scores_calibration():
    env = make(SERVICES)
    scores = {}
    for agent_class in (Calibrated, Overconfident):
        agent = agent_class(env)
        agent.reset(0)
        probes = probe(env, agent, np.random.default_rng(0), 8, 0)
        assert len(probes) == 8
        scores[agent_class.__name__] = (metrics.probe_accuracy(probes)["accuracy"], metrics.brier_score(probes),
                                        metrics.expected_calibration_error(probes))
    assert scores == {"Calibrated": (0.5, 0.25, 0.0), "Overconfident": (0.25, 0.75, 0.75)}


def test_chat_agent_keeps_the_conversation():
    env = gym.make(SERVICES)
    seen = []

    def complete(messages):
        seen.append([m["role"] for m in messages])
        last = messages[-1]["content"]
        if last.startswith("Question:"):
            return 'ok: {"answer": "up", "confidence": 0.7}'
        return "Let me look.\n```\nprobe db\n```"

    agent = ChatAgent(env, complete, max_messages=4)
    text, info = env.reset(seed=0)
    agent.reset(0)
    for _ in range(3):
        command = agent.act(text, info)
        assert command == "probe db"
        text, _, _, _, info = env.step(command)
    assert agent.belief(["svc:db:health", "edge:api->db:up"]) == {"svc:db:health": ("up", 0.7)}
    assert seen[:3] == [["system", "user"], ["system", "user", "assistant", "user"], ["system", "assistant", "user", "assistant", "user"]]
    assert command_of_reply("  wait \n") == "wait"


@pytest.mark.parametrize("env_id", list(TEXT_IDS))
def test_every_text_id_has_the_baselines(env_id):
    assert agents.names(env_id) == ["adaptive", "oracle", "random", "stale"]


def test_visibility_is_said_in_words_and_full_lists_the_events():
    register_text_envs()
    schedule = [{"at": 1, "perturb": {"kind": "crash", "service": "db"}}]
    hidden = gym.make("driftgym/Services-text-v0", schedule=schedule)
    flag = gym.make("driftgym/Services-text-v0", schedule=schedule, visibility="flag")
    full = gym.make("driftgym/Services-text-v0", schedule=schedule, visibility="full")
    for env in (hidden, flag, full):
        env.reset(seed=0)
    said = {name: [env.step("wait") for _ in range(2)] for name, env in (("hidden", hidden), ("flag", flag), ("full", full))}
    assert all("[changed]" not in s[0] and "[unchanged]" not in s[0] for s in said["hidden"])
    assert "[unchanged]" in said["flag"][0][0] and "[changed] 1 change(s) since the last command" in said["flag"][1][0]
    assert "[changed] 1 change(s) since the last command, magnitude 1" in said["full"][1][0]
    assert [e["kind"] for e in said["full"][1][4]["events"]] == ["crash"] and "events" not in said["flag"][1][4]
