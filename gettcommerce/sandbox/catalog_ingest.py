"""Pulling a partner's CatalogSet over HTTP, validating it, and reading it back.

Gett pulls the JSON from the partner's callback URL (gett-api.md §6.2).
Validation uses the SDK's own C validator (``gettcommerce.catalog``), so
the sandbox and the SDK agree on what a valid catalog is.
"""
from __future__ import annotations

import datetime as _dt
import urllib.error
import urllib.request
from decimal import Decimal
from typing import Any, Dict, List, Optional

from .._wire import DAYS_OF_WEEK, loads_decimal
from ..catalog import validate_catalogset
from .validation import is_http_url

DEFAULT_MAX_CATALOG_BYTES = 50 * 1024 * 1024
MAX_REDIRECTS = 5


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow at most MAX_REDIRECTS redirects, and only to http(s) URLs.

    urllib alone follows up to 10, and to ``ftp://`` as well: a catalog URL
    must never make the sandbox talk FTP (or anything else) to a host the
    partner names in a Location header.
    """

    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> Optional[urllib.request.Request]:
        if not is_http_url(newurl):
            raise CatalogFetchError(f"{req.full_url} redirected (HTTP {code}) to {newurl[:100]!r}; only http "
                                    "and https redirects are followed")
        return super().redirect_request(req, fp, code, msg, headers, newurl)

    def http_error_302(self, req: Any, fp: Any, code: int, msg: str, headers: Any) -> Any:
        visited = getattr(req, "redirect_dict", {})
        if sum(visited.values()) >= self.max_redirections:
            raise CatalogFetchError(f"more than {self.max_redirections} redirects pulling the catalog "
                                    f"(last: {req.full_url[:100]!r})")
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


# No proxies: the sandbox talks to whatever URL the partner registered, and
# a proxy from the environment would break (or leak) local test traffic.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _HttpOnlyRedirects())


class CatalogFetchError(Exception):
    """The catalog could not be downloaded (HTTP error, timeout, too large...)."""


def fetch(url: str, *, timeout: float, max_bytes: int = DEFAULT_MAX_CATALOG_BYTES) -> bytes:
    """GET ``url`` and return the body; refuse non-http(s) URLs and oversized bodies."""
    if not is_http_url(url):
        raise CatalogFetchError(f"catalog URL must be http or https: {url[:100]!r}")
    request = urllib.request.Request(url, headers={"Accept": "application/json",
                                                   "User-Agent": "gett-sandbox/1 catalog-puller"})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise CatalogFetchError(f"catalog is {declared} bytes, over the {max_bytes}-byte limit")
            chunks = []
            total = 0
            while True:
                chunk = response.read(65536)
                if not chunk:
                    break
                total += len(chunk)
                if total > max_bytes:
                    raise CatalogFetchError(f"catalog is over the {max_bytes}-byte limit")
                chunks.append(chunk)
            return b"".join(chunks)
    except urllib.error.HTTPError as exc:
        raise CatalogFetchError(f"GET {url} answered HTTP {exc.code}") from None
    except CatalogFetchError:
        raise
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CatalogFetchError(f"GET {url} failed: {reason}") from None


def validate(raw: bytes) -> List[Any]:
    """Every issue of a CatalogSet, from the SDK's C validator, so the SDK and
    the sandbox never disagree.

    Issues have ``severity`` ("error"/"warning"), ``code``, ``path`` (JSON
    Pointer) and ``message``.
    """
    return list(validate_catalogset(raw))


def describe_failure(issues: List[Any], limit: int = 3) -> str:
    """The onboarding ``error`` text: the count and the first few problems, path first."""
    errors = [i for i in issues if getattr(i, "severity", "error") == "error"]
    shown = "; ".join(f"{i.path or '/'}: {i.message}" for i in errors[:limit])
    more = f" (and {len(errors) - limit} more)" if len(errors) > limit else ""
    noun = "error" if len(errors) == 1 else "errors"
    return f"catalog has {len(errors)} {noun}: {shown}{more}"


def parse(raw: bytes) -> Dict[str, Any]:
    """The catalog as Python data with prices as Decimal (only called on valid catalogs)."""
    return loads_decimal(raw)


def _parse_clock(text: str) -> Optional[_dt.time]:
    try:
        return _dt.time.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def window_covers(window: Dict[str, Any], local: _dt.datetime) -> bool:
    """Whether one {dayOfWeek, start, end} window contains a local time.

    End ``00:00:00`` means end of day, so ``00:00:00-00:00:00`` is the whole day.
    """
    if window.get("dayOfWeek") != DAYS_OF_WEEK[local.isoweekday() % 7]:
        return False
    start, end = _parse_clock(window.get("start")), _parse_clock(window.get("end"))
    if start is None or end is None:
        return False
    now = local.time().replace(tzinfo=None)
    if end == _dt.time(0, 0, 0):
        return now >= start
    return start <= now < end


def open_catalogs(catalog: Dict[str, Any], local: _dt.datetime) -> List[str]:
    """Ids of the catalogs whose availability covers ``local`` (fail-closed: none = never open)."""
    open_ids = []
    for catalog_id, entry in (catalog.get("catalogs") or {}).items():
        windows = entry.get("availability") or []
        if any(isinstance(w, dict) and window_covers(w, local) for w in windows):
            open_ids.append(catalog_id)
    return open_ids


def reachable_items(catalog: Dict[str, Any], catalog_ids: List[str]) -> set:
    """Items a consumer can reach from the given catalogs through sections."""
    sections = catalog.get("sections") or {}
    seen_sections: set = set()
    items: set = set()
    stack = [sid for cid in catalog_ids for sid in (catalog["catalogs"][cid].get("sectionIds") or [])]
    while stack:
        section_id = stack.pop()
        if section_id in seen_sections or section_id not in sections:
            continue
        seen_sections.add(section_id)
        section = sections[section_id]
        items.update(section.get("itemIds") or [])
        stack.extend(section.get("sectionIds") or [])
    return items


def price_of(catalog: Dict[str, Any], item_id: str) -> Decimal:
    price = catalog["items"][item_id].get("basePrice", 0)
    return price if isinstance(price, Decimal) else Decimal(str(price))
