"""The Django adapter through Django's own test client (minimal settings, configured here)."""
from __future__ import annotations

import json
import sys
import tempfile
import types
from pathlib import Path

import pytest

django = pytest.importorskip("django")

from django.conf import settings  # noqa: E402

# Another test module may have configured Django already; only configure once,
# and point ROOT_URLCONF at a module built below either way.
URLCONF = "tests_gett_django_urls"
if not settings.configured:
    settings.configure(
        DEBUG=False, SECRET_KEY="test-only", ALLOWED_HOSTS=["testserver"], ROOT_URLCONF=URLCONF,
        MIDDLEWARE=["django.middleware.common.CommonMiddleware",
                    "django.middleware.csrf.CsrfViewMiddleware"],
        # The installable app holds DjangoStore's model; its table lives in a sqlite file.
        INSTALLED_APPS=["gettcommerce.contrib.django"], USE_TZ=True,
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                               "NAME": str(Path(tempfile.mkdtemp(prefix="gett-django-")) / "db.sqlite3"),
                               "OPTIONS": {"timeout": 30}}},
    )
    django.setup()

from django.test import Client as DjangoClient, override_settings  # noqa: E402
from django.urls import include, path, reverse  # noqa: E402

import gettcommerce as gett  # noqa: E402
from gettcommerce.contrib.django import DjangoStore, urlpatterns  # noqa: E402
from gettcommerce.webhooks import WebhookApp, sign  # noqa: E402
from webhook_helpers import CountingStream  # noqa: E402

SECRET = "whsec_django"
BODY = json.dumps({"order": {"orderId": "d-1", "fulfillmentType": "delivery",
                             "items": [{"lineItemId": "l1", "itemId": "pizza", "quantity": 1}],
                             "amounts": {"subTotal": 12.5, "tip": 2}},
                   "deliveryAddress": {"street": "5 Elm", "city": "Haifa", "country": "IL"},
                   "paymentToken": "tok_1"}).encode()

CALLS = {"validate": 0, "place": []}


def on_validate(order):
    CALLS["validate"] += 1
    return gett.Amounts(order.amounts.sub_total, fees="3.00", tip=order.amounts.tip)


def on_place(order):
    CALLS["place"].append(order)
    if order.delivery_address is None:
        raise RuntimeError("delivery without address")
    return {"partnerOrderId": f"K-{len(CALLS['place'])}"}


HOOKS = WebhookApp(SECRET, on_validate=on_validate, on_place=on_place)
urlconf = types.ModuleType(URLCONF)
urlconf.urlpatterns = [path("gett/", include(urlpatterns(HOOKS))),
                       path("", include(urlpatterns(HOOKS, prefix="/other")))]
sys.modules[URLCONF] = urlconf


@pytest.fixture
def client():
    CALLS["validate"] = 0
    CALLS["place"] = []
    HOOKS.store = type(HOOKS.store)()   # fresh dedupe memory per test
    with override_settings(ROOT_URLCONF=URLCONF):
        # enforce_csrf_checks: the views must pass CsrfViewMiddleware on their own.
        yield DjangoClient(enforce_csrf_checks=True)


def post(client, url, body, secret=SECRET):
    headers = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in sign(body, secret).items()
               if k != "Content-Type"}
    return client.post(url, data=body, content_type="application/json", **headers)


def test_validate_and_place_csrf_exempt(client):
    response = post(client, "/gett/validate", BODY)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"amounts": {"subTotal": 12.5, "fees": 3, "tip": 2, "total": 17.5}}
    first = post(client, "/gett/place", BODY)
    again = post(client, "/gett/place", BODY)
    assert first.status_code == again.status_code == 200
    assert json.loads(first.content)["partnerOrderId"] == json.loads(again.content)["partnerOrderId"] == "K-1"
    assert again["Idempotent-Replayed"] == "true"
    assert len(CALLS["place"]) == 1 and CALLS["place"][0].payment_token == "tok_1"
    assert CALLS["place"][0].delivery_address.city == "Haifa"


def test_bad_signature_401(client):
    response = post(client, "/gett/place", BODY, secret="wrong")
    assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"
    problem = json.loads(response.content)
    assert problem["errorCode"] == "UNAUTHENTICATED" and problem["instance"] == "/gett/place"
    assert not CALLS["place"]


