"""The table behind DjangoStore: one row per placed orderId.

The field annotations are django-stubs' (``Field[set type, get type]``);
they are never evaluated at run time.
"""
from __future__ import annotations

import datetime as _dt
from typing import Optional

from django.db import models


class PlacedOrder(models.Model):
    """A place delivery's record: claimed (``running``, with a lease), ``done`` (answer) or ``failed``."""

    order_id: models.CharField[str, str] = models.CharField(max_length=255, primary_key=True)
    state: models.CharField[str, str] = models.CharField(max_length=16)
    token: models.CharField[Optional[str], Optional[str]] = models.CharField(max_length=64, null=True)
    # unix time the claim expires
    lease_until: models.FloatField[Optional[float], Optional[float]] = models.FloatField(null=True)
    # the JSON answer replayed to retries
    answer: models.TextField[Optional[str], Optional[str]] = models.TextField(null=True)
    updated_at: models.DateTimeField[_dt.datetime, _dt.datetime] = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "gettcommerce"

    def __str__(self) -> str:
        return f"{self.order_id} ({self.state})"
