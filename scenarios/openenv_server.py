"""``driftgym serve openenv``: a driftgym env behind OpenEnv's protocol (``openenv-core``).

    driftgym serve openenv --env driftgym/Services-text-v0 [--scenario S] [--host 127.0.0.1 --port 8000]
                           [--max-sessions 8] [--mode simulation|production]

OpenEnv's own server (``openenv.core.env_server.HTTPEnvServer``) serves ``/reset``, ``/step``,
``/state``, ``/schema``, ``/health``, ``/metadata`` and the session socket ``/ws`` that OpenEnv's
clients (``GenericEnvClient``, ``EnvClient``) speak: one env per session, ``--max-sessions`` at
once. (OpenEnv's plain HTTP ``/reset`` and ``/step`` each use a fresh env, by its design; episodes
live in sessions.) Reset takes ``seed`` and ``scenario`` (a library id or a path: its env
kwargs, horizon, visibility and schedule; default ``--scenario``). An action is
``{"command": "probe db"}`` on a text id, ``{"action": <JSON of the action>}`` on a structured
one. The observation: ``text`` (text ids) or ``observation`` (structured, as plain JSON), ``step``,
``truncated``, ``info``. ``/state`` (and the socket's ``state``) gives the episode id, step count,
seed, scenario, timeline, world and trace digests, and — only in simulation mode — the ground
truth (``facts``); in production mode OpenEnv registers no ``/reset``, ``/step`` or ``/state`` route.
The trace digest is ``trace_digest(lines)`` over one line per step (action, reward, observation
and world digests), so an episode served and the same episode run in process can be compared.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from typing import Any, Optional

import gymnasium as gym

__all__ = ["main", "make_app", "trace_digest", "trace_line"]


def trace_line(step: int, action: Any, reward: float, observation: Any, world_digest: str) -> dict[str, Any]:
    from driftgym.perturbations import digest_of
    from driftgym.scenarios.runner import plain

    return {"step": step, "action": plain(action), "reward": float(reward),
            "observation_digest": digest_of(plain(observation)), "world_digest": world_digest}


def trace_digest(lines: list[dict[str, Any]]) -> str:
    from driftgym.perturbations import digest_of

    return digest_of(lines)


def _scenario_settings(scenario: str | None) -> dict[str, Any]:
    """gym.make kwargs from a scenario id or file (None: none)."""
    if not scenario:
        return {}
    from driftgym.scenarios.scenario import load_scenario

    found = load_scenario(scenario)
    return {"env": found.env, **found.env_arguments()}


def make_app(env_id: str, scenario: str | None = None, max_sessions: int = 8, mode: str = "simulation"):
    """The FastAPI app serving ``env_id`` with OpenEnv's server."""
    from fastapi import FastAPI
    from openenv.core.env_server.http_server import HTTPEnvServer
    from openenv.core.env_server.interfaces import Environment
    from openenv.core.env_server.types import Action, EnvironmentMetadata, Observation, State
    from pydantic import Field

    import driftgym  # noqa: F401  (registers the ids)
    from driftgym.envs.text import register_text_envs
    from driftgym.scenarios.runner import as_action, plain

    register_text_envs()
    if env_id not in gym.registry:
        raise ValueError(f"unknown env id {env_id!r}")
    is_text = "-text-" in env_id
    default_scenario = scenario
    simulation = mode == "simulation"

    class DriftAction(Action):
        command: Optional[str] = Field(default=None, description="a command (text ids); `help` prints the grammar")
        action: Any = Field(default=None, description="a structured action as JSON (structured ids)")

    class DriftObservation(Observation):
        text: Optional[str] = Field(default=None, description="the terminal's text (text ids)")
        observation: Any = Field(default=None, description="the structured observation as plain JSON")
        step: int = 0
        truncated: bool = False
        info: dict[str, Any] = Field(default_factory=dict)

    class DriftEnvironment(Environment):
        SUPPORTS_CONCURRENT_SESSIONS = True

        def __init__(self) -> None:
            super().__init__()
            self.env: gym.Env | None = None
            self.made_for: tuple | None = None
            self.episode_id: str | None = None
            self.seed: int | None = None
            self.scenario: str | None = None
            self.lines: list[dict[str, Any]] = []

        def reset(self, seed: Optional[int] = None, episode_id: Optional[str] = None,
                  scenario: Optional[str] = None, **kwargs: Any) -> DriftObservation:
            self.scenario = scenario or default_scenario
            settings = _scenario_settings(self.scenario)
            made_id = settings.pop("env", env_id)
            if made_id != env_id and made_id.replace("-text-", "-") != env_id.replace("-text-", "-"):
                raise ValueError(f"scenario {self.scenario!r} is for {made_id}, this server serves {env_id}")
            key = (env_id, self.scenario)
            if self.env is None or self.made_for != key:
                if self.env is not None:
                    self.env.close()
                self.env, self.made_for = gym.make(env_id, **settings), key
            self.seed, self.episode_id, self.lines = seed, episode_id or str(uuid.uuid4()), []
            observation, info = self.env.reset(seed=seed)
            return self._observation(observation, 0.0, False, False, info)

        def step(self, action: DriftAction, timeout_s: Optional[float] = None, **kwargs: Any) -> DriftObservation:
            if self.env is None:
                raise RuntimeError("no episode in this session: send reset first")
            chosen = action.command if is_text else as_action(self.env.action_space, action.action)
            if chosen is None:
                raise ValueError("this env takes " + ("{'command': '...'}" if is_text else "{'action': ...}"))
            observation, reward, terminated, truncated, info = self.env.step(chosen)
            world = self.env.get_wrapper_attr("world_digest")()
            self.lines.append(trace_line(len(self.lines), chosen, reward, observation, world))
            return self._observation(observation, reward, terminated, truncated, info)

        def _observation(self, observation: Any, reward: float, terminated: bool, truncated: bool,
                         info: dict[str, Any]) -> DriftObservation:
            return DriftObservation(
                text=observation if is_text else None, observation=None if is_text else plain(observation),
                step=len(self.lines), truncated=bool(truncated), info=plain({k: v for k, v in info.items()}),
                reward=float(reward), done=bool(terminated or truncated))

        @property
        def state(self) -> State:
            fields: dict[str, Any] = {"episode_id": self.episode_id, "step_count": len(self.lines), "env_id": env_id,
                                      "seed": self.seed, "scenario": self.scenario, "mode": mode,
                                      "trace_digest": trace_digest(self.lines)}
            if self.env is not None:
                fields["timeline_digest"] = self.env.get_wrapper_attr("timeline").digest()
                fields["world_digest"] = self.env.get_wrapper_attr("world_digest")()
                if simulation:
                    fields["facts"] = plain(self.env.get_wrapper_attr("facts")())
            return State(**fields)

        def get_metadata(self) -> EnvironmentMetadata:
            return EnvironmentMetadata(name=env_id, description=f"driftgym {env_id}", version="0")

        def close(self) -> None:
            if self.env is not None:
                self.env.close()

    app = FastAPI(title=f"driftgym {env_id} (OpenEnv)")
    server = HTTPEnvServer(DriftEnvironment, DriftAction, DriftObservation, max_concurrent_envs=max_sessions)
    server.register_routes(app, mode=mode)
    return app


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="driftgym serve openenv", description="serve a driftgym env over OpenEnv's protocol")
    parser.add_argument("--env", required=True, help="a driftgym id, e.g. driftgym/Services-text-v0")
    parser.add_argument("--scenario", default=None, help="a library scenario id or a scenario file (reset may override)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-sessions", type=int, default=8)
    parser.add_argument("--mode", choices=("simulation", "production"), default="simulation")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        import uvicorn

        app = make_app(args.env, args.scenario, args.max_sessions, args.mode)
    except ImportError as error:
        print(f"driftgym serve openenv needs the openenv extra (pip install 'driftgym[openenv]'): {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"driftgym serve openenv: {error}", file=sys.stderr)
        return 2
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
