"""driftgym/FileSystem-v0: config maintenance on a virtual file tree that someone else keeps changing."""

import driftgym.perturbations.files  # noqa: F401  (registers the file kinds)
from driftgym.envs.files.env import OPS, RESULTS, STATUSES, FileSystemEnv
from driftgym.envs.files.world import FileWorld

__all__ = ["OPS", "RESULTS", "STATUSES", "FileSystemEnv", "FileWorld"]
