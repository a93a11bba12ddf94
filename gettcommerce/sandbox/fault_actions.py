"""How an injected fault spoils an answer: the bytes a client gets instead.

The HTTP handler hands over the answer it would have sent (or None when the
fault strikes before any processing) and an ``out`` with four primitives;
this module decides which to use.  Faults are validated when injected
(:mod:`.faults`), so nothing here can crash on a fault's own fields.
"""
from __future__ import annotations

from typing import Dict, Optional, Protocol

from .._wire import dumps
from . import problems
from .faults import DEFAULT_OVERSIZED_BYTES, Fault
from .responses import Response


class Out(Protocol):
    """The connection primitives a fault needs (implemented by the HTTP handler)."""

    def write(self, response: Response) -> None: ...

    def drop(self) -> None: ...

    def write_truncated(self, response: Response) -> None: ...

    def write_padded(self, status: int, headers: Dict[str, str], head: bytes, fill: int,
                     tail: bytes) -> None: ...


INVALID_JSON_BODY = b'{"sandboxFault": "invalid_json", "stores": [ {"storeId": '


def error_response(fault: Fault, status: int, request_id: str, path: str) -> Response:
    """The problem+json answer of a fault with a ``status``."""
    code = problems.DEFAULT_CODE_FOR_STATUS.get(status, f"HTTP_{status}")
    retry_after = fault.retry_after
    if retry_after is None and status == 429:
        retry_after = 1
    problem = problems.build_problem(code, f"injected fault #{fault.id}: HTTP {status}", instance=path,
                                     status=status, retry_after=retry_after, request_id=request_id)
    problem.update(fault.problem or {})
    headers = {"X-Request-Id": request_id}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    headers.update(fault.headers)
    return Response(status, dumps(problem), headers, "application/problem+json")


def apply(fault: Fault, response: Optional[Response], request_id: str, path: str, out: Out) -> None:
    """Answer (or not) as ``fault`` says; ``response`` is the real answer when it was processed."""
    if fault.action == "close_before":
        out.drop()
        return
    if fault.action == "invalid_json":
        out.write(Response(fault.status or 200, INVALID_JSON_BODY, dict(fault.headers, **{"X-Request-Id": request_id})))
        return
    if fault.action == "oversized":
        size = fault.size if fault.size is not None else DEFAULT_OVERSIZED_BYTES
        head, tail = b'{"sandboxFault":"oversized","padding":"', b'"}'
        fill = max(0, size - len(head) - len(tail))
        out.write_padded(fault.status or 200, dict(fault.headers, **{"X-Request-Id": request_id}), head, fill, tail)
        return
    if fault.status is not None:
        response = error_response(fault, fault.status, request_id, path)
    if response is None:
        response = Response(200, dumps({"sandboxFault": fault.action, "padding": "x" * 2048}),
                            {"X-Request-Id": request_id})
    if fault.action == "close_mid_body":
        if len(response.body) < 2:
            response = Response(response.status, dumps({"padding": "x" * 2048}), response.headers,
                                response.content_type)
        out.write_truncated(response)
        return
    out.write(response)
