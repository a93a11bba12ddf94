"""How SDK objects look in Jupyter: compact HTML cards, and a progress line
that updates in place.

Everything here reads objects by duck typing and imports only the standard
library, so models, errors and webhook types can all use it without import
cycles.  Every piece of text is HTML-escaped: a store named ``<script>``
shows as text.

- :func:`card` builds a card from a title, rows and an optional badge.
- :func:`object_card` builds one from an object's attributes (used by
  ``_repr_html_`` of the models, and meant for any object with plain fields:
  ``object_card(raw_response, ("status_code", "request_id", "rate_limit",
  "attempts", "elapsed", "headers"), badge_field="status_code")``).
- :func:`model_card` and :func:`error_card` are the models' and errors' reprs.
- :class:`ProgressLine` is one status line: an IPython display updated in
  place inside a running kernel, else ``\\r`` rewrites on stderr.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import html
import sys
from decimal import Decimal
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple

__all__ = ["card", "object_card", "model_card", "error_card", "format_value", "badge", "ProgressLine"]

#: Rows whose value is longer than this are cut (with an ellipsis).
MAX_TEXT = 300
#: Mapping and list values show at most this many entries.
MAX_ENTRIES = 12

_GREEN, _BLUE, _AMBER, _RED, _GREY = "#2a7a2a", "#2b6cb0", "#b7791f", "#c53030", "#718096"

# Wire statuses and states of stores, orders and onboardings -> badge colour.
_STATUS_COLOURS = {
    "online": _GREEN, "active": _GREEN, "completed": _GREEN, "ready_to_activate": _GREEN,
    "ready": _GREEN,
    "confirmed": _BLUE, "preparing": _BLUE, "inTransit": _BLUE, "open": _BLUE, "place": _BLUE,
    "validate": _BLUE, "pickup": _BLUE, "delivery": _BLUE,
    "paused": _AMBER, "pending": _AMBER, "pending_catalog": _AMBER, "catalog_ingesting": _AMBER,
    "cancelled": _RED, "catalog_failed": _RED, "error": _RED,
}

_CARD_STYLE = ("display:inline-block;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;"
               "font-size:13px;border:1px solid #d0d7de;border-radius:6px;padding:6px 10px;"
               "margin:2px 0;background:#fff;color:#1f2328;max-width:720px")
_KEY_STYLE = "text-align:left;color:#57606a;font-weight:normal;padding:1px 12px 1px 0;vertical-align:top"
_VALUE_STYLE = "text-align:left;padding:1px 0;vertical-align:top;word-break:break-word"


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _cut(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def badge_colour(value: Any) -> str:
    """The colour of a badge: by wire status, or by HTTP status class for a number."""
    if isinstance(value, int) and not isinstance(value, bool) or (isinstance(value, str) and value[:3].isdigit()):
        code = int(str(value)[:3])
        return _GREEN if code < 300 else _GREY if code < 400 else _AMBER if code == 429 else _RED
    return _STATUS_COLOURS.get(str(value), _GREY)


def badge(value: Any) -> str:
    """A coloured pill holding ``value`` (escaped)."""
    return (f'<span class="gett-badge" style="background:{badge_colour(value)};color:#fff;'
            f'border-radius:10px;padding:1px 8px;margin-left:8px;font-size:12px">{_esc(format_value(value))}</span>')


def format_datetime(value: _dt.datetime) -> str:
    """``2026-11-30 14:05 UTC`` (seconds only when not zero); naive times are shown as they are."""
    if value.tzinfo is not None:
        value = value.astimezone(_dt.timezone.utc)
    text = value.strftime("%Y-%m-%d %H:%M:%S" if value.second or value.microsecond else "%Y-%m-%d %H:%M")
    return text + (" UTC" if value.tzinfo is not None else "")


def format_value(value: Any) -> str:
    """Readable plain text of a field value (not escaped): times as ``2026-11-30 14:05 UTC``,
    money as written, booleans as yes/no, models as their non-empty fields."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, _dt.datetime):
        return format_datetime(value)
    if isinstance(value, _dt.timedelta):
        return f"{value.total_seconds():g} s"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (str, int, Decimal)):
        return str(value)
    if isinstance(value, Mapping):
        shown = [f"{k}: {format_value(v)}" for k, v in list(value.items())[:MAX_ENTRIES]]
        if len(value) > MAX_ENTRIES:
            shown.append(f"\u2026 {len(value) - MAX_ENTRIES} more")
        return "; ".join(shown) or "-"
    fields = _field_names(value)   # before plain sequences: a named tuple shows its names
    if fields:
        parts = [(name, getattr(value, name, None)) for name in fields]
        return ", ".join(f"{name}={format_value(v)}" for name, v in parts if v is not None) or "-"
    if isinstance(value, (list, tuple)):
        shown = [format_value(v) for v in value[:MAX_ENTRIES]]
        if len(value) > MAX_ENTRIES:
            shown.append(f"\u2026 {len(value) - MAX_ENTRIES} more")
        return ", ".join(shown) or "-"
    return str(value)


def _field_names(value: Any) -> Tuple[str, ...]:
    """The public fields of a model (``_fields``), a dataclass or a named tuple; else ()."""
    names = getattr(type(value), "_fields", None)
    if isinstance(names, tuple) and all(isinstance(n, str) for n in names):
        return names
    if dataclasses.is_dataclass(value):
        return tuple(f.name for f in dataclasses.fields(value) if f.repr)
    return ()


