"""CatalogSet: load, build, validate (in C), render and serve a Gett menu.

A CatalogSet is the normalized menu a partner hosts and Gett pulls: flat maps
``catalogs``, ``sections``, ``items`` and ``modifierGroups`` from id to
entity, linked by id lists.  :func:`validate_catalogset` runs the C validator
of ``gettcommerce._core`` (the same code the sandbox's ingestion runs) and
returns every issue, not just the first::

    >>> import gettcommerce as gett
    >>> issues = gett.validate_catalogset(b'{"catalogs": {}}')
    >>> [(i.code, i.path) for i in issues][:2]
    [('missing_field', '/sections'), ('missing_field', '/items')]

Issue codes (``severity`` is ``"error"`` unless marked *warning*):

=======================  ==================================================
code                     meaning
=======================  ==================================================
``invalid_json``         not JSON; path ``""``, message gives the byte offset
``wrong_type``           a value has the wrong JSON type (top level not an
                         object, a map not an object, an id not a string...)
``missing_field``        a required field is absent: ``catalogSetId``,
                         ``storeId``, the four maps, each entity's id and
                         ``name``, an item's ``basePrice``, a window's
                         ``dayOfWeek``/``start``/``end``
``key_mismatch``         a map key differs from the entity's own id field
``dangling_reference``   an id list names an entity that does not exist;
                         path is the list element, e.g.
                         ``/sections/s1/itemIds/2``
``duplicate_id``         the same id twice in one list (path: the later
                         element), or a map key repeated in the JSON text
``section_cycle``        sections nest in a loop; path is the edge closing it
``modifier_cycle``       item -> modifier group -> ... -> the same item
``invalid_day_of_week``  ``dayOfWeek`` not one of Sunday ... Saturday
``invalid_time``         ``start``/``end`` not ``HH:mm:ss`` (00-23:00-59:00-59)
``overnight_window``     ``end`` before ``start`` (``end`` ``00:00:00`` means
                         end of day); split it at midnight
``invalid_min_max``      ``minimumAllowed``/``maximumAllowed`` not a whole
                         number >= 0, or maximum < minimum
``min_exceeds_choices``  ``minimumAllowed`` > the number of distinct choices
``invalid_price``        ``basePrice`` not a number, negative or non-finite
``unreachable``          *warning*: no catalog leads to this entity
``never_open``           *warning*: a catalog's availability is missing,
                         null or empty (fail-closed: never open)
=======================  ==================================================

Optional fields (``description``, ``imageUrl``, the id lists,
``availability``, ``minimumAllowed`` defaulting to 0, ``maximumAllowed``
defaulting to the number of choices) may be absent or ``null``; unknown
fields are ignored.  Paths are JSON Pointers (RFC 6901: ``~`` is written
``~0`` and ``/`` is written ``~1``).
"""
from __future__ import annotations

import contextlib
import copy
import decimal
import html
import http.server
import json
import math
import os
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Union

from . import _core
from .errors import CatalogValidationError, InvalidRequestError

__all__ = [
    "CatalogIssue",
    "CatalogSet",
    "CatalogServer",
    "ValidationReport",
    "validate_catalogset",
    "DAYS_OF_WEEK",
]

DAYS_OF_WEEK = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")

_MAPS = ("catalogs", "sections", "items", "modifierGroups")
_ID_FIELDS = {"catalogs": "catalogId", "sections": "sectionId", "items": "itemId",
              "modifierGroups": "modifierGroupId"}


@dataclass(frozen=True)
class CatalogIssue:
    """One problem found in a CatalogSet.

    ``code`` is one of the codes in this module's docstring, ``severity``
    ``"error"`` or ``"warning"``, ``path`` a JSON Pointer into the
    document and ``message`` says which id is at fault and what to do.
    """

    code: str
    severity: str
    path: str
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> Dict[str, str]:
        return {"code": self.code, "severity": self.severity, "path": self.path,
                "message": self.message}

    def __str__(self) -> str:
        return f"{self.severity} {self.code} at {self.path or '/'}: {self.message}"

    def __repr__(self) -> str:
        return (f"CatalogIssue({self.code!r}, {self.severity!r}, path={self.path!r}, "
                f"message={self.message!r})")


