"""Agents for the text ids: scripted ones (rules over the text, no model), oracles, and `ChatAgent`.

Every text agent answers belief probes through words: ``belief(keys)`` turns each key into a
question (``driftgym.envs.text.questions``), gets a reply string from ``reply(question)`` and parses
it tolerantly (an unreadable reply is an abstention), so the structured metrics apply unchanged.
Scripted agents read the question's ``key`` (they have no language model); a model reads its text.

- ``stale``: files: writes every target's desired value at the path it was given, round robin;
  api: sends each job's request as written against v1 (it only learns the page size, as the
  structured client does); services: probes every service once, then waits. Each sends the
  command equivalent to the structured ``stale`` agent's action, so their traces are digest-equal.
  Beliefs: the briefing, with confidence 1 (overconfident once the world drifts).
- ``adaptive``: reacts to what the text says (files: re-reads, finds moved files by inode,
  chmods, restores; api: follows Location/successor, re-authenticates on 401, waits out
  Retry-After, re-reads /openapi.json on 404/422 or a job that did not complete; services: probes
  on alerts, repairs what a probe shows). Beliefs: what it last read, confidence 1 (files: only
  targets read in the last ``n_targets`` steps).
- ``oracle``: the structured oracle's action, said as a command (labelled upper bound); answers
  probes with the truth.

`ChatAgent(env, complete)` plugs any ``complete(messages) -> str`` (an OpenAI-compatible client,
a local model): it keeps the conversation (system prompt, observations as user messages, its
replies), takes a reply's command (the first fenced block, else the reply stripped), and asks each
probe question as a user message. Nothing here downloads a model or calls the network. E.g.::

    from openai import OpenAI
    client = OpenAI(base_url="http://localhost:8001/v1", api_key="-")
    def complete(messages):
        return client.chat.completions.create(model="my-model", messages=messages).choices[0].message.content
    agent = ChatAgent(env, complete)
"""

from driftgym.agents.base import register_agent
from driftgym.agents.text.api import API_TEXT, ApiAdaptive, ApiStale
from driftgym.agents.text.base import ChatAgent, TextAgent, TextOracle, command_of_reply, oracle_for
from driftgym.agents.text.files import FILES_TEXT, FilesAdaptive, FilesStale
from driftgym.agents.text.services import SERVICES_TEXT, ServicesAdaptive, ServicesStale

__all__ = ["ChatAgent", "TextAgent", "TextOracle", "command_of_reply"]

register_agent("stale", FILES_TEXT)(FilesStale)
register_agent("adaptive", FILES_TEXT)(FilesAdaptive)
register_agent("oracle", FILES_TEXT)(oracle_for("driftgym/FileSystem-v0", "files"))
register_agent("stale", API_TEXT)(ApiStale)
register_agent("adaptive", API_TEXT)(ApiAdaptive)
register_agent("oracle", API_TEXT)(oracle_for("driftgym/HttpApi-v0", "api"))
register_agent("stale", SERVICES_TEXT)(ServicesStale)
register_agent("adaptive", SERVICES_TEXT)(ServicesAdaptive)
register_agent("oracle", SERVICES_TEXT)(oracle_for("driftgym/Services-v0", "services"))
