"""The text agents' shared parts: `TextAgent` (probes answered through words), the oracle that
says the structured oracle's action, and `ChatAgent` over any ``complete(messages) -> str``."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import gymnasium as gym

from driftgym.agents.base import Agent, make
from driftgym.envs.text.questions import Question, answer_json, parse_answer, question_for

SYSTEM_PROMPT = ("You operate a system through a text terminal. Each user message is the terminal's output; "
                 "reply with exactly one command (no commentary). When asked a question, reply with JSON only.")


class TextAgent(Agent):
    """Base of the text agents: beliefs through questions and parsed replies."""

    def belief(self, keys: Iterable[str]) -> dict[str, tuple[Any, float | None]]:
        beliefs = {}
        for key in keys:
            question = question_for(key, self.env)
            answer, confidence = parse_answer(self.reply(question), question)
            if answer is not None:
                beliefs[key] = (answer, confidence)
        return beliefs

    def reply(self, question: Question) -> str:
        known = self.memory().get(question.key)
        return answer_json(None, None) if known is None else answer_json(known[0], known[1])

    def memory(self) -> dict[str, tuple[Any, float]]:
        """Fact key -> (believed value, confidence), from what the agent read."""
        return {}


# --------------------------------------------------------------------------- files
class TextOracle(TextAgent):
    """The structured oracle's action, said as a command; answers with the truth (upper bound)."""

    name = "oracle"
    fair = False

    def __init__(self, env: gym.Env, structured_id: str, command_for: Callable[[Any, Any], str | None]) -> None:
        super().__init__(env)
        from driftgym.envs import register_envs

        register_envs()
        self.inner = make("oracle", gym.make(structured_id).unwrapped)
        self.inner.env = self.inner.base = env.unwrapped  # acts on the text env's own world
        self.command_for = command_for

    def act(self, observation: Any, info: dict[str, Any]) -> str:
        base = self.env.unwrapped
        return self.command_for(base, self.inner.act(base._observe(), info)) or "wait"

    def memory(self) -> dict[str, tuple[Any, float]]:
        return {k: (v, 1.0) for k, v in self.env.get_wrapper_attr("facts")().items()}


def oracle_for(structured: str, world: str) -> Callable[[gym.Env], TextOracle]:
    def factory(env: gym.Env) -> TextOracle:
        import importlib

        return TextOracle(env, structured, importlib.import_module(f"driftgym.envs.text.{world}").command_for)

    return factory


# --------------------------------------------------------------------------- any model
FENCED = re.compile(r"```[a-zA-Z]*\n(.*?)```", re.S)


def command_of_reply(reply: str) -> str:
    """The command in a model's reply: its first fenced block, else the reply stripped."""
    found = FENCED.search(reply or "")
    return (found.group(1) if found else (reply or "")).strip()


class ChatAgent(TextAgent):
    """Any chat model as a text agent: ``complete(messages) -> str`` with OpenAI-style messages.

    ``max_messages`` keeps the system prompt and the last that many messages (None: all).
    """

    name = "chat"

    def __init__(self, env: gym.Env, complete: Callable[[list[dict[str, str]]], str],
                 system_prompt: str = SYSTEM_PROMPT, max_messages: int | None = None) -> None:
        super().__init__(env)
        self.complete, self.system_prompt, self.max_messages = complete, system_prompt, max_messages
        self.messages: list[dict[str, str]] = []

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.messages = [{"role": "system", "content": self.system_prompt}]

    def ask(self, content: str) -> str:
        self.messages.append({"role": "user", "content": content})
        if self.max_messages is not None and len(self.messages) > self.max_messages + 1:
            self.messages = [self.messages[0], *self.messages[-self.max_messages:]]
        reply = self.complete(list(self.messages))
        reply = reply if isinstance(reply, str) else ""
        self.messages.append({"role": "assistant", "content": reply})
        return reply

    def act(self, observation: str, info: dict[str, Any]) -> str:
        return command_of_reply(self.ask(observation))

    def reply(self, question: Question) -> str:
        return self.ask(question.prompt())