def validate_catalogset(data: Union[bytes, bytearray, memoryview, str, Mapping[str, Any],
                                    "CatalogSet"]) -> List[CatalogIssue]:
    """Check a CatalogSet against every rule and return all issues found.

    ``data`` is the JSON text (bytes-like or str), a decoded dict, or a
    :class:`CatalogSet`.  An empty list means valid; warnings alone do not
    make a catalog invalid (see :meth:`CatalogSet.check`).

    >>> from gettcommerce._samples import sample_catalogset
    >>> validate_catalogset(sample_catalogset().to_json())
    []
    >>> validate_catalogset('{"catalogs": [}')[0].code
    'invalid_json'
    """
    if isinstance(data, CatalogSet):
        data = data._document()
    elif isinstance(data, Mapping) and not isinstance(data, dict):
        data = dict(data)
    try:
        raw = _core.validate_catalogset(data)
    except TypeError as exc:
        if isinstance(data, (bytes, bytearray, memoryview, str, dict)):
            raise
        raise TypeError(
            "validate_catalogset: data must be bytes, str, dict or CatalogSet, "
            f"not {type(data).__name__}") from exc
    return [CatalogIssue(*t) for t in raw]


def _errors_only(issues: Iterable[CatalogIssue]) -> List[CatalogIssue]:
    return [i for i in issues if i.severity == "error"]


def _summary(issues: Sequence[CatalogIssue], limit: int = 5) -> str:
    errors = _errors_only(issues)
    head = "; ".join(f"{i.code} at {i.path or '/'}: {i.message}" for i in errors[:limit])
    more = f" (and {len(errors) - limit} more)" if len(errors) > limit else ""
    noun = "error" if len(errors) == 1 else "errors"
    return f"CatalogSet has {len(errors)} {noun}: {head}{more}"


# ---------------------------------------------------------------------------
# money: Decimal in Python, a JSON number on the wire


def _to_decimal(value: Any) -> Any:
    """A wire price as Decimal; anything that is not a finite number is kept
    as given, so the validator can report it."""
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return value
        return decimal.Decimal(repr(value))
    return decimal.Decimal(value)


def _price_arg(value: Any) -> decimal.Decimal:
    """A builder price: Decimal, int, float or numeric str -> finite Decimal >= 0."""
    if isinstance(value, bool):
        raise InvalidRequestError(f"base_price must be a number, not {value!r}",
                                  field="base_price", value=value)
    try:
        if isinstance(value, float):
            price = decimal.Decimal(repr(value))
        elif isinstance(value, (int, decimal.Decimal, str)):
            price = decimal.Decimal(value)
        else:
            raise TypeError
    except (TypeError, decimal.InvalidOperation):
        raise InvalidRequestError(
            f"base_price must be a number such as Decimal('4.50'), not {value!r}",
            field="base_price", value=value) from None
    if not price.is_finite() or price < 0:
        raise InvalidRequestError(f"base_price must be a finite number >= 0, not {value!r}",
                                  field="base_price", value=value)
    return price


def _json_default(value: Any) -> Any:
    """Decimal prices go out as JSON numbers: an int when whole, else the
    float nearest to the Decimal (exact for any price with <= 15 digits)."""
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"a CatalogSet holds only JSON values, not {type(value).__name__} {value!r}")


# ---------------------------------------------------------------------------
# CatalogSet


