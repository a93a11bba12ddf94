"""Flask adapter: mount a WebhookApp as a Blueprint.

    from flask import Flask
    from gettcommerce.contrib.flask import blueprint

    flask_app = Flask(__name__)
    flask_app.register_blueprint(blueprint(webhook_app), url_prefix="/gett")
    # Gett's webhookUrl is then https://your.host/gett

The views hand the raw body (``request.get_data()``) to the WebhookApp, so
the signature is checked over exactly the bytes Gett signed.
"""
from __future__ import annotations

from typing import Optional

from flask import Blueprint, Response, request

from ..webhooks import WebhookApp

__all__ = ["blueprint"]


def blueprint(app: WebhookApp, name: str = "gett_webhooks", url_prefix: Optional[str] = None) -> Blueprint:
    """A Blueprint with ``POST /validate`` and ``POST /place`` served by ``app``.

    >>> from flask import Flask
    >>> from gettcommerce.webhooks import WebhookApp
    >>> hooks = WebhookApp("whsec_test", on_validate=lambda o: o.amounts, on_place=lambda o: "P1")
    >>> flask_app = Flask("shop")
    >>> flask_app.register_blueprint(blueprint(hooks, url_prefix="/gett"))
    >>> sorted(r.rule for r in flask_app.url_map.iter_rules() if r.rule.startswith("/gett"))
    ['/gett/place', '/gett/validate']
    """
    if not isinstance(app, WebhookApp):
        raise TypeError(f"blueprint() needs a gettcommerce WebhookApp, not {type(app).__name__}")
    bp = Blueprint(name, __name__, url_prefix=url_prefix)

    def make_view(kind: str):
        def view() -> Response:
            # cache=False: the body is read once, here, and not kept on the request.
            status, headers, body = app.dispatch(kind, request.method, request.headers,
                                                 request.get_data(cache=False), instance=request.path)
            return Response(body, status=status, headers=headers)

        view.__name__ = kind
        return view

    bp.add_url_rule("/validate", "validate", make_view("validate"), methods=["POST"])
    bp.add_url_rule("/place", "place", make_view("place"), methods=["POST"])
    return bp
