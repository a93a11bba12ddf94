"""The table behind DjangoStore: one row per placed orderId."""
from django.db import models


class PlacedOrder(models.Model):
    """A place delivery's record: claimed (``running``, with a lease), ``done`` (answer) or ``failed``."""

    order_id = models.CharField(max_length=255, primary_key=True)
    state = models.CharField(max_length=16)
    token = models.CharField(max_length=64, null=True)
    lease_until = models.FloatField(null=True)        # unix time the claim expires
    answer = models.TextField(null=True)              # the JSON answer replayed to retries
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "gettcommerce"

    def __str__(self) -> str:
        return f"{self.order_id} ({self.state})"
