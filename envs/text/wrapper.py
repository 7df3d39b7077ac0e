"""`TextInterface`: a domain env driven by command strings, observed as terminal text.

>>> import gymnasium as gym, driftgym
>>> from driftgym.envs.text import register_text_envs
>>> register_text_envs()
>>> env = gym.make("driftgym/Services-text-v0")
>>> text, info = env.reset(seed=0)
>>> text, reward, terminated, truncated, info = env.step("probe db")
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import InvalidAction
from gymnasium.utils import RecordConstructorArgs

__all__ = ["CHARSET", "MAX_COMMAND", "Grammar", "Outcome", "TextInterface"]

CHARSET = "".join(chr(c) for c in range(32, 127)) + "\n"  # printable ASCII and newline
_ALLOWED = frozenset(CHARSET)
MAX_COMMAND = 4096
TRUNCATED = "\n...(truncated)"


class Outcome:
    """What one command did: output lines, the summed reward of the inner steps, their ends, info."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.reward = 0.0
        self.terminated = False
        self.truncated = False
        self.info: dict[str, Any] = {}
        self.actions: list[Any] = []

    def say(self, *lines: str) -> Outcome:
        self.lines.extend(lines)
        return self


class Grammar:
    """One world's command language. ``run(command, outcome)`` steps ``self.env`` (the structured
    env, via ``self.step``) and fills ``outcome``; ``briefing()`` states the task; ``usage`` is printed by ``help``."""

    usage = ""
    error_cost = 0.01

    def __init__(self, interface: TextInterface) -> None:
        self.interface = interface

    @property
    def base(self) -> Any:
        return self.interface.env.unwrapped

    def reset(self) -> None:
        """A new episode started (the inner env is reset)."""

    def briefing(self) -> str:
        raise NotImplementedError

    def run(self, command: str, outcome: Outcome) -> None:
        raise NotImplementedError

    def idle_action(self) -> Any:
        raise NotImplementedError

    def step(self, action: Any, outcome: Outcome) -> dict[str, Any]:
        """One inner step with a structured action; its reward and ends go into ``outcome``."""
        _, reward, terminated, truncated, info = self.interface.env.step(action)
        outcome.reward += float(reward)
        outcome.terminated |= bool(terminated)
        outcome.truncated |= bool(truncated)
        outcome.actions.append(action.tolist() if isinstance(action, np.ndarray) else action)
        return info

    def idle(self, outcome: Outcome, cost: float = 0.0) -> dict[str, Any]:
        """One inner step doing nothing, then ``cost`` charged (a read-only or direct command)."""
        info = self.step(self.idle_action(), outcome)
        outcome.reward -= cost
        return info

    def error(self, outcome: Outcome, message: str, usage: str | None = None) -> None:
        """A command that does not parse or cannot be meant: an idle step, ``error_cost``, the usage."""
        self.idle(outcome, self.error_cost)
        outcome.info["error"] = message
        outcome.say(f"error: {message}", "usage:", usage or self.usage)


class TextInterface(gym.Wrapper, RecordConstructorArgs):
    """A driftgym domain env as a terminal: the action is a command string, the observation text.

    Observation: ``Text(max_length, charset=CHARSET)`` (printable ASCII and newline): the command's
    output and a status line ``[step t/H] reward r``; the first observation states the task
    (what to keep true, what it costs) and the grammar. Action: ``Text(MAX_COMMAND)``: one command
    (see each world's grammar: ``driftgym.envs.text.files``, ``.api``, ``.services``; ``help``
    prints it). A command that does not parse is an outcome (an error line with the usage and
    ``error_cost``), never an exception. Commands with a structured equivalent step the wrapped
    env with exactly that action (same world digests and rewards); the others are an idle step
    plus a direct read (or view update) and their cost. ``info["actions"]`` lists the structured
    actions taken. The handles (``facts``, ``world_digest``, ``event_log``, ...) pass through.
    Under ``visibility="flag"`` (and above) each observation says whether anything changed since
    the last command (and by how much, under ``"magnitude"``/``"full"``); under ``"full"``
    ``info["events"]`` lists the changes.

    Args: ``env`` (a FileSystemEnv, HttpApiEnv or ServicesEnv, possibly wrapped), ``max_length``
    (default 16384), ``error_cost`` (0.01).
    """

    def __init__(self, env: gym.Env, max_length: int = 16384, error_cost: float = 0.01) -> None:
        RecordConstructorArgs.__init__(self, max_length=max_length, error_cost=error_cost)
        gym.Wrapper.__init__(self, env)
        from driftgym.envs.text import GRAMMARS

        kind = env.unwrapped.world_kind
        if kind not in GRAMMARS:
            raise ValueError(f"TextInterface wraps files, api or services envs (got a {kind!r} world)")
        self.grammar: Grammar = GRAMMARS[kind](self)
        self.grammar.error_cost = float(error_cost)
        self.max_length = int(max_length)
        self.observation_space = spaces.Text(self.max_length, min_length=1, charset=CHARSET)
        self.action_space = spaces.Text(MAX_COMMAND, min_length=0, charset=CHARSET)
        self.last_text = ""

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        _, info = self.env.reset(seed=seed, options=options)
        self.grammar.reset()
        self.last_text = self.fit(self.grammar.briefing())
        return self.last_text, info

    def step(self, action: Any):
        command = as_command(action)
        outcome = Outcome()
        base = self.env.unwrapped
        seen = len(base.event_log)
        self.grammar.run(command, outcome)
        events = base.event_log[seen:]
        info = dict(outcome.info, command=command, actions=outcome.actions)
        if base.visibility != "hidden":  # what the structured env puts in the observation, said in words
            notice = f"[changed] {len(events)} change(s) since the last command" if events else "[unchanged]"
            if base.visibility in ("magnitude", "full"):
                notice += f", magnitude {sum(e.magnitude for e in events):.3g}"
            outcome.say(notice)
        if base.visibility == "full":
            info["events"] = [e.to_dict() for e in events]
        outcome.say(f"[step {base.step_index}/{base.horizon}] reward {outcome.reward:+.3f}")
        self.last_text = self.fit("\n".join(outcome.lines))
        return self.last_text, outcome.reward, outcome.terminated, outcome.truncated, info

    def render(self) -> str | None:
        return self.env.render()

    def fit(self, text: str) -> str:
        """Inside the observation space: printable ASCII, at most ``max_length`` characters."""
        text = "".join(c if c in _ALLOWED else ("\n" if c == "\r" else "?") for c in text.replace("\r\n", "\n")) or " "
        if len(text) > self.max_length:
            text = text[: self.max_length - len(TRUNCATED)] + TRUNCATED
        return text


def as_command(action: Any) -> str:
    """A command string from a str (or a 0-d string array, as a replayed trace gives back)."""
    if isinstance(action, np.ndarray) and action.ndim == 0 and action.dtype.kind == "U":
        action = str(action)
    if not isinstance(action, str):
        raise InvalidAction(f"a text env's action is a command string (got {type(action).__name__}: {action!r})")
    return action[:MAX_COMMAND]
