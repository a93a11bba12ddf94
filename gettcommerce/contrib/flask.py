"""Flask adapter: mount a WebhookApp as a Blueprint.

    from flask import Flask
    from gettcommerce.contrib.flask import blueprint

    flask_app = Flask(__name__)
    flask_app.register_blueprint(blueprint(webhook_app), url_prefix="/gett")
    # Gett's webhookUrl is then https://your.host/gett

The views hand the raw body to the WebhookApp, so the signature is checked
over exactly the bytes Gett signed.  A body over ``max_body_bytes`` is
refused by its Content-Length before it is read (a chunked one once it
passes the limit), and any method but POST gets the 405 problem+json.
"""
from __future__ import annotations

from typing import Optional

from flask import Blueprint, Response, request

from ..webhooks import WebhookApp
from ..webhooks.app import Response as Response_
from ..webhooks.app import read_capped

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
            status, headers, body = _answer(app, kind)
            return Response(body, status=status, headers=headers)

        view.__name__ = kind
        return view

    # Every method reaches the view, so a GET gets the app's 405 problem+json, not Flask's HTML page.
    for kind in ("validate", "place"):
        bp.add_url_rule("/" + kind, kind, make_view(kind), methods=_METHODS, provide_automatic_options=False)
    return bp


_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _answer(app: WebhookApp, kind: str) -> Response_:
    instance = request.path
    # Refuse by method and Content-Length before reading a byte; a chunked
    # body is read from the stream and abandoned once it passes the limit.
    length_text = request.headers.get("Content-Length")
    refused = app.refuse_before_body(request.method, length_text, instance)
    if refused is not None:
        return refused
    # Without a Content-Length werkzeug's stream is the server-terminated (chunked) body, or empty.
    length = int(length_text) if length_text else None
    body = read_capped(request.stream.read, app.max_body_bytes, length)
    if body is None:
        return app.too_large(None, instance)
    return app.dispatch(kind, request.method, request.headers, body, instance=instance)
