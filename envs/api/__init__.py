"""``driftgym/HttpApi-v0``: an HTTP API whose schema, routes, limits and credentials drift.

``ApiWorld`` (world.py) is the service, a handler ``handle(Request) -> Response``; ``ClientView``
(view.py) is what the client learned; ``HttpApiEnv`` (env.py) is the Gymnasium env over both.
"""

from driftgym.envs.api.env import DEFAULT_SCHEDULE, OPS, STATUS_CLASSES, HttpApiEnv
from driftgym.envs.api.http import Request, Response, format_request, format_response
from driftgym.envs.api.view import ClientView
from driftgym.envs.api.world import ApiWorld

__all__ = ["ApiWorld", "ClientView", "DEFAULT_SCHEDULE", "HttpApiEnv", "OPS", "Request", "Response",
           "STATUS_CLASSES", "format_request", "format_response"]
