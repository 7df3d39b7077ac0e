"""The parts of a `FileWorld` tree: its entries (`Node`), the spec's lines (`Target`), the key
domains config documents draw from, and the path helpers (``depth``, ``join``, ``split``, ``variant``)."""

from __future__ import annotations

from typing import Any

__all__ = ["KEY_DOMAINS", "KEY_NAMES", "MAX_DEPTH", "ROOT", "Node", "Target", "depth", "join", "split", "variant"]

ROOT = 0
KEY_DOMAINS: dict[str, tuple[str, ...]] = {
    "port": ("80", "443", "5432", "6379", "8080", "8443", "9000"),
    "host": ("localhost", "10.0.0.5", "db.internal", "cache.internal", "0.0.0.0"),
    "timeout": ("5", "10", "30", "60", "120"),
    "workers": ("1", "2", "4", "8", "16"),
    "log_level": ("debug", "info", "warning", "error"),
    "enabled": ("true", "false"),
    "max_connections": ("50", "100", "200", "500", "1000"),
    "cache_size": ("64M", "128M", "256M", "512M", "1G"),
    "user": ("www-data", "app", "postgres", "nobody"),
    "tls": ("on", "off"),
    "retries": ("0", "1", "3", "5"),
    "compression": ("none", "gzip", "zstd"),
    "keepalive": ("on", "off"),
    "region": ("eu-west-1", "us-east-1", "ap-south-1"),
    "mode": ("production", "staging", "development"),
    "backlog": ("128", "511", "1024", "4096"),
}
KEY_NAMES = tuple(KEY_DOMAINS)
MAX_DEPTH = 8  # no path has more components (moves that would go deeper pick another place)


class Node:
    """One directory or file of the tree (file fields are unused on directories)."""

    __slots__ = ("inode", "name", "parent", "is_dir", "writable", "mtime", "keys", "corrupt", "decoy")

    def __init__(self, inode: int, name: str, parent: int, is_dir: bool) -> None:
        self.inode = inode
        self.name = name
        self.parent = parent
        self.is_dir = is_dir
        self.writable = True
        self.mtime = 0
        self.keys: dict[str, str] = {}
        self.corrupt = False
        self.decoy = False


class Target:
    """One line of the desired-state spec: ``key`` of file ``inode`` must hold ``desired``."""

    __slots__ = ("inode", "key", "desired")

    def __init__(self, inode: int, key: str, desired: str) -> None:
        self.inode = inode
        self.key = key
        self.desired = desired

    def to_dict(self) -> dict[str, Any]:
        return {"inode": self.inode, "key": self.key, "desired": self.desired}


def depth(path: str) -> int:
    """Components of a path: 0 for ``/``, 1 for ``/etc``."""
    return 0 if path == "/" else path.count("/")


def join(parent_path: str, name: str) -> str:
    return "/" + name if parent_path == "/" else parent_path + "/" + name


def split(path: str) -> tuple[str, str]:
    head, _, name = path.rpartition("/")
    return (head or "/"), name


def variant(name: str, k: int) -> str:
    """``db.ini`` -> ``db-2.ini`` (a directory ``app`` -> ``app-2``)."""
    stem, dot, ext = name.partition(".")
    return f"{stem}-{k}{dot}{ext}"
