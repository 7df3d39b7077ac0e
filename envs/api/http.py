"""HTTP messages of the simulated API: `Request`, `Response`, their text form and the rules they obey.

The world answers ``handle(Request) -> Response``. Bodies are JSON-able values (dicts, lists,
strings, numbers); headers are a plain ``dict`` with canonical capitalisation. Virtual time: one env
step is one second of the server's clock, counted from the Unix epoch, so ``Retry-After: 3`` means
three steps, ``Deprecation: @120`` deprecated since step 120 and ``Sunset`` the HTTP-date of a step.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "REASONS",
    "Request",
    "Response",
    "format_request",
    "format_response",
    "http_date",
    "http_violations",
    "split_path",
    "status_class",
]

REASONS: dict[int, str] = {
    200: "OK",
    301: "Moved Permanently",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    410: "Gone",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


@dataclass(frozen=True)
class Request:
    """One HTTP request: ``method``, ``path`` (no query string), ``query``, ``headers``, JSON ``body``."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class Response:
    """One HTTP response. ``latency_ms`` is the simulated time the server took (not a header)."""

    status: int
    headers: dict[str, str]
    body: Any
    latency_ms: float = 0.0


def split_path(path: str) -> tuple[str, int | None]:
    """``"/v1/users/17" -> ("/v1/users", 17)``; ``"/v1/users" -> ("/v1/users", None)``; query stripped."""
    path = path.split("?", 1)[0]
    head, _, last = path.rpartition("/")
    if head and last.isdigit():
        return head, int(last)
    return path, None


def status_class(status: int) -> str:
    return f"{status // 100}xx"


def http_date(step: int) -> str:
    """The IMF-fixdate of virtual second ``step`` (RFC 9110), e.g. ``Thu, 01 Jan 1970 00:02:00 GMT``."""
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(step))


HTTP_DATE = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$")


def _body_text(body: Any, limit: int) -> str:
    if body is None:
        return ""
    text = json.dumps(body, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_request(request: Request, limit: int = 400) -> str:
    query = "&".join(f"{k}={v}" for k, v in request.query.items())
    target = request.path + (f"?{query}" if query else "")
    lines = [f"{request.method} {target} HTTP/1.1", "Host: api.driftgym.test"]
    lines += [f"{k}: {v}" for k, v in request.headers.items()]
    return "\r\n".join(lines) + "\r\n\r\n" + _body_text(request.body, limit)


def format_response(response: Response, limit: int = 400) -> str:
    lines = [f"HTTP/1.1 {response.status} {REASONS.get(response.status, '')}".rstrip()]
    lines += [f"{k}: {v}" for k, v in response.headers.items()]
    return "\r\n".join(lines) + "\r\n\r\n" + _body_text(response.body, limit)


def http_violations(response: Response, error_burst: bool) -> list[str]:
    """What in ``response`` breaks HTTP semantics (or the simulator's promises); [] if nothing.
    ``error_burst``: whether the world injects 5xx now (a 5xx outside one is a violation)."""
    problems, headers, status = [], response.headers, response.status
    if status not in REASONS:
        problems.append(f"unknown status {status}")
    if status == 301 and not headers.get("Location", "").startswith("/"):
        problems.append("301 without a Location")
    if status == 429 and not headers.get("Retry-After", "").isdigit():
        problems.append("429 without a Retry-After in seconds")
    if status == 401 and "WWW-Authenticate" not in headers:
        problems.append("401 without WWW-Authenticate")
    if status == 405 and "Allow" not in headers:
        problems.append("405 without Allow")
    if status == 410 and not (isinstance(response.body, dict) and "successor" in response.body):
        problems.append("410 without a successor")
    if status >= 500 and not error_burst:
        problems.append(f"{status} outside an error burst")
    if "Deprecation" in headers and not (headers["Deprecation"].startswith("@") and HTTP_DATE.match(headers.get("Sunset", ""))):
        problems.append("Deprecation without a valid Sunset")
    if headers.get("Content-Type") != "application/json":
        problems.append("no JSON Content-Type")
    if not response.latency_ms > 0:
        problems.append("latency must be positive")
    return problems
