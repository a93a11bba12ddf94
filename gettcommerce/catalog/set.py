"""CatalogSet: load, build, validate (in C), write out and serve a Gett menu.

The builder restates no CatalogSet rule: each ``add_*`` hands the entity it
built to the C validator (:func:`issues.run_validator`), next to stand-ins
for the entities it references, and turns the first error into an
:class:`InvalidRequestError` naming the argument.  What it knows of the
format is only the wire shape it writes: field names, what a minimal
stand-in holds, and the ``maximumAllowed`` default it writes out.
"""
from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import re
import uuid
from decimal import Decimal
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Set, Tuple, Union

from .._wire import DAYS_OF_WEEK, json_default, to_decimal
from ..errors import CatalogValidationError, InvalidRequestError
from .issues import CatalogIssue, ValidationReport, errors_only, run_validator, summary
from .render import html_tree, text_tree
from .server import CatalogServer

__all__ = ["CatalogSet", "validate_catalogset"]

_MAPS = ("catalogs", "sections", "items", "modifierGroups")
_ID_FIELDS = {"catalogs": "catalogId", "sections": "sectionId", "items": "itemId",
              "modifierGroups": "modifierGroupId"}
# The id lists of each kind of entity and the map their ids point into.
_REFERENCES: Dict[str, Tuple[Tuple[str, str], ...]] = {
    "catalogs": (("sectionIds", "sections"),),
    "sections": (("sectionIds", "sections"), ("itemIds", "items")),
    "items": (("modifierGroupIds", "modifierGroups"),),
    "modifierGroups": (("itemIds", "items"),),
}


def validate_catalogset(data: Union[bytes, bytearray, memoryview, str, Mapping[str, Any],
                                    "CatalogSet"]) -> List[CatalogIssue]:
    """Check a CatalogSet against every rule and return all issues found.

    ``data`` is the JSON text (bytes-like or str), a decoded dict, or a
    :class:`CatalogSet`.  An empty list means valid; warnings alone do not
    make a catalog invalid (see :meth:`CatalogSet.check`).  At most 1,000
    issues are listed; past that a last ``too_many_issues`` entry gives the
    total.

    >>> from gettcommerce._samples import sample_catalogset
    >>> validate_catalogset(sample_catalogset().to_json())
    []
    >>> validate_catalogset('{"catalogs": [}')[0].code
    'invalid_json'
    """
    if isinstance(data, CatalogSet):
        data = data._document()
    return run_validator(data)


