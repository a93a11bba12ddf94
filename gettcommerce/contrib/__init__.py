"""Thin adapters of gettcommerce.WebhookApp for web frameworks (flask, django)."""
