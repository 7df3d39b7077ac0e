"""Run scenario cells as Ray tasks (extra ``ray``): on a cluster (``address``) or a local one."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

__all__ = ["run_on_ray"]


def run_on_ray(function: Callable[[Any], Any], jobs: Sequence[Any], address: str | None = None) -> Iterator[Any]:
    """Yield ``function(job)`` for every job as Ray finishes them (in completion order)."""
    try:
        import ray
    except ImportError:
        raise RuntimeError("the ray backend needs Ray: pip install 'driftgym[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        task = ray.remote(function)
        pending = [task.remote(job) for job in jobs]
        while pending:
            finished, pending = ray.wait(pending, num_returns=1)
            yield ray.get(finished[0])
    finally:
        if started_here:
            ray.shutdown()
