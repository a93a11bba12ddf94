"""Fault injection: make the next N matching requests fail in a chosen way.

A fault matches ``"METHOD /path/glob"`` (or just ``"/path/glob"`` for any
method, or ``"*"``); ``*`` in the glob also crosses ``/``.  Faults are tried
in the order they were added and the first live match is used, so a test
can stack "503 twice, then close the connection once".
"""
from __future__ import annotations

import fnmatch
import itertools
import json
import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

ACTIONS = ("close_before", "close_mid_body", "invalid_json", "oversized")
DEFAULT_OVERSIZED_BYTES = 64 * 1024 * 1024   # above the SDK's 32 MB response cap
MAX_OVERSIZED_BYTES = 1024 * 1024 * 1024
MAX_DELAY = 600.0                 # seconds; longer than any client deadline worth testing
MAX_RETRY_AFTER = 86400
MAX_HEADER_VALUE = 8192
_ids = itertools.count(1)


@dataclass
class Fault:
    """One injected fault.

    ``times``: how many matching requests it affects (None = until removed).
    ``status`` (+ ``problem``, merged over a generated problem body,
    ``retry_after``, ``headers``): answer with this error instead.
    ``delay``: seconds to sleep before answering (alone, it only slows
    the request down).  ``action``: ``close_before`` (drop the connection
    without answering), ``close_mid_body`` (send headers and half the body,
    then drop), ``invalid_json`` (a 200 whose body is not JSON),
    ``oversized`` (a 200 body of ``size`` bytes).  ``process=True`` handles
    the request for real (state changes happen) and only then spoils the
    answer - what a client sees when a response is lost after the server
    acted.
    """

    match: str = "*"
    times: Optional[int] = 1
    status: Optional[int] = None
    problem: Optional[Dict[str, Any]] = None
    retry_after: Optional[int] = None
    headers: Dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    action: Optional[str] = None
    size: Optional[int] = None
    process: bool = False
    id: int = field(default_factory=lambda: next(_ids))
    hits: int = 0

    def __post_init__(self) -> None:
        errors = check_fault_fields(self)
        if errors:
            raise FaultError(errors)
        parts = self.match.strip().split(None, 1)
        if len(parts) == 2:
            self._method, self._glob = parts[0].upper(), parts[1]
        elif parts[0].startswith("/") or parts[0] == "*":
            self._method, self._glob = "*", parts[0]
        else:
            self._method, self._glob = parts[0].upper(), "*"

    def matches(self, method: str, path: str) -> bool:
        if self._method != "*" and self._method != method.upper():
            return False
        return fnmatch.fnmatchcase(path, self._glob)

    @property
    def remaining(self) -> Optional[int]:
        return None if self.times is None else max(0, self.times - self.hits)

    def to_dict(self) -> Dict[str, Any]:
        return {"id": self.id, "match": self.match, "times": self.times, "hits": self.hits,
                "remaining": self.remaining, "status": self.status, "problem": self.problem,
                "retryAfter": self.retry_after, "headers": self.headers, "delay": self.delay,
                "action": self.action, "size": self.size, "process": self.process}

    @classmethod
    def from_json(cls, data: Any) -> "Fault":
        """Build from the JSON of ``POST /_sandbox/faults`` (camelCase ``retryAfter``).

        Raises FaultError naming every field at fault.
        """
        if not isinstance(data, dict):
            raise FaultError([("$", "a fault must be a JSON object")])
        unknown = sorted(set(data) - set(_JSON_FIELDS))
        if unknown:
            raise FaultError([(name, f"unknown fault field {name!r}; allowed: {', '.join(_JSON_FIELDS)}")
                              for name in unknown])
        kwargs = {_JSON_FIELDS[k]: v for k, v in data.items()}
        if "headers" in kwargs and kwargs["headers"] is None:
            kwargs["headers"] = {}
        return cls(**kwargs)


