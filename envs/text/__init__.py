"""driftgym for language-model and tool-using agents: the domain envs as terminals.

``driftgym/FileSystem-text-v0``, ``driftgym/HttpApi-text-v0`` and ``driftgym/Services-text-v0``
are ``TextInterface`` over the structured envs: the action is a command string, the observation
the terminal's text (``gymnasium.spaces.Text``). The env kwargs are the structured env's, plus
``max_length`` and ``error_cost`` of the interface. Grammars: ``driftgym.envs.text.files``,
``.api``, ``.services``; belief probes in words: ``driftgym.envs.text.questions``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from driftgym.envs import ENV_IDS
from driftgym.envs.text.api import ApiGrammar
from driftgym.envs.text.files import FilesGrammar
from driftgym.envs.text.services import ServicesGrammar
from driftgym.envs.text.wrapper import CHARSET, TextInterface

__all__ = ["CHARSET", "GRAMMARS", "TEXT_IDS", "TextInterface", "api_text", "files_text", "register_text_envs",
           "services_text", "structured_id"]

GRAMMARS = {"files": FilesGrammar, "api": ApiGrammar, "services": ServicesGrammar}
TEXT_IDS = {env_id: entry for env_id, entry in ENV_IDS.items() if entry.startswith("driftgym.envs.text:")}
INTERFACE_KWARGS = ("max_length", "error_cost")


def structured_id(text_id: str) -> str:
    """``driftgym/FileSystem-text-v0`` -> ``driftgym/FileSystem-v0``."""
    return text_id.replace("-text-", "-")


def _split(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    interface = {k: kwargs.pop(k) for k in INTERFACE_KWARGS if k in kwargs}
    return kwargs, interface


def files_text(**kwargs: Any) -> TextInterface:
    from driftgym.envs.files import FileSystemEnv

    inner, interface = _split(kwargs)
    return TextInterface(FileSystemEnv(**inner), **interface)


def api_text(**kwargs: Any) -> TextInterface:
    from driftgym.envs.api import HttpApiEnv

    inner, interface = _split(kwargs)
    return TextInterface(HttpApiEnv(**inner), **interface)


def services_text(**kwargs: Any) -> TextInterface:
    from driftgym.envs.services import ServicesEnv

    inner, interface = _split(kwargs)
    return TextInterface(ServicesEnv(**inner), **interface)


def register_text_envs() -> None:
    """Register the text ids with Gymnasium (idempotent; the lead merges TEXT_IDS into ENV_IDS)."""
    for env_id, entry_point in TEXT_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, disable_env_checker=False)
