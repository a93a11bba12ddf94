from django.apps import AppConfig


class GettCommerceConfig(AppConfig):
    """``INSTALLED_APPS += ["gettcommerce.contrib.django"]``: the table DjangoStore uses."""

    name = "gettcommerce.contrib.django"
    label = "gettcommerce"
    verbose_name = "Gett Commerce webhooks"
