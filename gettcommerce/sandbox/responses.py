"""What every plane of the sandbox shares: the Response it answers with, the
request as read off the socket, and the JSON body parser with its limits."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Optional

from .problems import ApiError

# Gett's bodies are a few levels deep; a deeper body is refused with a 400
# naming this limit (json.loads alone would overflow the C stack guard and
# answer 500).
MAX_JSON_DEPTH = 64


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: Dict[str, str] = field(default_factory=dict)
    content_type: Optional[str] = "application/json"


@dataclass
class Request:
    """One request as read off the socket (the body already limited in size)."""

    method: str
    path: str
    query: str
    headers: Any                  # http.client.HTTPMessage: case-insensitive get()
    body: bytes
    request_id: str
    client_ip: str
    body_error: Optional[ApiError] = None
    route: Optional[str] = None   # "METHOD /template" of the API endpoint, once matched


def _too_deep() -> ApiError:
    return ApiError("INVALID_REQUEST", f"the request body is nested more than {MAX_JSON_DEPTH} levels "
                    f"deep; the limit is {MAX_JSON_DEPTH}")


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether parsed JSON nests objects/arrays deeper than ``limit`` (iterative, no recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def parse_json(raw: bytes) -> Any:
    """A request body as JSON, or ApiError 400 INVALID_REQUEST saying what is wrong."""
    if not raw.strip():
        raise ApiError("INVALID_REQUEST", "the request body is empty; this endpoint expects a JSON object")
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ApiError("INVALID_REQUEST", f"the request body is not UTF-8: {exc}") from None
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:
        raise ApiError("INVALID_REQUEST", f"the request body is not valid JSON: {exc}") from None
    if json_depth_exceeds(value):
        raise _too_deep()
    return value
