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
``too_many_issues``      the last entry when the document has more than
                         1,000 issues: only the first 1,000 are listed, and
                         the message gives the total; an error when errors
                         are among those not listed, else a *warning*
=======================  ==================================================

Optional fields (``description``, ``imageUrl``, the id lists,
``availability``, ``minimumAllowed`` defaulting to 0, ``maximumAllowed``
defaulting to the number of choices) may be absent or ``null``; unknown
fields are ignored.  Paths are JSON Pointers (RFC 6901: ``~`` is written
``~0`` and ``/`` is written ``~1``).

Every rule above lives in the C validator (``csrc/catalog.c``); the
modules here only carry its answers:

- :mod:`.set`: :class:`CatalogSet` (load, build, write out) and
  :func:`validate_catalogset`
- :mod:`.issues`: :class:`CatalogIssue`, :class:`ValidationReport`
- :mod:`.render`: the text and HTML views
- :mod:`.server`: :class:`CatalogServer`, behind :meth:`CatalogSet.serve`
"""
from __future__ import annotations

from .._wire import DAYS_OF_WEEK
from .issues import CatalogIssue, ValidationReport
from .server import CatalogServer
from .set import CatalogSet, validate_catalogset

__all__ = [
    "CatalogIssue",
    "CatalogSet",
    "CatalogServer",
    "ValidationReport",
    "validate_catalogset",
    "DAYS_OF_WEEK",
]
