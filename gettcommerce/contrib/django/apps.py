from __future__ import annotations

from django.apps import AppConfig


class GettCommerceConfig(AppConfig):
    """``INSTALLED_APPS += ["gettcommerce.contrib.django"]``: the table DjangoStore uses."""

    name: str = "gettcommerce.contrib.django"
    label: str = "gettcommerce"
    verbose_name: str = "Gett Commerce webhooks"