def _loaded_price(value: Any) -> Any:
    """A loaded wire price as Decimal; anything that is not a finite number
    is kept as given, so the validator can report it."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return value
    return to_decimal(value)


class CatalogSet:
    """A Gett CatalogSet: load it, build it, validate it, see it, serve it.

    Build bottom-up (items, then modifier groups, sections and catalogs):
    every builder method asks the C validator about the entity it is about
    to add, and refuses what the validator calls an error (a bad price,
    time, day or limit, a reference to an id that does not exist yet, an id
    listed twice) with :class:`InvalidRequestError` naming the argument;
    nothing is added then.

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
        self._absent: Set[str] = set()

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
            issues = run_validator(data)
            raise CatalogValidationError(summary(issues), issues) from None
        if not isinstance(doc, dict):
            issues = run_validator(data)
            raise CatalogValidationError(summary(issues), issues)
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
                item["basePrice"] = _loaded_price(item["basePrice"])
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
                              indent=indent, default=json_default,
                              separators=None if indent else (",", ":"))
        except (TypeError, ValueError, ArithmeticError) as exc:
            try:
                issues = self.validate()
            except (TypeError, ValueError):
                issues = []
            raise CatalogValidationError(
                f"CatalogSet cannot be written as JSON ({exc}); "
                + (summary(issues) if errors_only(issues) else "fix the value"),
                issues) from exc
        return text.encode("utf-8")

    # ---- validation --------------------------------------------------

    def validate(self) -> List[CatalogIssue]:
        """Every issue (errors and warnings); ``[]`` means clean."""
        return run_validator(self._document())

    def check(self, *, warnings_as_errors: bool = False) -> List[CatalogIssue]:
        """Raise :class:`CatalogValidationError` (with ``.issues``) when there
        are errors; return the warnings otherwise."""
        issues = self.validate()
        failing = issues if warnings_as_errors else errors_only(issues)
        if failing:
            if warnings_as_errors:
                failing = [CatalogIssue(i.code, "error", i.path, i.message) for i in failing]
            raise CatalogValidationError(summary(failing), issues)
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

    def _table(self, map_name: str) -> Dict[str, Any]:
        return {"catalogs": self.catalogs, "sections": self.sections, "items": self.items,
                "modifierGroups": self.modifier_groups}[map_name]

    def _add(self, map_name: str, entity_id: str, entity: Dict[str, Any],
             args: Mapping[str, Any]) -> None:
        """Add ``entity`` once the C validator finds no error in it.

        The validator sees a fragment: this entity, and the entities it
        references as they stand now (reduced to what makes them valid on
        their own), so a reference resolves exactly when its target exists.
        ``args`` maps wire fields to the arguments as the caller gave them,
        for the refusal's ``value``.
        """
        fragment: Dict[str, Any] = {"catalogSetId": "builder", "storeId": "builder",
                                    "catalogs": {}, "sections": {}, "items": {},
                                    "modifierGroups": {}}
        fragment[map_name][entity_id] = entity
        for field, target in _REFERENCES[map_name]:
            table = self._table(target)
            refs = entity.get(field)
            for ref in refs if isinstance(refs, list) else ():
                if isinstance(ref, str) and ref in table and ref not in fragment[target]:
                    fragment[target][ref] = _stand_in(target, ref)
        try:
            issues = run_validator(fragment)
        except (TypeError, ValueError) as exc:
            # A value JSON cannot carry (an object(), a signaling NaN...).
            field = _unconvertible_field(map_name, entity)
            raise InvalidRequestError(f"{_python_name(field)}: {exc}", field=_python_name(field),
                                      value=args.get(field, entity.get(field))) from None
        errors = errors_only(issues)
        if errors:
            raise _refusal(errors[0], map_name, entity_id, entity, args)
        self._table(map_name)[entity_id] = entity

    def _refuse_duplicate(self, map_name: str, field: str, entity_id: Any) -> None:
        if not isinstance(entity_id, str) or not entity_id:
            raise InvalidRequestError(f"{field} must be a non-empty string, not {entity_id!r}",
                                      field=field, value=entity_id)
        if entity_id in self._table(map_name):
            raise InvalidRequestError(f"{field} {entity_id!r} already exists in this CatalogSet",
                                      field=field, value=entity_id)

    def add_item(self, item_id: str, *, name: str, base_price: Any,
                 description: Optional[str] = None, image_url: Optional[str] = None,
                 modifier_group_ids: Optional[Iterable[str]] = None,
                 **extra: Any) -> None:
        """Add an item (a dish, or a modifier choice).  ``base_price`` is a
        Decimal, int, float or numeric string >= 0, in major units."""
        self._refuse_duplicate("items", "item_id", item_id)
        entity: Dict[str, Any] = {"itemId": item_id, "name": name}
        if description is not None:
            entity["description"] = description
        entity["basePrice"] = to_decimal(base_price, "base_price")
        if image_url is not None:
            entity["imageUrl"] = image_url
        entity["modifierGroupIds"] = _id_list("modifier_group_ids", modifier_group_ids)
        entity.update(extra)
        self._add("items", item_id, entity, {"basePrice": base_price, **extra})

    def add_modifier_group(self, modifier_group_id: str, *, name: str,
                           item_ids: Iterable[str], minimum_allowed: int = 0,
                           maximum_allowed: Optional[int] = None, **extra: Any) -> None:
        """Add a modifier group whose choices (``item_ids``) are existing items.
        ``maximum_allowed`` defaults to the number of choices."""
        self._refuse_duplicate("modifierGroups", "modifier_group_id", modifier_group_id)
        choices = _id_list("item_ids", item_ids)
        # Written out, so the wire shows the limit the validator assumes.
        maximum = len(choices) if maximum_allowed is None else maximum_allowed
        entity = {"modifierGroupId": modifier_group_id, "name": name,
                  "minimumAllowed": minimum_allowed, "maximumAllowed": maximum,
                  "itemIds": choices}
        entity.update(extra)
        given = {"minimumAllowed": minimum_allowed, **extra}
        if maximum_allowed is not None:
            given["maximumAllowed"] = maximum_allowed
        self._add("modifierGroups", modifier_group_id, entity, given)

    def add_section(self, section_id: str, *, name: str, item_ids: Optional[Iterable[str]] = None,
                    section_ids: Optional[Iterable[str]] = None,
                    description: Optional[str] = None, **extra: Any) -> None:
        """Add a section listing existing items and existing sub-sections."""
        self._refuse_duplicate("sections", "section_id", section_id)
        entity: Dict[str, Any] = {"sectionId": section_id, "name": name}
        if description is not None:
            entity["description"] = description
        entity["sectionIds"] = _id_list("section_ids", section_ids)
        entity["itemIds"] = _id_list("item_ids", item_ids)
        entity.update(extra)
        self._add("sections", section_id, entity, extra)

    def add_catalog(self, catalog_id: str, *, name: str, section_ids: Iterable[str],
                    availability: Optional[Iterable[Any]] = None,
                    description: Optional[str] = None, **extra: Any) -> None:
        """Add a catalog (a daypart menu) over existing sections.
        ``availability`` holds ``{"dayOfWeek", "start", "end"}`` dicts or
        ``(day, "HH:mm:ss", "HH:mm:ss")`` tuples; without it the catalog is
        never open."""
        self._refuse_duplicate("catalogs", "catalog_id", catalog_id)
        entity: Dict[str, Any] = {"catalogId": catalog_id, "name": name}
        if description is not None:
            entity["description"] = description
        entity["sectionIds"] = _id_list("section_ids", section_ids)
        entity["availability"] = _windows(availability)
        entity.update(extra)
        self._add("catalogs", catalog_id, entity, extra)

    # ---- rendering ---------------------------------------------------

    def tree(self, *, prices: bool = True) -> str:
        """The menu as an indented plain-text tree, for terminals."""
        return text_tree(self, prices=prices)

    def _repr_html_(self) -> str:
        return html_tree(self)

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