class FaultError(ValueError):
    """A fault that cannot be injected; ``errors`` is [(field, message)], field in wire (camelCase) names."""

    def __init__(self, errors: List[Tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{name}: {message}" if name != "$" else message for name, message in errors))
        self.errors = errors


_JSON_FIELDS = {"match": "match", "times": "times", "status": "status", "problem": "problem",
                "retryAfter": "retry_after", "headers": "headers", "delay": "delay", "action": "action",
                "size": "size", "process": "process"}
# RFC 9110 token characters: a header name is one token.
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_FRAMING_HEADERS = {"content-length", "transfer-encoding", "connection"}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_headers(headers: Any) -> List[Tuple[str, str]]:
    if not isinstance(headers, dict):
        return [("headers", "headers must be an object of header name -> string value")]
    errors = []
    for name, value in headers.items():
        where = f"headers.{name}"
        if not isinstance(name, str) or not _TOKEN.match(name):
            errors.append((where, f"header name {name!r} is not an HTTP token (letters, digits, !#$%&'*+-.^_`|~)"))
            continue
        if name.lower() in _FRAMING_HEADERS:
            errors.append((where, f"{name} is set by the sandbox (it frames the answer) and cannot be injected"))
            continue
        if not isinstance(value, str):
            errors.append((where, f"header value must be a string, got {type(value).__name__}"))
        elif any(ch in value for ch in "\r\n\0"):
            errors.append((where, "header value must not contain CR, LF or NUL (it would forge extra headers)"))
        elif any(ord(ch) < 32 and ch != "\t" or ord(ch) == 127 for ch in value):
            errors.append((where, "header value must not contain control characters"))
        elif any(ord(ch) > 255 for ch in value):
            errors.append((where, "header value must be Latin-1 text (HTTP header bytes); "
                           f"{value[:40]!r} is not"))
        elif len(value) > MAX_HEADER_VALUE:
            errors.append((where, f"header value is longer than {MAX_HEADER_VALUE} characters"))
    return errors


def check_fault_fields(fault: "Fault") -> List[Tuple[str, str]]:
    """Every problem with a fault's fields, as (wire field name, message)."""
    errors: List[Tuple[str, str]] = []
    if not isinstance(fault.match, str) or not fault.match.strip() or any(c in fault.match for c in "\r\n\0"):
        errors.append(("match", "match must be a non-empty one-line string like 'GET /v1/commerce/stores/*'"))
    if fault.times is not None and (not _is_int(fault.times) or fault.times < 1):
        errors.append(("times", f"times must be a positive integer or null (until removed), got {fault.times!r}"))
    if fault.status is not None and (not _is_int(fault.status) or not 200 <= fault.status <= 599):
        errors.append(("status", f"status must be an HTTP status code 200..599, got {fault.status!r}"))
    if fault.retry_after is not None and (not _is_int(fault.retry_after)
                                          or not 0 <= fault.retry_after <= MAX_RETRY_AFTER):
        errors.append(("retryAfter", f"retryAfter must be whole seconds 0..{MAX_RETRY_AFTER}, "
                       f"got {fault.retry_after!r}"))
    errors.extend(_check_headers(fault.headers))
    delay = fault.delay
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not math.isfinite(delay) \
            or not 0 <= delay <= MAX_DELAY:
        errors.append(("delay", f"delay must be a finite number of seconds 0..{MAX_DELAY:g}, got {delay!r}"))
    if fault.action is not None and fault.action not in ACTIONS:
        errors.append(("action", f"action must be one of {', '.join(ACTIONS)}, got {fault.action!r}"))
    if fault.size is not None and (not _is_int(fault.size) or not 0 <= fault.size <= MAX_OVERSIZED_BYTES):
        errors.append(("size", f"size must be a byte count 0..{MAX_OVERSIZED_BYTES}, got {fault.size!r}"))
    if fault.problem is not None:
        if not isinstance(fault.problem, dict) or not all(isinstance(k, str) for k in fault.problem):
            errors.append(("problem", "problem must be an object of problem+json fields"))
        else:
            try:
                json.dumps(fault.problem, allow_nan=False)
            except (TypeError, ValueError) as exc:
                errors.append(("problem", f"problem must be plain JSON: {exc}"))
    if not isinstance(fault.process, bool):
        errors.append(("process", f"process must be true or false, got {fault.process!r}"))
    if not errors and fault.status is None and fault.action is None and not fault.delay:
        errors.append(("$", "a fault needs at least one of status, action or delay"))
    return errors


class FaultSet:
    """The live faults of one sandbox; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: List[Fault] = []

    def add(self, fault: Optional[Fault] = None, **kwargs: Any) -> Fault:
        if fault is None:
            fault = Fault(**kwargs)
        elif kwargs:
            raise TypeError("pass either a Fault or keyword arguments, not both")
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Optional[Fault]:
        """The fault for this request, counted as used; None when nothing matches."""
        with self._lock:
            for fault in self._faults:
                if fault.remaining == 0 or not fault.matches(method, path):
                    continue
                fault.hits += 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            for fault in self._faults:
                if fault.id == fault_id:
                    self._faults.remove(fault)
                    return True
        return False

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> List[Fault]:
        with self._lock:
            return list(self._faults)

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)