def _check_id(field: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRequestError(f"{field} must be a non-empty string, not {value!r}",
                                  field=field, value=value)
    return value


def _id_list(field: str, values: Optional[Iterable[Any]]) -> List[str]:
    if values is None:
        return []
    if isinstance(values, (str, bytes)):
        raise InvalidRequestError(f"{field} must be a list of ids, not a single string {values!r}",
                                  field=field, value=values)
    out = []
    for index, value in enumerate(values):
        if not isinstance(value, str) or not value:
            raise InvalidRequestError(
                f"{field}[{index}] must be a non-empty string id, not {value!r}",
                field=field, value=value)
        if value in out:
            raise InvalidRequestError(f"{field} lists {value!r} twice", field=field, value=value)
        out.append(value)
    return out


def _availability_arg(availability: Optional[Iterable[Any]]) -> List[Dict[str, str]]:
    """Windows as dicts or (dayOfWeek, start, end) tuples; checked like the
    validator would, so a bad window is refused where it is written."""
    if availability is None:
        return []
    windows = []
    for index, window in enumerate(availability):
        if isinstance(window, Mapping):
            day, start, end = window.get("dayOfWeek"), window.get("start"), window.get("end")
        elif isinstance(window, (tuple, list)) and len(window) == 3:
            day, start, end = window
        else:
            raise InvalidRequestError(
                f"availability[{index}] must be a dict {{dayOfWeek, start, end}} or a "
                f"(day, start, end) tuple, not {window!r}", field="availability", value=window)
        if day not in DAYS_OF_WEEK:
            raise InvalidRequestError(
                f"availability[{index}].dayOfWeek must be one of {', '.join(DAYS_OF_WEEK)}, "
                f"not {day!r}", field="availability", value=day)
        parsed = []
        for name, value in (("start", start), ("end", end)):
            seconds = _parse_time(value)
            if seconds is None:
                raise InvalidRequestError(
                    f"availability[{index}].{name} must be 'HH:mm:ss', not {value!r}",
                    field="availability", value=value)
            parsed.append(seconds)
        if parsed[1] != 0 and parsed[1] < parsed[0]:
            nxt = DAYS_OF_WEEK[(DAYS_OF_WEEK.index(day) + 1) % 7]
            raise InvalidRequestError(
                f"availability[{index}] {day} {start}-{end} crosses midnight; split it into "
                f"({day!r}, {start!r}, '00:00:00') and ({nxt!r}, '00:00:00', {end!r})",
                field="availability", value=window)
        windows.append({"dayOfWeek": day, "start": start, "end": end})
    return windows


def _parse_time(value: Any) -> Optional[int]:
    if not isinstance(value, str) or len(value) != 8 or value[2] != ":" or value[5] != ":":
        return None
    parts = value.split(":")
    if not all(p.isdigit() and p.isascii() for p in parts):
        return None
    h, m, s = (int(p) for p in parts)
    if h > 23 or m > 59 or s > 59:
        return None
    return h * 3600 + m * 60 + s


class CatalogSet:
    """A Gett CatalogSet: load it, build it, validate it, see it, serve it.

    Build bottom-up (items, then modifier groups, sections and catalogs):
    every builder method refuses a reference to an id that does not exist
    yet, and a duplicate id, with :class:`InvalidRequestError`.

    >>> cs = CatalogSet(store_id="store-1")
    >>> cs.add_item("fries", name="Fries", base_price="2.50")
    >>> cs.add_modifier_group("sides", name="Side", item_ids=["fries"], maximum_allowed=1)
    >>> cs.add_item("burger", name="Burger", base_price="9.00", modifier_group_ids=["sides"])
    >>> cs.add_section("mains", name="Mains", item_ids=["burger"])
    >>> cs.add_catalog("all-day", name="All Day", section_ids=["mains"],
    ...                availability=[(d, "00:00:00", "00:00:00") for d in DAYS_OF_WEEK])
    >>> cs.validate()
    []
    >>> cs.stats
    {'catalogs': 1, 'sections': 1, 'items': 2, 'modifierGroups': 1}
    >>> cs.items["fries"]["basePrice"]
    Decimal('2.50')

    The entity maps (``catalogs``, ``sections``, ``items``,
    ``modifier_groups``) are plain dicts in wire form (camelCase keys),
    except that ``basePrice`` is a :class:`decimal.Decimal`.
    """

    def __init__(self, store_id: Optional[str] = None, *,
                 catalog_set_id: Optional[str] = None) -> None:
        if store_id is not None and not isinstance(store_id, str):
            raise InvalidRequestError(f"store_id must be a string, not {store_id!r}",
                                      field="store_id", value=store_id)
        self.store_id = store_id
        self.catalog_set_id = catalog_set_id if catalog_set_id is not None else str(uuid.uuid4())
        self.catalogs: Dict[str, Dict[str, Any]] = {}
        self.sections: Dict[str, Dict[str, Any]] = {}
        self.items: Dict[str, Dict[str, Any]] = {}
        self.modifier_groups: Dict[str, Dict[str, Any]] = {}
        self._extra: Dict[str, Any] = {}
        self._absent: set = set()

    # ---- loading -----------------------------------------------------

    @classmethod
    def from_json(cls, data: Union[bytes, bytearray, memoryview, str]) -> "CatalogSet":
        """Load a CatalogSet from JSON text.  Nothing is validated here (call
        :meth:`validate` or :meth:`check`); the text only has to be a JSON
        object, else :class:`CatalogValidationError` carries the issue."""
        if isinstance(data, (bytearray, memoryview)):
            data = bytes(data)
        if not isinstance(data, (bytes, str)):
            raise TypeError(f"CatalogSet.from_json: data must be bytes or str, not "
                            f"{type(data).__name__}")
        try:
            doc = json.loads(data)
        except ValueError:
            issues = validate_catalogset(data)
            raise CatalogValidationError(_summary(issues), issues) from None
        if not isinstance(doc, dict):
            issues = validate_catalogset(data)
            raise CatalogValidationError(_summary(issues), issues)
        return cls.from_dict(doc)

    @classmethod
    def from_file(cls, path: Union[str, "os.PathLike[str]"]) -> "CatalogSet":
        """Load a CatalogSet from a JSON file."""
        with open(path, "rb") as fh:
            return cls.from_json(fh.read())

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> "CatalogSet":
        """Wrap a decoded CatalogSet (deep-copied; prices become Decimal)."""
        if not isinstance(doc, Mapping):
            raise TypeError(f"CatalogSet.from_dict: doc must be a dict, not {type(doc).__name__}")
        data: Dict[str, Any] = copy.deepcopy(dict(doc))
        self = cls.__new__(cls)
        # None stands for "absent", so validate() still reports it missing.
        self.store_id = data.pop("storeId", None)
        self.catalog_set_id = data.pop("catalogSetId", None)
        # A missing map is loaded as {} for the builder, but stays absent on
        # the wire (and in validation) until something is added to it.
        self._absent = {name for name in _MAPS if name not in data}
        maps = {name: data.pop(name, {}) for name in _MAPS}
        for item in maps["items"].values() if isinstance(maps["items"], dict) else ():
            if isinstance(item, dict) and "basePrice" in item:
                item["basePrice"] = _to_decimal(item["basePrice"])
        self.catalogs = maps["catalogs"]
        self.sections = maps["sections"]
        self.items = maps["items"]
        self.modifier_groups = maps["modifierGroups"]
        self._extra = data
        return self

    # ---- output ------------------------------------------------------

    def to_dict(self) -> Dict[str, Any]:
        """The document in wire form (a deep copy); prices stay Decimal."""
        return copy.deepcopy(self._document())

    def _document(self) -> Dict[str, Any]:
        """The top-level dict over the live maps (no copy)."""
        doc: Dict[str, Any] = {}
        if self.catalog_set_id is not None:
            doc["catalogSetId"] = self.catalog_set_id
        if self.store_id is not None:
            doc["storeId"] = self.store_id
        doc.update(self._extra)
        for name, table in (("catalogs", self.catalogs), ("sections", self.sections),
                            ("items", self.items), ("modifierGroups", self.modifier_groups)):
            if not (name in self._absent and not table):
                doc[name] = table
        return doc

    def to_json(self, *, indent: Optional[int] = None) -> bytes:
        """UTF-8 JSON bytes; Decimal prices become JSON numbers.

        Raises :class:`CatalogValidationError` if a price is NaN or infinite
        (JSON cannot carry it) or a value is not JSON at all."""
        try:
            text = json.dumps(self._document(), ensure_ascii=False, allow_nan=False,
                              indent=indent, default=_json_default,
                              separators=None if indent else (",", ":"))
        except (TypeError, ValueError) as exc:
            try:
                issues = self.validate()
            except (TypeError, ValueError):
                issues = []
            raise CatalogValidationError(
                f"CatalogSet cannot be written as JSON ({exc}); "
                + (_summary(issues) if _errors_only(issues) else "fix the value"),
                issues) from exc
        return text.encode("utf-8")

    # ---- validation --------------------------------------------------

    def validate(self) -> List[CatalogIssue]:
        """Every issue (errors and warnings); ``[]`` means clean."""
        return validate_catalogset(self._document())

    def check(self, *, warnings_as_errors: bool = False) -> List[CatalogIssue]:
        """Raise :class:`CatalogValidationError` (with ``.issues``) when there
        are errors; return the warnings otherwise."""
        issues = self.validate()
        failing = issues if warnings_as_errors else _errors_only(issues)
        if failing:
            if warnings_as_errors:
                failing = [CatalogIssue(i.code, "error", i.path, i.message) for i in failing]
            raise CatalogValidationError(_summary(failing), issues)
        return issues

    def validation_report(self) -> "ValidationReport":
        """The issues as an object that renders as an HTML table in Jupyter."""
        return ValidationReport(self.validate())

    @property
    def stats(self) -> Dict[str, int]:
        """How many of each entity the set holds."""
        # A loaded document may hold a non-object map (validate() reports it).
        def count(table: Any) -> int:
            return len(table) if isinstance(table, dict) else 0
        return {"catalogs": count(self.catalogs), "sections": count(self.sections),
                "items": count(self.items), "modifierGroups": count(self.modifier_groups)}

    # ---- builder -----------------------------------------------------

    def _refuse_duplicate(self, table: Dict[str, Any], field: str, entity_id: str) -> None:
        if entity_id in table:
            raise InvalidRequestError(f"{field} {entity_id!r} already exists in this CatalogSet",
                                      field=field, value=entity_id)

    @staticmethod
    def _refuse_dangling(field: str, ids: List[str], table: Dict[str, Any], what: str) -> None:
        for index, ref in enumerate(ids):
            if ref not in table:
                raise InvalidRequestError(
                    f"{field}[{index}] refers to {what} {ref!r}, which does not exist yet; "
                    f"add the {what} first (build bottom-up: items, modifier groups, "
                    f"sections, catalogs)", field=field, value=ref)

    def add_item(self, item_id: str, *, name: str, base_price: Any,
                 description: Optional[str] = None, image_url: Optional[str] = None,
                 modifier_group_ids: Optional[Iterable[str]] = None,
                 **extra: Any) -> None:
        """Add an item (a dish, or a modifier choice).  ``base_price`` is a
        Decimal, int, float or numeric string >= 0, in major units."""
        _check_id("item_id", item_id)
        self._refuse_duplicate(self.items, "item_id", item_id)
        _check_id("name", name)
        price = _price_arg(base_price)
        groups = _id_list("modifier_group_ids", modifier_group_ids)
        self._refuse_dangling("modifier_group_ids", groups, self.modifier_groups, "modifier group")
        entity: Dict[str, Any] = {"itemId": item_id, "name": name}
        if description is not None:
            entity["description"] = _optional_str("description", description)
        entity["basePrice"] = price
        if image_url is not None:
            entity["imageUrl"] = _optional_str("image_url", image_url)
        entity["modifierGroupIds"] = groups
        entity.update(extra)
        self.items[item_id] = entity

    def add_modifier_group(self, modifier_group_id: str, *, name: str,
                           item_ids: Iterable[str], minimum_allowed: int = 0,
                           maximum_allowed: Optional[int] = None, **extra: Any) -> None:
        """Add a modifier group whose choices (``item_ids``) are existing items.
        ``maximum_allowed`` defaults to the number of choices."""
        _check_id("modifier_group_id", modifier_group_id)
        self._refuse_duplicate(self.modifier_groups, "modifier_group_id", modifier_group_id)
        _check_id("name", name)
        choices = _id_list("item_ids", item_ids)
        self._refuse_dangling("item_ids", choices, self.items, "item")
        minimum = _limit_arg("minimum_allowed", minimum_allowed)
        maximum = len(choices) if maximum_allowed is None else _limit_arg("maximum_allowed",
                                                                         maximum_allowed)
        if maximum < minimum:
            raise InvalidRequestError(
                f"maximum_allowed ({maximum}) must be >= minimum_allowed ({minimum})",
                field="maximum_allowed", value=maximum_allowed)
        if minimum > len(choices):
            raise InvalidRequestError(
                f"minimum_allowed ({minimum}) exceeds the {len(choices)} choices in item_ids",
                field="minimum_allowed", value=minimum_allowed)
        entity = {"modifierGroupId": modifier_group_id, "name": name,
                  "minimumAllowed": minimum, "maximumAllowed": maximum, "itemIds": choices}
        entity.update(extra)
        self.modifier_groups[modifier_group_id] = entity

    def add_section(self, section_id: str, *, name: str, item_ids: Optional[Iterable[str]] = None,
                    section_ids: Optional[Iterable[str]] = None,
                    description: Optional[str] = None, **extra: Any) -> None:
        """Add a section listing existing items and existing sub-sections."""
        _check_id("section_id", section_id)
        self._refuse_duplicate(self.sections, "section_id", section_id)
        _check_id("name", name)
        items = _id_list("item_ids", item_ids)
        subs = _id_list("section_ids", section_ids)
        self._refuse_dangling("item_ids", items, self.items, "item")
        self._refuse_dangling("section_ids", subs, self.sections, "section")
        entity: Dict[str, Any] = {"sectionId": section_id, "name": name}
        if description is not None:
            entity["description"] = _optional_str("description", description)
        entity["sectionIds"] = subs
        entity["itemIds"] = items
        entity.update(extra)
        self.sections[section_id] = entity

    def add_catalog(self, catalog_id: str, *, name: str, section_ids: Iterable[str],
                    availability: Optional[Iterable[Any]] = None,
                    description: Optional[str] = None, **extra: Any) -> None:
        """Add a catalog (a daypart menu) over existing sections.
        ``availability`` holds ``{"dayOfWeek", "start", "end"}`` dicts or
        ``(day, "HH:mm:ss", "HH:mm:ss")`` tuples; without it the catalog is
        never open."""
        _check_id("catalog_id", catalog_id)
        self._refuse_duplicate(self.catalogs, "catalog_id", catalog_id)
        _check_id("name", name)
        subs = _id_list("section_ids", section_ids)
        self._refuse_dangling("section_ids", subs, self.sections, "section")
        entity: Dict[str, Any] = {"catalogId": catalog_id, "name": name}
        if description is not None:
            entity["description"] = _optional_str("description", description)
        entity["sectionIds"] = subs
        entity["availability"] = _availability_arg(availability)
        entity.update(extra)
        self.catalogs[catalog_id] = entity

    # ---- rendering ---------------------------------------------------

    def tree(self, *, prices: bool = True) -> str:
        """The menu as an indented plain-text tree, for terminals."""
        return _render_text(self, prices=prices)

    def _repr_html_(self) -> str:
        return _render_html(self)

    def __repr__(self) -> str:
        s = self.stats
        return (f"<CatalogSet {self.catalog_set_id!r} store={self.store_id!r} "
                f"catalogs={s['catalogs']} sections={s['sections']} items={s['items']} "
                f"modifierGroups={s['modifierGroups']}>")

    # ---- hosting -----------------------------------------------------

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator["CatalogServer"]:
        """Serve this CatalogSet's JSON over HTTP (development only).

        Yields a :class:`CatalogServer`: ``.url`` (also its ``str()``) is the
        address to give Gett as ``callbackUrl``.  Every GET serves the
        *current* state of this CatalogSet, so edits show up on the next
        pull; ``server.update(other)`` swaps in a different CatalogSet.

        >>> import urllib.request
        >>> from gettcommerce._samples import sample_catalogset
        >>> cs = sample_catalogset()
        >>> with cs.serve() as server:
        ...     body = urllib.request.urlopen(server.url).read()
        >>> body == cs.to_json()
        True
        """
        server = CatalogServer(self, host, port)
        try:
            yield server
        finally:
            server.close()


def _optional_str(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidRequestError(f"{field} must be a string, not {value!r}", field=field,
                                  value=value)
    return value


def _limit_arg(field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequestError(f"{field} must be an int >= 0, not {value!r}", field=field,
                                  value=value)
    return value


class ValidationReport:
    """Issues of a CatalogSet, printable and rendered as an HTML table in Jupyter."""

    def __init__(self, issues: Sequence[CatalogIssue]) -> None:
        self.issues = list(issues)

    @property
    def errors(self) -> List[CatalogIssue]:
        return _errors_only(self.issues)

    @property
    def warnings(self) -> List[CatalogIssue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def __len__(self) -> int:
        return len(self.issues)

    def __iter__(self) -> Iterator[CatalogIssue]:
        return iter(self.issues)

    def __str__(self) -> str:
        head = (f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
                if self.issues else "no issues")
        return "\n".join([head] + [str(i) for i in self.issues])

    def __repr__(self) -> str:
        return f"<ValidationReport errors={len(self.errors)} warnings={len(self.warnings)}>"

    def _repr_html_(self) -> str:
        return _render_report_html(self)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: "_HTTPServer"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        status = 200
        try:
            body = self.server.catalog_server.current_json()
        except CatalogValidationError as exc:
            # The menu cannot be written as JSON (e.g. a NaN price): answer
            # like a broken origin would, with the reason, not a dropped socket.
            status = 500
            body = json.dumps({"error": str(exc)}).encode()
        # Counted before the answer goes out, so a client that has its
        # response always sees its own hit.
        self.server.catalog_server._count_hit()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self) -> None:  # noqa: N802
        try:
            body = self.server.catalog_server.current_json()
        except CatalogValidationError:
            self.send_response(500)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # a dev helper should not write to stderr on every pull


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    catalog_server: "CatalogServer"


class CatalogServer:
    """A running :meth:`CatalogSet.serve` server.

    ``url`` is ``http://host:port/catalog.json``; ``str(server)`` is the
    URL too.  ``update(catalogset)`` changes what later GETs return;
    ``hits`` counts the GETs served.
    """

    def __init__(self, catalogset: CatalogSet, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._catalogset = catalogset
        self.hits = 0
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.catalog_server = self
        bound_host, bound_port = self._httpd.server_address[:2]
        if isinstance(bound_host, bytes):
            bound_host = bound_host.decode()
        shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
        self.url = f"http://{shown}:{bound_port}/catalog.json"
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        name="gettcommerce-catalog-server", daemon=True)
        self._thread.start()

    def update(self, catalogset: CatalogSet) -> None:
        """Serve ``catalogset`` from now on."""
        if not isinstance(catalogset, CatalogSet):
            raise TypeError(f"update() needs a CatalogSet, not {type(catalogset).__name__}")
        with self._lock:
            self._catalogset = catalogset

    def current_json(self) -> bytes:
        with self._lock:
            catalogset = self._catalogset
        return catalogset.to_json()

    def _count_hit(self) -> None:
        with self._lock:
            self.hits += 1

    def close(self) -> None:
        """Stop serving (idempotent)."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join()
            self._httpd = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"<CatalogServer {self.url}>"

    def __enter__(self) -> "CatalogServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# ---------------------------------------------------------------------------
# rendering: plain text for terminals, collapsible HTML for Jupyter

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
    short = lambda t: t[:5] if isinstance(t, str) and t.endswith(":00") else str(t)  # noqa: E731
    return f"{short(start)}-{'24:00' if end == '00:00:00' else short(end)}"


def _week(catalog: Dict[str, Any]) -> Dict[str, List[str]]:
    week: Dict[str, List[str]] = {day: [] for day in DAYS_OF_WEEK}
    for window in _as_list(catalog.get("availability")):
        if isinstance(window, dict) and window.get("dayOfWeek") in week:
            week[window["dayOfWeek"]].append(_hours_text(window))
    return week


class _Walker:
    """Walks catalog -> sections -> items -> groups -> choices, guarding
    against cycles (an id already on the current path) and missing ids."""

    def __init__(self, cs: CatalogSet) -> None:
        self.sections = _as_map(cs.sections)
        self.items = _as_map(cs.items)
        self.groups = _as_map(cs.modifier_groups)
        self.path: set = set()

    def section_children(self, section: Dict[str, Any]) -> List[tuple]:
        out = [("section", sid) for sid in _as_list(section.get("sectionIds"))]
        out += [("item", iid) for iid in _as_list(section.get("itemIds"))]
        return out

    def lookup(self, kind: str, entity_id: Any) -> Optional[Dict[str, Any]]:
        table = {"section": self.sections, "item": self.items, "group": self.groups}[kind]
        entity = table.get(entity_id) if isinstance(entity_id, str) else None
        return entity if isinstance(entity, dict) else None


def _render_text(cs: CatalogSet, *, prices: bool = True) -> str:
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


def _render_html(cs: CatalogSet) -> str:
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


def _render_report_html(report: ValidationReport) -> str:
    esc = html.escape
    if not report.issues:
        return ('<div class="gett-report"><b style="color:#2a7a2a">CatalogSet is valid</b>: '
                'no errors, no warnings.</div>')
    rows = "".join(
        f'<tr class="gett-{esc(i.severity)}"><td>{esc(i.severity)}</td>'
        f'<td><code>{esc(i.code)}</code></td><td><code>{esc(i.path or "/")}</code></td>'
        f'<td>{esc(i.message)}</td></tr>' for i in report.issues)
    colour = "#b00" if report.errors else "#a60"
    return (f'<div class="gett-report"><b style="color:{colour}">{len(report.errors)} error(s), '
            f'{len(report.warnings)} warning(s)</b>'
            '<table class="gett-issues" style="border-collapse:collapse">'
            '<tr><th>severity</th><th>code</th><th>path</th><th>message</th></tr>'
            f'{rows}</table></div>')