def test_handler_error_500_no_traceback(client):
    body = BODY.replace(b'"deliveryAddress": {"street": "5 Elm", "city": "Haifa", "country": "IL"}',
                        b'"deliveryAddress": null')
    response = post(client, "/gett/place", body)
    assert response.status_code == 500
    text = response.content.decode()
    assert "delivery without address" not in text and "Traceback" not in text
    assert json.loads(text)["errorCode"] == "INTERNAL_ERROR"


def test_get_is_405_problem_and_url_names(client):
    response = client.get("/gett/validate")
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert json.loads(response.content)["errorCode"] == "METHOD_NOT_ALLOWED"
    assert post(client, "/other/validate", BODY).status_code == 200
    assert reverse("gett_validate", urlconf=URLCONF) in ("/gett/validate", "/other/validate")


def test_type_checks():
    with pytest.raises(TypeError, match="WebhookApp"):
        urlpatterns(object())
    patterns = urlpatterns(HOOKS, prefix="hooks")
    assert [str(p.pattern) for p in patterns] == ["hooks/validate", "hooks/place"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_get_the_405_problem(client, method):
    response = client.generic(method, "/gett/place")
    assert response.status_code == 405 and response["Content-Type"] == "application/problem+json"


def test_oversized_body_refused_by_content_length_before_reading(client):
    stream = CountingStream(300 * 1024 * 1024)
    headers = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in sign(BODY, SECRET).items()
               if k != "Content-Type"}
    response = client.post("/gett/place", data=b"", content_type="application/json",
                           CONTENT_LENGTH=str(300 * 1024 * 1024), **{"wsgi.input": stream}, **headers)
    assert response.status_code == 413 and json.loads(response.content)["errorCode"] == "PAYLOAD_TOO_LARGE"
    assert stream.read_bytes == 0 and not CALLS["place"]


# ---------------------------------------------------------------- DjangoStore

from django.core.management import call_command  # noqa: E402

from test_webhooks_stores import StoreContract  # noqa: E402


@pytest.fixture(scope="module")
def migrated():
    call_command("migrate", verbosity=0)


class TestDjangoStore(StoreContract):
    @pytest.fixture
    def store(self, migrated):
        return DjangoStore()

    def test_app_through_django_store(self, migrated):
        """Two apps sharing DjangoStore stand for two workers: on_place runs once."""
        calls = []
        hooks = [WebhookApp(SECRET, on_validate=on_validate, on_place=lambda o: calls.append(o) or "DS-1",
                            store=DjangoStore()) for _ in range(2)]
        body = BODY.replace(b'"d-1"', b'"d-store"')
        answers = [hook.handle("POST", "/place", sign(body, SECRET), body) for hook in hooks * 2]
        assert [a[0] for a in answers] == [200] * 4 and len(calls) == 1
        assert DjangoStore().get("d-store")["partnerOrderId"] == "DS-1"
        from gettcommerce.contrib.django.models import PlacedOrder
        assert PlacedOrder.objects.get(order_id="d-store").state == "done"



def test_example_django_app_places_once_through_django_store(tmp_path):
    """examples/django_app.py: migrate creates DjangoStore's table; a retried place replays."""
    import os
    import subprocess

    root = Path(__file__).resolve().parent.parent
    script = f'''
import json, sys
sys.path.insert(0, {str(root / "examples")!r})
import django_app  # configures Django; its urls are ROOT_URLCONF
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.test import Client
from gettcommerce.webhooks import sign
body = {BODY!r}
headers = {{"HTTP_" + k.upper().replace("-", "_"): v for k, v in sign(body, "whsec_example").items()
           if k != "Content-Type"}}
answers = [Client().post("/gett/place", data=body, content_type="application/json", **headers)
           for _ in range(3)]
print(json.dumps([[a.status_code, json.loads(a.content)["partnerOrderId"]] for a in answers]))
from gettcommerce.contrib.django.models import PlacedOrder
print(PlacedOrder.objects.count())
'''
    env = dict(os.environ, GETT_API_KEY="zpka_example", GETT_BASE_URL="http://127.0.0.1:9",
               GETT_WEBHOOK_SECRET="whsec_example", DJANGO_DB=str(tmp_path / "shop.sqlite3"),
               PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    answers_line, count_line = out.stdout.strip().splitlines()[-2:]
    answers = json.loads(answers_line)
    assert [a[0] for a in answers] == [200, 200, 200] and len({a[1] for a in answers}) == 1
    assert count_line == "1"
