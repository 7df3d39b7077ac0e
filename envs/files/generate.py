"""Generating a file world from the world stream of the seed: realistic names, documents, a spec.

Directories come in three levels: a few of ``/etc``, ``/srv``, ``/opt``, ``/var``, ``/home``;
then about half the rest under them (``/etc/app``) and the others one level deeper
(``/etc/app/cache``). Files (``db.ini``, ``site.conf``, ...) go into the lower two levels, each
with ``n_keys`` distinct keys of the key catalogue. Targets are spread two to a file over
``ceil(n_targets / 2)`` managed files; each target's desired value is its value as generated.
"""

from __future__ import annotations

import math

import numpy as np

from driftgym.envs.files.world import KEY_DOMAINS, KEY_NAMES, ROOT, FileWorld, Target, variant

__all__ = ["DIR_NAMES", "EXTENSIONS", "FILE_STEMS", "TOP_DIRS", "generate_world"]

TOP_DIRS = ("etc", "srv", "opt", "var", "home")
DIR_NAMES = (
    "app", "web", "db", "cache", "proxy", "auth", "mail", "queue", "search", "metrics",
    "api", "worker", "billing", "cron", "dns", "ldap", "backup", "media", "static", "gateway",
)
FILE_STEMS = (
    "db", "site", "app", "server", "cache", "auth", "logging", "proxy", "main", "worker",
    "limits", "mail", "queue", "tls", "users", "features", "routes", "settings",
)
EXTENSIONS = (".ini", ".conf", ".cfg", ".env")


def generate_world(
    world: FileWorld, rng: np.random.Generator, n_files: int, n_dirs: int, n_keys: int, n_targets: int
) -> FileWorld:
    """Fill the empty ``world`` with ``n_dirs`` directories, ``n_files`` files and the spec."""
    n_top = min(len(TOP_DIRS), max(1, math.ceil(n_dirs / 4)))
    n_mid = math.ceil((n_dirs - n_top) / 2)
    n_low = n_dirs - n_top - n_mid
    used: dict[tuple[int, str], int] = {}

    def fresh(parent: int, name: str) -> str:
        count = used.get((parent, name), 0) + 1
        used[(parent, name)] = count
        return name if count == 1 else variant(name, count)

    def add(parent: int, name: str, is_dir: bool) -> int:
        return world.add_entry(parent, fresh(parent, name), is_dir)

    tops = [world.add_entry(ROOT, TOP_DIRS[i], True) for i in range(n_top)]
    mid_parents, mid_names = rng.integers(0, n_top, n_mid).tolist(), rng.integers(0, len(DIR_NAMES), n_mid).tolist()
    mids = [add(tops[p], DIR_NAMES[d], True) for p, d in zip(mid_parents, mid_names)]
    lows = []
    if mids:
        low_parents, low_names = rng.integers(0, n_mid, n_low).tolist(), rng.integers(0, len(DIR_NAMES), n_low).tolist()
        lows = [add(mids[p], DIR_NAMES[d], True) for p, d in zip(low_parents, low_names)]
    file_dirs = (mids + lows) or tops
    parents = rng.integers(0, len(file_dirs), n_files).tolist()
    stems = rng.integers(0, len(FILE_STEMS), n_files).tolist()
    exts = rng.integers(0, len(EXTENSIONS), n_files).tolist()
    key_order = np.argsort(rng.random((n_files, len(KEY_NAMES))), axis=1)[:, :n_keys].tolist()
    value_draws = rng.integers(0, 1 << 30, (n_files, n_keys)).tolist()
    files = []
    for f in range(n_files):
        inode = add(file_dirs[parents[f]], FILE_STEMS[stems[f]] + EXTENSIONS[exts[f]], False)
        document = {}
        for k, draw in zip(key_order[f], value_draws[f]):
            domain = KEY_DOMAINS[KEY_NAMES[k]]
            document[KEY_NAMES[k]] = domain[draw % len(domain)]
        world.replace_keys(inode, list(document.items()), 0)
        files.append(inode)
    world.set_spec(choose_targets(world, rng, files, n_targets))
    return world


def choose_targets(world: FileWorld, rng: np.random.Generator, files: list[int], n_targets: int) -> list[Target]:
    """Target ``i`` is key ``i // m`` (document order) of managed file ``i % m`` (by inode)."""
    n_managed = min(len(files), max(1, math.ceil(n_targets / 2)))
    chosen = sorted(files[i] for i in rng.choice(len(files), n_managed, replace=False).tolist())
    targets = []
    for i in range(n_targets):
        document = world.node(chosen[i % n_managed]).keys
        key = list(document)[i // n_managed]
        targets.append(Target(chosen[i % n_managed], key, document[key]))
    return targets
