"""The sandbox's memory of the requests it received, bounded.

Tests read ``sandbox.requests`` (method, path, headers, body, status) and
``sandbox.request_count(glob)``.  Nothing here may grow with what a client
sends: bodies are kept only for requests carrying a valid API key and only
up to ``BODY_CAP`` bytes each (past it, only the size), the kept bodies
together stay under ``TOTAL_BODY_CAP`` (the oldest are dropped first), the
headers of one request under ``HEADER_CAP``, the records under
``max_records`` and the per-path counters under ``MAX_COUNTED_PATHS``.
"""
from __future__ import annotations

import collections
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, List, Optional, Tuple

BODY_CAP = 4096                      # bytes of one body kept
TOTAL_BODY_CAP = 8 * 1024 * 1024     # bytes of all kept bodies together
HEADER_CAP = 2048                    # bytes of one request's header names and values
MAX_COUNTED_PATHS = 10000            # distinct (method, path) counters; later ones count as OTHER
OTHER = ("*", "<other paths>")


@dataclass
class RequestRecord:
    """One request as it arrived (``sandbox.requests``).

    ``body`` holds the bytes only when the request carried a valid API key
    and the body was at most ``BODY_CAP`` bytes (and is still within the
    log's total budget); ``body_size`` is always the size received.
    """

    method: str
    path: str
    query: str
    headers: Dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)
    request_id: str = ""
    route: Optional[str] = None
    status: Optional[int] = None
    body_size: int = 0
    authenticated: bool = False

    @property
    def body_kept(self) -> bool:
        return len(self.body) == self.body_size

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def header(self, name: str) -> Optional[str]:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


def capped_headers(items: Any, cap: int = HEADER_CAP) -> Dict[str, str]:
    """Header names and values in arrival order until ``cap`` bytes; long values are cut."""
    kept: Dict[str, str] = {}
    used = 0
    for name, value in items:
        room = cap - used - len(name)
        if room <= 0:
            break
        text = value if len(value) <= room else value[:room]
        kept[name] = text
        used += len(name) + len(text)
    return kept


class RequestLog:
    """Thread-safe bounded log plus per-path counters."""

    def __init__(self, max_records: int = 10000, *, body_cap: int = BODY_CAP,
                 total_body_cap: int = TOTAL_BODY_CAP) -> None:
        if not isinstance(max_records, int) or max_records < 0:
            raise ValueError(f"max_logged_requests must be an int >= 0, got {max_records!r}")
        self.body_cap = body_cap
        self.total_body_cap = total_body_cap
        self._records: Deque[RequestRecord] = collections.deque(maxlen=max_records)
        self._counts: Dict[Tuple[str, str], int] = collections.Counter()
        self._body_bytes = 0
        self._lock = threading.Lock()

    def add(self, record: RequestRecord, body: bytes) -> None:
        """Log ``record``, keeping ``body`` only if it is authenticated and small enough."""
        record.body_size = len(body)
        keep = record.authenticated and len(body) <= self.body_cap
        record.body = body if keep else b""
        with self._lock:
            if self._records.maxlen is not None and len(self._records) == self._records.maxlen and self._records:
                self._body_bytes -= len(self._records[0].body)      # the deque drops it below
            if self._records.maxlen != 0:
                self._records.append(record)
                self._body_bytes += len(record.body)
            for old in self._records:              # oldest first
                if self._body_bytes <= self.total_body_cap:
                    break
                self._body_bytes -= len(old.body)
                old.body = b""
            key = (record.method, record.path)
            if key not in self._counts and len(self._counts) >= MAX_COUNTED_PATHS:
                key = OTHER
            self._counts[key] += 1

    def records(self) -> List[RequestRecord]:
        with self._lock:
            return list(self._records)

    def counts(self) -> Dict[Tuple[str, str], int]:
        with self._lock:
            return dict(self._counts)

    def kept_body_bytes(self) -> int:
        with self._lock:
            return self._body_bytes

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._counts.clear()
            self._body_bytes = 0
