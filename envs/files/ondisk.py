"""How the sandbox keeps a FileWorld on disk: the document format (``render_document``,
``parse_document``), the file modes, and its records of what is on disk (`OnDisk`, `Seen`, `ReadBack`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "CORRUPT_LINE",
    "DIRECTORY",
    "KEY_LINE",
    "READ_ONLY",
    "WRITABLE",
    "OnDisk",
    "ReadBack",
    "SandboxError",
    "Seen",
    "parse_document",
    "render_document",
]

CORRUPT_LINE = b"\x00\x00\x00\x00 driftgym: unparseable block \x00\x00\x00\x00\n"
KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*=\s*(.*?)\s*$")
WRITABLE, READ_ONLY, DIRECTORY = 0o644, 0o444, 0o755


class SandboxError(ValueError):
    """Misuse of a sandbox: a directory it may not use, a path that would leave it, a step out of order."""


def render_document(keys: dict[str, str], corrupt: bool) -> bytes:
    text = "".join(f"{k} = {v}\n" for k, v in keys.items()).encode()
    return CORRUPT_LINE + text if corrupt else text


def parse_document(data: bytes) -> tuple[list[tuple[str, str]], bool]:
    """The keys (in order; a repeated key keeps its first place and last value) and whether it is corrupt."""
    keys: dict[str, str] = {}
    corrupt = False
    for line in data.decode("utf-8", errors="surrogateescape").split("\n"):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = KEY_LINE.match(line)
        if match is None or any(ord(c) < 32 or 0xDC80 <= ord(c) <= 0xDCFF for c in line if c != "\t"):
            corrupt = True
            continue
        keys[match.group(1)] = match.group(2)
    return list(keys.items()), corrupt


@dataclass
class OnDisk:
    """What the sandbox last wrote or read for one world entry."""

    path: str
    is_dir: bool
    ino: int
    keys: list[tuple[str, str]] = field(default_factory=list)
    corrupt: bool = False
    writable: bool = True
    mtime: int = 0  # the world's mtime (steps)
    mtime_ns: int = 0  # the real one, as last stamped
    content: bytes = b""


@dataclass
class Seen:
    is_dir: bool
    ino: int
    writable: bool
    mtime_ns: int
    content: bytes = b""


@dataclass
class ReadBack:
    """What one read-back found: the world's changes (``"kind path"`` strings) and the agent's errors."""

    step: int
    changes: list[str]
    errors: list[str]
