"""`driftgym serve openenv`: OpenEnv's own client against a loopback server."""

from __future__ import annotations

import socket
import threading
import time

import gymnasium as gym
import pytest
import requests
import uvicorn
from openenv.core.generic_client import GenericEnvClient

import driftgym.agents.text  # noqa: F401
from driftgym import agents
from driftgym.envs.text import register_text_envs
from driftgym.scenarios.openenv_server import main, make_app, trace_digest, trace_line

register_text_envs()
SERVICES, API = "driftgym/Services-text-v0", "driftgym/HttpApi-text-v0"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Loopback:
    def __init__(self, app) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="critical"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                break
            time.sleep(0.025)
        assert self.server.started, "the loopback server did not start"
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def in_process(env_id: str, seed: int, steps: int, **kwargs):
    """The same episode run in process: the adaptive text agent's commands, the trace lines."""
    env = gym.make(env_id, **kwargs)
    agent = agents.make("adaptive", env)
    text, info = env.reset(seed=seed)
    agent.reset(seed)
    commands, lines = [], []
    for step in range(steps):
        command = agent.act(text, info)
        text, reward, _, _, info = env.step(command)
        commands.append(command)
        lines.append(trace_line(step, command, reward, text, env.get_wrapper_attr("world_digest")()))
    return commands, trace_digest(lines), env.get_wrapper_attr("facts")()


@pytest.fixture(scope="module")
def services_url():
    with Loopback(make_app(SERVICES, max_sessions=4)) as url:
        yield url


def test_health_schema_metadata(services_url):
    assert requests.get(f"{services_url}/health", timeout=5).json() == {"status": "healthy"}
    schema = requests.get(f"{services_url}/schema", timeout=5).json()
    assert {"command", "action"} <= set(schema["action"]["properties"])
    assert {"text", "step", "truncated", "info"} <= set(schema["observation"]["properties"])
    assert requests.get(f"{services_url}/metadata", timeout=5).json()["name"] == SERVICES
    first = requests.post(f"{services_url}/reset", json={"seed": 2}, timeout=5).json()
    assert first["observation"]["text"].startswith("You are on call for 8 microservices")


def test_a_served_episode_is_the_in_process_one(services_url):
    commands, digest, facts = in_process(SERVICES, 5, 40)
    with GenericEnvClient(base_url=services_url).sync() as client:
        result = client.reset(seed=5)
        assert result.observation["text"] == gym.make(SERVICES).reset(seed=5)[0]
        for command in commands:
            result = client.step({"command": command})
        state = client.state()
    assert result.observation["step"] == 40 and not result.done
    assert state["trace_digest"] == digest and state["step_count"] == 40 and state["seed"] == 5
    assert state["facts"] == facts  # the ground truth: simulation mode


def test_sessions_are_independent(services_url):
    runs = {seed: in_process(SERVICES, seed, 15) for seed in (1, 2)}
    clients = {seed: GenericEnvClient(base_url=services_url).sync() for seed in runs}
    try:
        for seed, client in clients.items():
            client.connect()
            client.reset(seed=seed)
        for step in range(15):  # interleaved, one step each in turn
            for seed, client in clients.items():
                client.step({"command": runs[seed][0][step]})
        assert {seed: c.state()["trace_digest"] for seed, c in clients.items()} == {s: r[1] for s, r in runs.items()}
    finally:
        for client in clients.values():
            client.close()


def test_reset_takes_a_scenario_and_malformed_commands_are_outcomes():
    with Loopback(make_app(API)) as url, GenericEnvClient(base_url=url).sync() as client:
        result = client.reset(seed=0, scenario="api-rate-limit-storm")
        assert result.observation["text"].startswith("You are the integration client")
        result = client.step({"command": "FETCH me"})
        assert result.observation["info"]["error"] == "not a request line: 'FETCH me'" and result.reward == -0.01
        with pytest.raises(RuntimeError, match="this env takes"):
            client.step({"action": 3})
        assert client.state()["scenario"] == "api-rate-limit-storm"


def test_production_mode_hides_the_ground_truth():
    with Loopback(make_app(SERVICES, mode="production")) as url:
        assert requests.get(f"{url}/state", timeout=5).status_code == 404
        assert requests.post(f"{url}/reset", json={}, timeout=5).status_code in (404, 405)
        with GenericEnvClient(base_url=url).sync() as client:
            client.reset(seed=0)
            client.step({"command": "probe db"})
            state = client.state()
    assert "facts" not in state and state["mode"] == "production" and state["step_count"] == 1


def test_the_cli_entry_rejects_an_unknown_env(capsys):
    assert main(["--env", "driftgym/Nope-v0"]) == 2
    assert "driftgym serve openenv: unknown env id 'driftgym/Nope-v0'" in capsys.readouterr().err
