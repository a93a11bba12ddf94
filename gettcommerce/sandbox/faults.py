"""Fault injection: make the next N matching requests fail in a chosen way.

A fault matches ``"METHOD /path/glob"`` (or just ``"/path/glob"`` for any
method, or ``"*"``); ``*`` in the glob also crosses ``/``.  Faults are tried
in the order they were added and the first live match is used, so a test
can stack "503 twice, then close the connection once".
"""
from __future__ import annotations

import fnmatch
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

ACTIONS = ("close_before", "close_mid_body", "invalid_json", "oversized")
DEFAULT_OVERSIZED_BYTES = 64 * 1024 * 1024   # above the SDK's 32 MB response cap
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
        if not isinstance(self.match, str) or not self.match.strip():
            raise ValueError("fault match must be a non-empty string like 'GET /v1/commerce/stores/*'")
        parts = self.match.strip().split(None, 1)
        if len(parts) == 2:
            self._method, self._glob = parts[0].upper(), parts[1]
        elif parts[0].startswith("/") or parts[0] == "*":
            self._method, self._glob = "*", parts[0]
        else:
            self._method, self._glob = parts[0].upper(), "*"
        if self.times is not None and (not isinstance(self.times, int) or self.times < 1):
            raise ValueError(f"fault times must be a positive int or None, got {self.times!r}")
        if self.status is not None and (not isinstance(self.status, int) or not 100 <= self.status <= 599):
            raise ValueError(f"fault status must be an HTTP status code, got {self.status!r}")
        if self.action is not None and self.action not in ACTIONS:
            raise ValueError(f"fault action must be one of {', '.join(ACTIONS)}, got {self.action!r}")
        if not isinstance(self.delay, (int, float)) or self.delay < 0:
            raise ValueError(f"fault delay must be a number of seconds >= 0, got {self.delay!r}")
        if self.size is not None and (not isinstance(self.size, int) or self.size < 0):
            raise ValueError(f"fault size must be a byte count >= 0, got {self.size!r}")
        if self.problem is not None and not isinstance(self.problem, dict):
            raise ValueError("fault problem must be a dict of problem+json fields")
        if self.status is None and self.action is None and not self.delay:
            raise ValueError("a fault needs at least one of status, action or delay")

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
        """Build from the JSON of ``POST /_sandbox/faults`` (camelCase ``retryAfter``)."""
        if not isinstance(data, dict):
            raise ValueError("fault must be a JSON object")
        allowed = {"match", "times", "status", "problem", "retryAfter", "headers", "delay", "action",
                   "size", "process"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}; allowed: {sorted(allowed)}")
        kwargs = {k: v for k, v in data.items() if k != "retryAfter"}
        if "retryAfter" in data:
            kwargs["retry_after"] = data["retryAfter"]
        if "headers" in kwargs and not isinstance(kwargs["headers"], dict):
            raise ValueError("fault headers must be an object")
        return cls(**kwargs)


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
