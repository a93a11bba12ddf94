"""Pulling a partner's CatalogSet over HTTP, validating it, and reading it back.

Gett pulls the JSON from the partner's callback URL (gett-api.md §6.2).
Validation uses the SDK's own C validator (``gettcommerce.catalog``), so
the sandbox and the SDK agree on what a valid catalog is.
"""
from __future__ import annotations

import datetime as _dt
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Dict, List, Optional

from ._util import loads_decimal
from .validation import is_http_url

DEFAULT_MAX_CATALOG_BYTES = 50 * 1024 * 1024
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# No proxies: the sandbox talks to whatever URL the partner registered, and
# a proxy from the environment would break (or leak) local test traffic.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class CatalogFetchError(Exception):
    """The catalog could not be downloaded (HTTP error, timeout, too large...)."""


@dataclass
class Issue:
    code: str
    path: str
    message: str
    severity: str = "error"


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
    """Every issue of a CatalogSet, from the SDK validator.

    Issues have ``severity`` ("error"/"warning"), ``code``, ``path`` (JSON
    Pointer) and ``message``.
    """
    try:
        from ..catalog import validate_catalogset
    except ImportError:
        # The C validator lands from a parallel branch; until it is merged
        # the referential rules below keep ingestion meaningful.
        return _fallback_validate(raw)
    return list(validate_catalogset(raw))


def _fallback_validate(raw: bytes) -> List[Issue]:
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return [Issue("invalid_json", "", f"catalog is not valid JSON: {exc}")]
    if not isinstance(doc, dict):
        return [Issue("wrong_type", "", "catalog must be a JSON object")]
    issues: List[Issue] = []
    maps = {"catalogs": "catalogId", "sections": "sectionId", "items": "itemId",
            "modifierGroups": "modifierGroupId"}
    for name, id_field in maps.items():
        value = doc.get(name)
        if not isinstance(value, dict):
            issues.append(Issue("missing_field" if value is None else "wrong_type", f"/{name}",
                                f"{name} must be an object mapping ids to entities"))
            doc[name] = {}
            continue
        for key, entity in value.items():
            if not isinstance(entity, dict):
                issues.append(Issue("wrong_type", f"/{name}/{key}", f"{name}[{key!r}] must be an object"))
            elif entity.get(id_field) != key:
                issues.append(Issue("key_mismatch", f"/{name}/{key}/{id_field}",
                                    f"{id_field} {entity.get(id_field)!r} differs from its map key {key!r}"))
    refs = (("catalogs", "sectionIds", "sections"), ("sections", "sectionIds", "sections"),
            ("sections", "itemIds", "items"), ("items", "modifierGroupIds", "modifierGroups"),
            ("modifierGroups", "itemIds", "items"))
    for owner, field, target in refs:
        for key, entity in doc[owner].items():
            if not isinstance(entity, dict):
                continue
            ids = entity.get(field, [])
            if not isinstance(ids, list):
                issues.append(Issue("wrong_type", f"/{owner}/{key}/{field}", f"{field} must be an array"))
                continue
            for index, ref in enumerate(ids):
                if not isinstance(ref, str) or ref not in doc[target]:
                    issues.append(Issue("dangling_reference", f"/{owner}/{key}/{field}/{index}",
                                        f"{field}[{index}] refers to unknown {target} id {ref!r}"))
    for key, item in doc["items"].items():
        if isinstance(item, dict):
            price = item.get("basePrice")
            if isinstance(price, bool) or not isinstance(price, (int, float)) or not price >= 0 \
                    or price == float("inf"):
                issues.append(Issue("invalid_price", f"/items/{key}/basePrice",
                                    f"basePrice must be a finite number >= 0, got {price!r}"))
    return issues


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
    if window.get("dayOfWeek") != DAYS[local.weekday()]:
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
