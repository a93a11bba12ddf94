"""How a CatalogSet looks to people: a plain-text tree for terminals, a
collapsible HTML tree and an issue table for Jupyter.

Rendering trusts nothing: it runs on loaded documents that may be invalid,
so missing ids, cycles, wrong types and very deep chains are shown, never
raised.
"""
from __future__ import annotations

import decimal
import html
import math
from typing import Any, Dict, List, Optional, Protocol, Sequence, Set, Tuple

from .._wire import DAYS_OF_WEEK

__all__ = ["text_tree", "html_tree", "report_html"]


class Menu(Protocol):
    """What rendering reads of a CatalogSet."""

    @property
    def catalog_set_id(self) -> Optional[str]: ...
    @property
    def store_id(self) -> Optional[str]: ...
    @property
    def catalogs(self) -> Dict[str, Any]: ...
    @property
    def sections(self) -> Dict[str, Any]: ...
    @property
    def items(self) -> Dict[str, Any]: ...
    @property
    def modifier_groups(self) -> Dict[str, Any]: ...
    @property
    def stats(self) -> Dict[str, int]: ...


class Issue(Protocol):
    """What the issue table reads of a CatalogIssue."""

    @property
    def code(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def message(self) -> str: ...


# Deeper levels are cut: a view for people, and a 100,000-deep chain must
# not cost quadratic text or Python recursion.
_RENDER_MAX_DEPTH = 48


def _as_map(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> List[Any]:
    return value if isinstance(value, list) else []


def _name_of(entity: Any, entity_id: str) -> str:
    name = entity.get("name") if isinstance(entity, dict) else None
    return name if isinstance(name, str) and name else entity_id


def _price_text(price: Any) -> str:
    if isinstance(price, decimal.Decimal) and price.is_finite():
        return f"{price:.2f}" if price == price.quantize(decimal.Decimal("0.01")) else str(price)
    if isinstance(price, (int, float)) and not isinstance(price, bool) and math.isfinite(price):
        return f"{price:.2f}"
    return f"{price!r}"


def _limits_text(group: Dict[str, Any]) -> str:
    choices = len(_as_list(group.get("itemIds")))
    low = group.get("minimumAllowed")
    high = group.get("maximumAllowed")
    low = 0 if low is None else low
    high = choices if high is None else high
    if low == high:
        rule = f"choose {low}"
    elif low == 0:
        rule = f"up to {high}"
    else:
        rule = f"choose {low}-{high}"
    return f"{rule} (min {low}, max {high})"


def _hours_text(window: Dict[str, Any]) -> str:
    start, end = window.get("start"), window.get("end")
    if start == "00:00:00" and end == "00:00:00":
        return "all day"
    return f"{_short_time(start)}-{'24:00' if end == '00:00:00' else _short_time(end)}"


def _short_time(value: Any) -> str:
    return value[:5] if isinstance(value, str) and value.endswith(":00") else str(value)


def _week(catalog: Dict[str, Any]) -> Dict[str, List[str]]:
    week: Dict[str, List[str]] = {day: [] for day in DAYS_OF_WEEK}
    for window in _as_list(catalog.get("availability")):
        if isinstance(window, dict) and window.get("dayOfWeek") in week:
            week[window["dayOfWeek"]].append(_hours_text(window))
    return week


class _Walker:
    """Walks catalog -> sections -> items -> groups -> choices, guarding
    against cycles (an id already on the current path) and missing ids."""

    def __init__(self, cs: Menu) -> None:
        self.sections = _as_map(cs.sections)
        self.items = _as_map(cs.items)
        self.groups = _as_map(cs.modifier_groups)
        self.path: Set[Tuple[str, Any]] = set()

    def section_children(self, section: Dict[str, Any]) -> List[Tuple[str, Any]]:
        out = [("section", sid) for sid in _as_list(section.get("sectionIds"))]
        out += [("item", iid) for iid in _as_list(section.get("itemIds"))]
        return out

    def lookup(self, kind: str, entity_id: Any) -> Optional[Dict[str, Any]]:
        table = {"section": self.sections, "item": self.items, "group": self.groups}[kind]
        entity = table.get(entity_id) if isinstance(entity_id, str) else None
        return entity if isinstance(entity, dict) else None


def text_tree(cs: Menu, *, prices: bool = True) -> str:
    """The menu as an indented plain-text tree."""
    walker = _Walker(cs)
    stats = cs.stats
    lines = [f"CatalogSet {cs.catalog_set_id} (store {cs.store_id}): {stats['catalogs']} catalogs, "
             f"{stats['sections']} sections, {stats['items']} items, "
             f"{stats['modifierGroups']} modifier groups"]

    def emit(prefix: str, last: bool, text: str) -> str:
        lines.append(prefix + ("└── " if last else "├── ") + text)
        return prefix + ("    " if last else "│   ")

    def node(kind: str, entity_id: Any, prefix: str, last: bool, depth: int) -> None:
        entity = walker.lookup(kind, entity_id)
        label = {"section": "section", "item": "item", "group": "modifier group"}[kind]
        if entity is None:
            emit(prefix, last, f"(missing {label} {entity_id!r})")
            return
        key = (kind, entity_id)
        if key in walker.path:
            emit(prefix, last, f"{_name_of(entity, entity_id)} (cycle: already above)")
            return
        if kind == "item":
            text = _name_of(entity, entity_id)
            if prices:
                text += f"  {_price_text(entity.get('basePrice'))}"
            children = [("group", g) for g in _as_list(entity.get("modifierGroupIds"))]
        elif kind == "group":
            text = f"{_name_of(entity, entity_id)} [{_limits_text(entity)}]"
            children = [("item", i) for i in _as_list(entity.get("itemIds"))]
        else:
            text = _name_of(entity, entity_id) + "/"
            children = walker.section_children(entity)
        inner = emit(prefix, last, text)
        if depth >= _RENDER_MAX_DEPTH and children:
            lines.append(inner + "└── ... (deeper levels not shown)")
            return
        walker.path.add(key)
        for index, (child_kind, child_id) in enumerate(children):
            node(child_kind, child_id, inner, index == len(children) - 1, depth + 1)
        walker.path.discard(key)

    for catalog_id, catalog in _as_map(cs.catalogs).items():
        if not isinstance(catalog, dict):
            continue
        lines.append(f"{_name_of(catalog, catalog_id)} [catalog {catalog_id}]")
        week = _week(catalog)
        hours = ", ".join(f"{day[:3]} {' '.join(week[day]) or 'closed'}" for day in DAYS_OF_WEEK)
        lines.append(f"    hours: {hours}")
        sections = _as_list(catalog.get("sectionIds"))
        for index, sid in enumerate(sections):
            node("section", sid, "", index == len(sections) - 1, 1)
    return "\n".join(lines)


_HTML_STYLE = """<style>
.gett-catalogset{font-family:system-ui,sans-serif;font-size:13px;line-height:1.45}
.gett-catalogset details{margin-left:1.1em}
.gett-catalogset>details{margin-left:0}
.gett-catalogset summary{cursor:pointer}
.gett-catalogset .gett-leaf{margin-left:2.2em}
.gett-catalogset .gett-price{color:#2a7a2a;margin-left:.6em;font-variant-numeric:tabular-nums}
.gett-catalogset .gett-meta{color:#777;margin-left:.6em}
.gett-catalogset .gett-missing{color:#b00}
.gett-catalogset table.gett-availability{border-collapse:collapse;margin:.3em 0 .5em 1.1em}
.gett-catalogset table.gett-availability td,.gett-catalogset table.gett-availability th{
border:1px solid #ccc;padding:1px 6px;text-align:center}
.gett-catalogset .gett-closed{color:#aaa}
</style>"""


def html_tree(cs: Menu) -> str:
    """The menu as nested <details> with an availability table per catalog."""
    walker = _Walker(cs)
    esc = html.escape
    stats = cs.stats
    out = [_HTML_STYLE, '<div class="gett-catalogset">',
           f'<div class="gett-head"><b>CatalogSet</b> <code>{esc(str(cs.catalog_set_id))}</code>'
           f' &middot; store <code>{esc(str(cs.store_id))}</code> &middot; '
           f'{stats["catalogs"]} catalogs, {stats["sections"]} sections, {stats["items"]} items, '
           f'{stats["modifierGroups"]} modifier groups</div>']

    def node(kind: str, entity_id: Any, depth: int) -> None:
        entity = walker.lookup(kind, entity_id)
        label = {"section": "section", "item": "item", "group": "modifier group"}[kind]
        if entity is None:
            out.append(f'<div class="gett-leaf gett-missing">missing {label} '
                       f'{esc(repr(entity_id))}</div>')
            return
        key = (kind, entity_id)
        name = esc(_name_of(entity, entity_id))
        attrs = f'class="gett-{kind}" data-id="{esc(entity_id)}"'
        if key in walker.path:
            out.append(f'<div {attrs} data-cycle="1">{name} <span class="gett-meta">'
                       f'(cycle: already above)</span></div>')
            return
        if kind == "item":
            head = f'{name}<span class="gett-price">{esc(_price_text(entity.get("basePrice")))}</span>'
            children = [("group", g) for g in _as_list(entity.get("modifierGroupIds"))]
        elif kind == "group":
            head = f'{name}<span class="gett-meta">{esc(_limits_text(entity))}</span>'
            children = [("item", i) for i in _as_list(entity.get("itemIds"))]
        else:
            head = name
            children = walker.section_children(entity)
        if not children:
            out.append(f'<div class="gett-{kind} gett-leaf" data-id="{esc(entity_id)}">'
                       f'{head}</div>')
            return
        out.append(f'<details {attrs}><summary>{head}</summary>')
        if depth >= _RENDER_MAX_DEPTH:
            out.append('<div class="gett-leaf gett-meta">deeper levels not shown</div>')
        else:
            walker.path.add(key)
            for child_kind, child_id in children:
                node(child_kind, child_id, depth + 1)
            walker.path.discard(key)
        out.append("</details>")

    for catalog_id, catalog in _as_map(cs.catalogs).items():
        if not isinstance(catalog, dict):
            continue
        out.append(f'<details class="gett-catalog" data-id="{esc(catalog_id)}" open>'
                   f'<summary><b>{esc(_name_of(catalog, catalog_id))}</b>'
                   f'<span class="gett-meta">catalog {esc(catalog_id)}</span></summary>')
        week = _week(catalog)
        out.append('<table class="gett-availability"><tr>'
                   + "".join(f"<th>{day[:3]}</th>" for day in DAYS_OF_WEEK) + "</tr><tr>"
                   + "".join(f"<td>{'<br>'.join(esc(w) for w in week[day])}</td>" if week[day]
                             else '<td class="gett-closed">closed</td>' for day in DAYS_OF_WEEK)
                   + "</tr></table>")
        for sid in _as_list(catalog.get("sectionIds")):
            node("section", sid, 1)
        out.append("</details>")
    out.append("</div>")
    return "\n".join(out)


def report_html(issues: Sequence[Issue]) -> str:
    """The issues as an HTML table (green "valid" line when there are none)."""
    esc = html.escape
    if not issues:
        return ('<div class="gett-report"><b style="color:#2a7a2a">CatalogSet is valid</b>: '
                'no errors, no warnings.</div>')
    n_errors = sum(1 for i in issues if i.severity == "error")
    rows = "".join(
        f'<tr class="gett-{esc(i.severity)}"><td>{esc(i.severity)}</td>'
        f'<td><code>{esc(i.code)}</code></td><td><code>{esc(i.path or "/")}</code></td>'
        f'<td>{esc(i.message)}</td></tr>' for i in issues)
    colour = "#b00" if n_errors else "#a60"
    return (f'<div class="gett-report"><b style="color:{colour}">{n_errors} error(s), '
            f'{len(issues) - n_errors} warning(s)</b>'
            '<table class="gett-issues" style="border-collapse:collapse">'
            '<tr><th>severity</th><th>code</th><th>path</th><th>message</th></tr>'
            f'{rows}</table></div>')