def card(title: str, rows: Iterable[Tuple[str, Any]], badge_value: Any = None, *,
         subtitle: Optional[str] = None) -> str:
    """A compact HTML card: ``title`` (e.g. the class name), an optional
    ``subtitle`` (an id, in monospace), a coloured badge, then one table row
    per ``(label, value)`` whose value is not None.  All text is escaped."""
    head = f"<strong>{_esc(title)}</strong>"
    if subtitle is not None:
        head += f' <code style="font-size:12px">{_esc(subtitle)}</code>'
    if badge_value is not None:
        head += badge(badge_value)
    body = "".join(f'<tr><th style="{_KEY_STYLE}">{_esc(label)}</th>'
                   f'<td style="{_VALUE_STYLE}">{_esc(_cut(format_value(value)))}</td></tr>'
                   for label, value in rows if value is not None)
    table = f'<table style="border-collapse:collapse;margin-top:4px">{body}</table>' if body else ""
    return f'<div class="gett-card" style="{_CARD_STYLE}"><div>{head}</div>{table}</div>'


def object_card(obj: Any, fields: Sequence[str], *, title: Optional[str] = None,
                badge_field: Optional[str] = None, id_field: Optional[str] = None) -> str:
    """A card of ``obj``'s attributes ``fields`` (None ones are left out):
    ``badge_field`` goes in the badge, ``id_field`` next to the title (the
    class name unless ``title`` is given); neither is repeated as a row."""
    rows = [(name, getattr(obj, name, None)) for name in fields if name not in (badge_field, id_field)]
    return card(title or type(obj).__name__, rows,
                getattr(obj, badge_field, None) if badge_field else None,
                subtitle=getattr(obj, id_field, None) if id_field else None)


def model_card(model: Any) -> str:
    """The card of a model (Store, StoreStatus, Order, Onboarding and their
    async twins): its ``_fields``, the first one in ``..._id`` next to the
    title, ``status`` as the badge (an order's ``state`` once it is closed)."""
    fields: Tuple[str, ...] = type(model)._fields
    id_field = fields[0] if fields and fields[0].endswith("_id") else None
    badge_field = None
    if "state" in fields and getattr(model, "state", None) not in (None, "open"):
        badge_field = "state"
    elif "status" in fields:
        badge_field = "status"
    return object_card(model, fields, badge_field=badge_field, id_field=id_field)


# Attributes an error of the gettcommerce tree may carry, in the order shown.
_ERROR_FIELDS = ("error_code", "detail", "request_id", "field", "value", "order_id", "current",
                 "requested", "error", "retryable", "retry_after", "attempts", "timestamp")


def error_card(error: BaseException, label: Optional[str] = None) -> str:
    """The card of a gettcommerce error: ``label`` (e.g. ``404 Not Found``)
    as the badge, the message (unless Gett answered: its fields say it), the
    request line, the problem's fields and each ``errors[]`` entry."""
    rows: List[Tuple[str, Any]] = [] if getattr(error, "status_code", None) else [("message", str(error))]
    method, url = getattr(error, "method", None), getattr(error, "url", None)
    if method or url:
        rows.append(("request", f"{method or ''} {url or ''}".strip()))
    for name in _ERROR_FIELDS:
        value = getattr(error, name, None)
        if name == "value" and getattr(error, "field", None) is not None:
            value = repr(value)
        if name == "attempts" and value == 1:
            value = None
        if name == "detail" and value is None:
            value = getattr(error, "title", None)      # the problem's title stands in for a missing detail
        if name == "timestamp" and isinstance(value, str):
            value = _wire_time(value)
        rows.append((name, value))
    for entry in (getattr(error, "errors", None) or [])[:MAX_ENTRIES]:
        if isinstance(entry, Mapping):
            rows.append((str(entry.get("jsonPath") or "errors[]"), entry.get("message") or entry.get("code")))
        elif isinstance(entry, tuple) and len(entry) == 2:        # BatchError: (index, exception)
            rows.append((f"call [{entry[0]}]", f"{type(entry[1]).__name__}: {entry[1]}"))
    return card(type(error).__name__, rows, label or "error")


def _wire_time(text: str) -> Any:
    """An RFC 3339 timestamp as an aware datetime (shown readably); other text as it is."""
    try:
        value = _dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    return value if value.tzinfo is not None else text


class ProgressLine:
    """One status line updated in place.

    In a Jupyter kernel (IPython imported and running a kernel) it is a
    display whose content ``update()`` replaces; elsewhere it rewrites one
    stderr line with ``\\r`` and ends it with a newline on ``close()``.
    """

    def __init__(self) -> None:
        self._handle: Any = None
        self._kernel = _in_kernel()
        self._shown = False

    def update(self, text: str) -> None:
        if self._kernel:
            data = {"text/plain": text,
                    "text/html": f'<pre class="gett-progress" style="margin:0">{_esc(text)}</pre>'}
            if self._handle is None:
                from IPython.display import display
                self._handle = display(data, raw=True, display_id=True)
            else:
                self._handle.update(data, raw=True)
        else:
            sys.stderr.write("\r" + text)
            sys.stderr.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown and not self._kernel:
            sys.stderr.write("\n")
            sys.stderr.flush()
        self._shown = False


def _in_kernel() -> bool:
    """True inside a running IPython kernel (Jupyter); never imports IPython itself."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # a broken or partial IPython install: use stderr
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None
