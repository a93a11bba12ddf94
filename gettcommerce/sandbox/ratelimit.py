"""Per-key fixed-window rate limits: by default Gett's sandbox limits, reads
5000/min and writes 500/min (5x production's 1000 and 100; DESIGN §2).

GET counts as a read, every other method as a write (gett-api.md §7.5).
``X-RateLimit-Reset`` is the unix time the current window ends; past the
limit the request is refused with 429 and a ``Retry-After`` of the seconds
left in the window.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, Tuple, Union

PRODUCTION_READ_LIMIT = 1000
PRODUCTION_WRITE_LIMIT = 100
SANDBOX_FACTOR = 5                  # Gett's sandbox allows 5x production
READ_LIMIT = PRODUCTION_READ_LIMIT * SANDBOX_FACTOR
WRITE_LIMIT = PRODUCTION_WRITE_LIMIT * SANDBOX_FACTOR
WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class RateLimits:
    """Limits per key and window; ``enforced=False`` counts but never refuses."""

    read: int = READ_LIMIT
    write: int = WRITE_LIMIT
    window: float = WINDOW_SECONDS
    enforced: bool = True

    @classmethod
    def from_setting(cls, setting: Union[bool, float, int, Dict[str, Any], "RateLimits", None]) -> "RateLimits":
        """``True`` = Gett's sandbox limits, ``False``/``None`` = off, a number scales
        both limits, a dict gives ``read``/``write``/``window`` explicitly.

        >>> RateLimits.from_setting(0.01)
        RateLimits(read=50, write=5, window=60.0, enforced=True)
        >>> RateLimits.from_setting(0.2)    # production's limits
        RateLimits(read=1000, write=100, window=60.0, enforced=True)
        """
        if isinstance(setting, RateLimits):
            return setting
        if setting is True:
            return cls()
        if setting is False or setting is None:
            return cls(enforced=False)
        if isinstance(setting, (int, float)):
            if setting <= 0:
                raise ValueError(f"rate_limits scale must be > 0, got {setting!r}")
            return cls(read=max(1, int(READ_LIMIT * setting)), write=max(1, int(WRITE_LIMIT * setting)))
        if isinstance(setting, dict):
            unknown = set(setting) - {"read", "write", "window", "enforced"}
            if unknown:
                raise ValueError(f"rate_limits: unknown keys {sorted(unknown)}")
            limits = cls(read=int(setting.get("read", READ_LIMIT)), write=int(setting.get("write", WRITE_LIMIT)),
                         window=float(setting.get("window", WINDOW_SECONDS)),
                         enforced=bool(setting.get("enforced", True)))
            if limits.read < 1 or limits.write < 1 or limits.window <= 0:
                raise ValueError(f"rate_limits: read/write must be >= 1 and window > 0, got {setting!r}")
            return limits
        raise TypeError(f"rate_limits must be a bool, a number or a dict, not {type(setting).__name__}")


@dataclass
class Decision:
    allowed: bool
    remaining: int
    reset_at: float        # unix seconds
    retry_after: int       # whole seconds until the window resets (>= 1 when refused)

    def headers(self) -> Dict[str, str]:
        return {"X-RateLimit-Remaining": str(self.remaining), "X-RateLimit-Reset": str(int(math.ceil(self.reset_at)))}


class RateLimiter:
    def __init__(self, limits: RateLimits, clock=time.time) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        # (bucket, kind) -> (window start, count)
        self._windows: Dict[Tuple[str, str], Tuple[float, int]] = {}

    def check(self, bucket: str, method: str) -> Decision:
        """Count one request for ``bucket`` and say whether it may proceed."""
        kind = "read" if method.upper() in ("GET", "HEAD") else "write"
        limit = self.limits.read if kind == "read" else self.limits.write
        now = self._clock()
        with self._lock:
            start, count = self._windows.get((bucket, kind), (now, 0))
            if now - start >= self.limits.window:
                start, count = now, 0
            reset_at = start + self.limits.window
            if count >= limit and self.limits.enforced:
                self._windows[(bucket, kind)] = (start, count)
                return Decision(False, 0, reset_at, max(1, int(math.ceil(reset_at - now))))
            count += 1
            self._windows[(bucket, kind)] = (start, count)
            return Decision(True, max(0, limit - count), reset_at, 0)

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()

    def snapshot(self) -> Dict[str, Any]:
        with self._lock:
            return {f"{bucket}:{kind}": {"windowStart": start, "count": count}
                    for (bucket, kind), (start, count) in self._windows.items()}

    def describe(self) -> Dict[str, Any]:
        return {"read": self.limits.read, "write": self.limits.write, "window": self.limits.window,
                "enforced": self.limits.enforced}