# ---------------------------------------------------------------------------
# builder helpers: argument shapes in, validator issues out


def _id_list(field: str, values: Optional[Iterable[Any]]) -> List[Any]:
    """An id-list argument as a list (the validator checks its elements)."""
    if values is None:
        return []
    if isinstance(values, (str, bytes)):
        raise InvalidRequestError(f"{field} must be a list of ids, not a single string {values!r}",
                                  field=field, value=values)
    try:
        return list(values)
    except TypeError:
        raise InvalidRequestError(f"{field} must be a list of ids, not {values!r}",
                                  field=field, value=values) from None


def _windows(availability: Optional[Iterable[Any]]) -> List[Dict[str, Any]]:
    """Availability windows as wire dicts, from dicts or (day, start, end)
    tuples; the validator checks the day, the times and their order."""
    if availability is None:
        return []
    windows = []
    for index, window in enumerate(availability):
        if isinstance(window, Mapping):
            windows.append({key: window[key] for key in ("dayOfWeek", "start", "end")
                            if key in window})
        elif isinstance(window, (tuple, list)) and len(window) == 3:
            windows.append(dict(zip(("dayOfWeek", "start", "end"), window)))
        else:
            raise InvalidRequestError(
                f"availability[{index}] must be a dict {{dayOfWeek, start, end}} or a "
                f"(day, start, end) tuple, not {window!r}", field="availability", value=window)
    return windows


def _stand_in(map_name: str, entity_id: str) -> Dict[str, Any]:
    """An existing entity as the fragment shows it: its id, name and price
    only, so it is valid on its own and its own references stay out."""
    entity: Dict[str, Any] = {_ID_FIELDS[map_name]: entity_id, "name": entity_id}
    if map_name == "items":
        entity["basePrice"] = 0
    return entity


def _python_name(wire_field: str) -> str:
    """basePrice -> base_price: the builder argument for a wire field."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", wire_field).lower()


def _pointer_token(text: str) -> str:
    return text.replace("~", "~0").replace("/", "~1")


def _unconvertible_field(map_name: str, entity: Mapping[str, Any]) -> str:
    """The first field of ``entity`` the validator cannot take as JSON."""
    for field, value in entity.items():
        try:
            run_validator({field: value})
        except (TypeError, ValueError):
            return field
    return _ID_FIELDS[map_name]


def _refusal(issue: CatalogIssue, map_name: str, entity_id: str, entity: Mapping[str, Any],
             args: Mapping[str, Any]) -> InvalidRequestError:
    """The validator's first error about a new entity, as the builder's
    exception: the argument it concerns, the offending value, the message."""
    prefix = f"/{map_name}/{_pointer_token(entity_id)}/"
    tokens = issue.path[len(prefix):].split("/") if issue.path.startswith(prefix) else []
    field = tokens[0] if tokens else _ID_FIELDS[map_name]
    value: Any = args.get(field, entity.get(field)) if len(tokens) <= 1 else entity.get(field)
    for token in tokens[1:]:
        if isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        elif isinstance(value, dict):
            value = value.get(token.replace("~1", "/").replace("~0", "~"))
    where = _python_name(field) + "".join(f"[{t}]" if t.isdigit() else f".{t}"
                                          for t in tokens[1:])
    message = f"{where}: {issue.message}"
    if issue.code == "dangling_reference":
        message += ("; it does not exist yet: add it first (build bottom-up: items, modifier "
                    "groups, sections, catalogs)")
    elif issue.code == "overnight_window" and len(tokens) >= 2:
        window = entity["availability"][int(tokens[1])]
        day, start, end = window.get("dayOfWeek"), window.get("start"), window.get("end")
        if isinstance(day, str) and day in DAYS_OF_WEEK:
            following = DAYS_OF_WEEK[(DAYS_OF_WEEK.index(day) + 1) % 7]
            message += (f"; as builder tuples: ({day!r}, {start!r}, '00:00:00') and "
                        f"({following!r}, '00:00:00', {end!r})")
    return InvalidRequestError(message, field=_python_name(field), value=value)
