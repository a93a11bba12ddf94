"""Client: every endpoint's wire format (method, path, query, headers, body)
and parsed result, error classes, and local argument checks."""
from __future__ import annotations

import datetime as dt
import http
import traceback

import pytest

import gettcommerce as gett
from conftest import API_KEY, Reply, free_port, problem

STORE = {"storeId": "8c1d6c1e-0000-4000-8000-000000000001", "name": "Pizza Place", "phone": "+1 555",
         "timezone": "America/New_York", "logoUrl": "https://img/x.png", "description": "Best pizza",
         "status": "online", "address": {"street": "1 Main St", "city": "NYC", "state": "NY",
                                         "postalCode": "10001", "country": "US"},
         "deliveryAllowed": True, "pickupAllowed": False}
ONBOARDING = {"onboardingId": "ob-1", "partnerStoreId": "p-1", "status": "pending_catalog",
              "storeId": None, "error": None, "createdAt": "2026-03-11T14:30:00.000Z"}
STATUS_PAUSED = {"status": "paused", "reason": "too_busy", "pausedAt": "2026-03-11T14:30:00.000Z",
                 "resumeAt": "2099-01-01T00:00:00.000Z"}


def only(server):
    assert len(server.requests) == 1, server.requests
    return server.requests[0]


def assert_common_headers(req, body: bool):
    assert req.headers["Authorization"] == f"Bearer {API_KEY}"
    assert req.headers["Accept"] == "application/json"
    ua = req.headers["User-Agent"]
    assert ua.startswith(f"gettcommerce/{gett.__version__} libcurl/") and " Python/" in ua
    if body:
        assert req.headers["Content-Type"] == "application/json"
    else:
        assert "Content-Type" not in req.headers


# ------------------------------------------------------------ the 11 endpoints

def test_notify_catalog(server, client):
    server.add(Reply(202))
    assert client.catalog.notify("partner-store-1", "https://cdn.example/cat.json") is None
    req = only(server)
    assert (req.method, req.path, req.query) == ("POST", "/v1/commerce/catalogset-notification",
                                                 {"storeId": "partner-store-1"})
    assert req.json == {"callbackUrl": "https://cdn.example/cat.json"}
    assert_common_headers(req, body=True)


def test_list_stores_pages_until_has_more_is_false(server, client):
    page1 = {"stores": [dict(STORE, storeId=f"s{i}") for i in range(100)], "totalCount": 101, "hasMore": True}
    page2 = {"stores": [dict(STORE, storeId="s100")], "totalCount": 101, "hasMore": False}
    server.add(Reply(200, page1), Reply(200, page2))
    stores = client.stores.list()
    assert [s.store_id for s in stores] == [f"s{i}" for i in range(101)]
    assert [(r.method, r.path, r.query) for r in server.requests] == [
        ("GET", "/v1/commerce/stores", {"limit": "100", "offset": "0"}),
        ("GET", "/v1/commerce/stores", {"limit": "100", "offset": "100"}),
    ]
    assert_common_headers(server.requests[0], body=False)


def test_list_stores_accepts_a_bare_array(server, client):
    server.add(Reply(200, [STORE]))
    (store,) = client.stores.list()
    assert store.name == "Pizza Place"


def test_get_store_parses_every_field(server, client):
    server.add(Reply(200, STORE))
    store = client.stores.get(STORE["storeId"])
    req = only(server)
    assert (req.method, req.path) == ("GET", f"/v1/commerce/stores/{STORE['storeId']}")
    assert_common_headers(req, body=False)
    assert store.store_id == STORE["storeId"] and store.name == "Pizza Place"
    assert store.phone == "+1 555" and store.timezone == "America/New_York"
    assert store.logo_url == "https://img/x.png" and store.description == "Best pizza"
    assert store.status == "online" and store.delivery_allowed is True and store.pickup_allowed is False
    assert store.address == gett.Address("1 Main St", "NYC", "NY", "10001", "US")
    assert store.to_dict()["logoUrl"] == "https://img/x.png"
    assert "Pizza Place" in repr(store)


def test_update_store_sends_only_given_fields_camel_case(server, client):
    server.add(Reply(200, dict(STORE, name="New")))
    store = client.stores.update("s1", name="New", logo_url="https://x/y.png", delivery_allowed=True)
    req = only(server)
    assert (req.method, req.path) == ("PUT", "/v1/commerce/stores/s1")
    assert req.json == {"name": "New", "logoUrl": "https://x/y.png", "deliveryAllowed": True}
    assert_common_headers(req, body=True)
    assert store.name == "New"


def test_get_store_status(server, client):
    server.add(Reply(200, STATUS_PAUSED))
    status = client.stores.get_status("s1")
    req = only(server)
    assert (req.method, req.path) == ("GET", "/v1/commerce/stores/s1/status")
    assert status.status == "paused" and not status.is_online and status.reason == "too_busy"
    assert status.paused_at == dt.datetime(2026, 3, 11, 14, 30, tzinfo=dt.timezone.utc)
    assert status.resume_at.tzinfo is not None


def test_pause_and_resume(server, client):
    server.add(Reply(200, STATUS_PAUSED), Reply(200, {"status": "online"}))
    resume_at = dt.datetime(2099, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
    status = client.stores.pause("s1", gett.PauseReason.TOO_BUSY, resume_at=resume_at)
    assert status.reason == "too_busy"
    assert client.stores.resume("s1").is_online
    pause, resume = server.requests
    assert (pause.method, pause.path) == ("POST", "/v1/commerce/stores/s1/status")
    assert pause.json == {"status": "paused", "reason": "too_busy", "resumeAt": "2099-01-01T12:00:00.000Z"}
    assert resume.json == {"status": "online"}
    assert_common_headers(pause, body=True)


def test_pause_with_timedelta_sends_a_future_utc_time(server, client):
    server.add(Reply(200, STATUS_PAUSED))
    client.stores.pause("s1", "maintenance", resume_at=dt.timedelta(minutes=5))
    sent = gett.models.parse_datetime(only(server).json["resumeAt"])
    assert dt.timedelta(minutes=4) < sent - dt.datetime.now(dt.timezone.utc) <= dt.timedelta(minutes=5)


def test_order_status_update(server, client):
    server.add(Reply(200))
    eta = dt.datetime(2026, 1, 13, 13, 30, tzinfo=dt.timezone.utc)
    assert client.orders.update_status("o-1", status="confirmed", estimated_ready_at=eta) is None
    req = only(server)
    assert (req.method, req.path) == ("POST", "/v1/commerce/orders/o-1/status")
    assert req.json == {"status": "confirmed", "estimatedReadyAt": "2026-01-13T13:30:00.000Z"}
    assert_common_headers(req, body=True)


def test_order_close_bodies(server, client):
    client.orders.update_status("o-1", state=gett.OrderState.COMPLETED)
    client.orders.update_status("o-2", state="cancelled", cancel_reason="Item out of stock")
    client.orders.update_status("o-3", state="open", status=gett.OrderStatus.IN_TRANSIT)
    assert [r.json for r in server.requests] == [
        {"state": "completed"},
        {"state": "cancelled", "cancelReason": "Item out of stock"},
        {"status": "inTransit", "state": "open"},
    ]


def test_register_store(server, client):
    server.add(Reply(201, ONBOARDING))
    ob = client.onboarding.register(
        partner_store_id="p-1", name="Pizza", catalog_callback_url="https://cdn/c.json",
        webhook_url="https://partner/gett", phone="+1 555", timezone="America/New_York",
        address={"street": "1 Main", "postal_code": "10001"}, description="d",
        logo_url="https://img/l.png", delivery_allowed=True, pickup_allowed=True)
    req = only(server)
    assert (req.method, req.path) == ("POST", "/v1/commerce/onboarding/stores")
    assert req.json == {"partnerStoreId": "p-1", "name": "Pizza", "catalogCallbackUrl": "https://cdn/c.json",
                        "webhookUrl": "https://partner/gett", "phone": "+1 555",
                        "timezone": "America/New_York", "address": {"street": "1 Main", "postalCode": "10001"},
                        "description": "d", "logoUrl": "https://img/l.png", "deliveryAllowed": True,
                        "pickupAllowed": True}
    assert_common_headers(req, body=True)
    assert ob.onboarding_id == "ob-1" and ob.status == "pending_catalog" and ob.store_id is None
    assert ob.created_at == dt.datetime(2026, 3, 11, 14, 30, tzinfo=dt.timezone.utc)


def test_get_cancel_activate_onboarding(server, client):
    server.add(Reply(200, dict(ONBOARDING, status="ready_to_activate")), Reply(204),
               Reply(200, STORE))
    assert client.onboarding.get("ob-1").status == "ready_to_activate"
    assert client.onboarding.cancel("ob-1") is None
    store = client.onboarding.activate("ob-1")
    assert store.store_id == STORE["storeId"]
    assert [(r.method, r.path) for r in server.requests] == [
        ("GET", "/v1/commerce/onboarding/stores/ob-1"),
        ("DELETE", "/v1/commerce/onboarding/stores/ob-1"),
        ("POST", "/v1/commerce/onboarding/stores/ob-1/activate"),
    ]
    assert server.requests[2].body == b""
    for req in server.requests:
        assert_common_headers(req, body=False)


def test_path_parameters_are_percent_encoded(server, client):
    server.add(Reply(200, {"status": "online"}))
    client.stores.get_status("a b?c#d%é")
    assert only(server).path == "/v1/commerce/stores/a%20b%3Fc%23d%25%C3%A9/status"


def test_every_byte_but_the_unreserved_ones_is_percent_encoded(server, client):
    # RFC 3986 unreserved (A-Z a-z 0-9 - . _ ~) go as they are, every other
    # printable ASCII byte (but '/', refused) and UTF-8 byte as %XX.
    import urllib.parse
    value = "".join(chr(c) for c in range(32, 127) if chr(c) != "/") + "\t\x7fé"
    server.add(Reply(200, {"status": "online"}))
    client.stores.get_status(value)
    encoded = urllib.parse.quote(value, safe="-._~")
    assert only(server).path == f"/v1/commerce/stores/{encoded}/status"


@pytest.mark.parametrize("bad", ["a/b", "a\rb", "a\nb", "a\0b", ""])
def test_ids_with_slash_crlf_nul_are_refused_locally(server, client, bad):
    with pytest.raises(gett.InvalidRequestError) as info:
        client.stores.get(bad)
    assert "store_id" in str(info.value)
    with pytest.raises(gett.InvalidRequestError, match="order_id"):
        client.orders.update_status(bad, status="ready")
    with pytest.raises(gett.InvalidRequestError, match="onboarding_id"):
        client.onboarding.activate(bad)
    assert server.requests == []


# ------------------------------------------------------------ errors

# Every mapped problem status: (status, error class, problem code). Shared
# with test_async_client so both clients are held to the same table.
PROBLEM_STATUSES = [
    (400, gett.BadRequestError, "INVALID_REQUEST"),
    (401, gett.AuthenticationError, "UNAUTHENTICATED"),
    (403, gett.PermissionDeniedError, "FORBIDDEN"),
    (404, gett.NotFoundError, "STORE_NOT_FOUND"),
    (409, gett.ConflictError, "CONFLICT"),
    (422, gett.UnprocessableEntityError, "VALIDATION_FAILED"),
    (429, gett.RateLimitError, "RATE_LIMITED"),
    (500, gett.InternalServerError, "INTERNAL_ERROR"),
    (503, gett.InternalServerError, "SERVICE_UNAVAILABLE"),
]


def serve_problem(server, status, code):
    """Make ``server`` answer every request with a full problem+json for
    ``status``/``code``; return the ``(errors, body)`` it sends."""
    errors = [{"code": "X", "message": "m", "jsonPath": "$.status"}]
    body = problem(status, code, detail="explained", errors=errors, retryAfter=7)
    server.default = lambda req: Reply(status, body, headers={"X-RateLimit-Remaining": "0"})
    return errors, body


def assert_problem_error(err, status, code, errors, body):
    """``err`` (from GET /stores/s1) carries every field of ``serve_problem``'s answer."""
    assert isinstance(err, gett.APIStatusError) and isinstance(err, gett.GettError)
    assert err.status_code == status and err.error_code == code
    assert err.error_category == "server_error" and err.retryable is (status in (429, 500, 503))
    assert err.retry_after == 7 and err.request_id == "req_abc123" and err.title == "Error"
    assert err.detail == "explained" and err.instance == "/v1/commerce/x"
    assert err.errors == errors and err.body == body
    assert err.headers["X-RateLimit-Remaining"] == "0"
    assert code in str(err) and "req_abc123" in str(err)
    assert err.method == "GET" and err.url.endswith("/v1/commerce/stores/s1")
    phrase = http.HTTPStatus(status).phrase
    assert str(err).startswith(f"{status} {phrase} from GET /v1/commerce/stores/s1: {code}: explained")
    # Everything the internal TransportError knew is on err: it is not chained.
    assert err.__cause__ is None and err.__suppress_context__


@pytest.mark.parametrize("status,cls,code", PROBLEM_STATUSES)
def test_problem_json_maps_to_the_right_class_with_every_field(server, status, cls, code):
    errors, body = serve_problem(server, status, code)
    with gett.Client(api_key=API_KEY, base_url=server.url, max_retries=0) as client:
        with pytest.raises(cls) as info:
            client.stores.get("s1")
    assert_problem_error(info.value, status, code, errors, body)


def test_html_502_page_gives_internal_server_error_with_text_detail(server):
    html = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    server.default = lambda req: Reply(502, body=html, content_type="text/html")
    with gett.Client(api_key=API_KEY, base_url=server.url, max_retries=0) as client:
        with pytest.raises(gett.InternalServerError) as info:
            client.stores.get("s1")
    assert info.value.status_code == 502 and "502 Bad Gateway" in info.value.detail
    assert info.value.error_code is None and info.value.body == html.decode()


def test_empty_503_gives_internal_server_error(server):
    server.default = lambda req: Reply(503)
    with gett.Client(api_key=API_KEY, base_url=server.url, max_retries=0) as client:
        with pytest.raises(gett.InternalServerError) as info:
            client.stores.get_status("s1")
    assert info.value.status_code == 503 and info.value.body is None and info.value.retryable


def test_success_with_invalid_json_is_a_clear_error(server, client):
    server.add(Reply(200, body=b'{"status": "onl'))
    with pytest.raises(gett.APIConnectionError, match="not valid JSON"):
        client.stores.get_status("s1")


def test_connection_refused_is_api_connection_error():
    with gett.Client(api_key=API_KEY, base_url=f"http://127.0.0.1:{free_port()}", max_retries=1) as client:
        with pytest.raises(gett.APIConnectionError) as info:
            client.stores.get("s1")
    assert not isinstance(info.value, gett.APITimeoutError)
    assert info.value.attempts == 2


# ------------------------------------------------------------ local argument checks

@pytest.mark.parametrize("call,field", [
    (lambda c: c.stores.pause("s1", "lunch"), "reason"),
    (lambda c: c.stores.pause("s1", 3), "reason"),
    (lambda c: c.stores.pause("s1", "too_busy", resume_at=dt.datetime(2099, 1, 1)), "resume_at"),
    (lambda c: c.stores.pause("s1", "too_busy", resume_at=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)),
     "resume_at"),
    (lambda c: c.stores.pause("s1", "too_busy", resume_at="tomorrow"), "resume_at"),
    (lambda c: c.stores.update("s1"), None),
    (lambda c: c.stores.update("s1", name=""), "name"),
    (lambda c: c.stores.update("s1", logo_url="ftp://x"), "logo_url"),
    (lambda c: c.stores.update("s1", delivery_allowed="yes"), "delivery_allowed"),
    (lambda c: c.stores.update("s1", delivery_allowed=False, pickup_allowed=False), "pickup_allowed"),
    (lambda c: c.orders.update_status("o1"), "status"),
    (lambda c: c.orders.update_status("o1", status="done"), "status"),
    (lambda c: c.orders.update_status("o1", status="pending"), "status"),
    (lambda c: c.orders.update_status("o1", state="closed"), "state"),
    (lambda c: c.orders.update_status("o1", state="completed", status="ready"), "state"),
    (lambda c: c.orders.update_status("o1", state="cancelled"), "cancel_reason"),
    (lambda c: c.orders.update_status("o1", status="ready", cancel_reason="x"), "cancel_reason"),
    (lambda c: c.orders.update_status("o1", status="ready", estimated_ready_at=dt.datetime(2026, 1, 1)),
     "estimated_ready_at"),
    (lambda c: c.onboarding.register(partner_store_id="p", name="n", catalog_callback_url="not a url",
                                     webhook_url="https://w"), "catalog_callback_url"),
    (lambda c: c.onboarding.register(partner_store_id="p", name="n", catalog_callback_url="https://c",
                                     webhook_url="https://w", colour="red"), "colour"),
    (lambda c: c.onboarding.register(partner_store_id="p", name="n", catalog_callback_url="https://c",
                                     webhook_url="https://w", timezone="Mars/Base"), "timezone"),
    (lambda c: c.onboarding.register(partner_store_id="p", name="n", catalog_callback_url="https://c",
                                     webhook_url="https://w", address={"zip": "1"}), "address.zip"),
    (lambda c: c.catalog.notify("s1", "file:///etc/passwd"), "callback_url"),
    (lambda c: c.order(""), "order_id"),
])
def test_bad_arguments_raise_invalid_request_error_naming_the_field(server, client, call, field):
    with pytest.raises(gett.InvalidRequestError) as info:
        call(client)
    err = info.value
    assert isinstance(err, ValueError)
    if field is not None:
        assert err.field == field and field.split(".")[-1] in str(err)
    assert server.requests == []


def test_enum_error_lists_allowed_values(client):
    with pytest.raises(gett.InvalidRequestError) as info:
        client.stores.pause("s1", "lunch")
    for value in ("operational_issues", "staff_shortage", "too_busy", "maintenance", "other"):
        assert value in str(info.value)


def test_client_argument_checks(monkeypatch):
    monkeypatch.delenv("GETT_API_KEY", raising=False)
    with pytest.raises(gett.InvalidRequestError, match="GETT_API_KEY"):
        gett.Client()
    with pytest.raises(gett.InvalidRequestError, match="api_key"):
        gett.Client(api_key="zpka_x\r\nX-Evil: 1")
    with pytest.raises(gett.InvalidRequestError, match="base_url"):
        gett.Client(api_key="k", base_url="ftp://example.com")
    with pytest.raises(gett.InvalidRequestError, match="allow_insecure_http"):
        gett.Client(api_key="k", base_url="http://api.example.com")
    gett.Client(api_key="k", base_url="http://api.example.com", allow_insecure_http=True).close()
    gett.Client(api_key="k", base_url="http://localhost:1").close()
    gett.Client(api_key="k", base_url="http://[::1]:1").close()
    with pytest.raises(gett.InvalidRequestError, match="timeout"):
        gett.Client(api_key="k", timeout=0)
    with pytest.raises(gett.InvalidRequestError, match="max_retries"):
        gett.Client(api_key="k", max_retries=-1)
    with pytest.raises(gett.InvalidRequestError, match="pool_size") as info:
        gett.Client(api_key="k", pool_size=0)  # the C core's limit, as a typed error
    assert info.value.field == "pool_size"


def test_environment_variables_configure_the_client(server, monkeypatch):
    monkeypatch.setenv("GETT_API_KEY", API_KEY)
    monkeypatch.setenv("GETT_BASE_URL", server.url)
    server.add(Reply(200, {"status": "online"}))
    with gett.Client() as client:
        assert client.base_url == server.url
        client.stores.get_status("s1")
    assert server.requests[0].headers["Authorization"] == f"Bearer {API_KEY}"
    monkeypatch.delenv("GETT_BASE_URL")
    assert gett.Client(api_key="k").base_url == "https://api.gett-tech.com"


def test_close_is_idempotent_and_later_calls_fail_clearly(server):
    client = gett.Client(api_key=API_KEY, base_url=server.url)
    client.close()
    client.close()
    assert client.closed and "closed" in repr(client)
    with pytest.raises(gett.InvalidRequestError, match="closed"):
        client.stores.get("s1")


# ------------------------------------------------------------ listings: pages outside parsing

def test_stores_iter_fetches_each_page_only_when_needed(server, client):
    pages = {0: {"stores": [dict(STORE, storeId="a"), dict(STORE, storeId="b")], "hasMore": True},
             2: {"stores": [dict(STORE, storeId="c")], "hasMore": False}}
    server.default = lambda req: Reply(200, pages[int(req.query["offset"])])
    stores = client.stores.iter(page_size=2)
    assert server.requests == []  # lazy: nothing sent before the first item is asked for
    assert next(stores).store_id == "a" and next(stores).store_id == "b"
    assert [r.query for r in server.requests] == [{"limit": "2", "offset": "0"}]
    assert [s.store_id for s in stores] == ["c"]
    assert [r.query for r in server.requests] == [{"limit": "2", "offset": "0"},
                                                  {"limit": "2", "offset": "2"}]


@pytest.mark.parametrize("page_size", [0, 101, "10", True])
def test_stores_iter_page_size_is_checked(client, page_size):
    with pytest.raises(gett.InvalidRequestError) as info:
        client.stores.iter(page_size=page_size)
    assert info.value.field == "page_size"


def test_a_listing_that_repeats_its_page_stops_with_a_typed_error(server, client):
    server.default = lambda req: Reply(200, {"stores": [STORE], "hasMore": True})
    with pytest.raises(gett.APIConnectionError, match="all seen on earlier pages"):
        client.stores.list()
    assert len(server.requests) == 2


def test_a_listing_with_an_empty_page_and_has_more_stops_with_a_typed_error(server, client):
    server.default = lambda req: Reply(200, {"stores": [], "hasMore": True})
    with pytest.raises(gett.APIConnectionError, match="no items but hasMore"):
        client.stores.list()
    assert len(server.requests) == 1


def test_timeout_bounds_a_whole_listing(server):
    # Every page is new and says hasMore: only the listing's deadline ends it.
    server.default = lambda req: Reply(200, {"stores": [dict(STORE, storeId=f"s{req.query['offset']}")],
                                             "hasMore": True})
    with gett.Client(api_key=API_KEY, base_url=server.url, timeout=0.2) as client:
        with pytest.raises(gett.APITimeoutError, match="listing took more than 0.2 s"):
            client.stores.list()
    assert len(server.requests) > 1


# ------------------------------------------------------------ answers of the wrong shape

EMPTY_ANSWER_CALLS = [
    ("register_store", 201, "'onboardingId'",
     lambda c: c.onboarding.register(partner_store_id="p", name="n", catalog_callback_url="https://c/x",
                                     webhook_url="https://w/x")),
    ("get_store", 200, "'storeId'", lambda c: c.stores.get("s1")),
    ("get_store_status", 200, "'status'", lambda c: c.stores.get_status("s1")),
    ("activate_store", 200, "'storeId'", lambda c: c.onboarding.activate("ob-1")),
    ("get_onboarding", 200, "'onboardingId'", lambda c: c.onboarding.get("ob-1")),
]


@pytest.mark.parametrize("body", [b"", b"{}", b"null"], ids=["empty", "object", "null"])
@pytest.mark.parametrize("name,status,missing,call", EMPTY_ANSWER_CALLS, ids=[c[0] for c in EMPTY_ANSWER_CALLS])
def test_an_empty_answer_where_an_object_is_due_is_an_error_naming_the_call(server, client, body, name,
                                                                            status, missing, call):
    server.default = lambda req: Reply(status, body=body, content_type="application/json")
    with pytest.raises(gett.APIConnectionError) as info:
        call(client)
    assert name in str(info.value) and missing in str(info.value)


def test_a_deeply_nested_answer_is_a_typed_error_not_a_recursion_error(server, client):
    deep = b"[" * 990 + b"]" * 990
    server.default = lambda req: Reply(200, body=deep)
    for call in (lambda: client.stores.get("s1"), lambda: client.onboarding.get("ob-1")):
        with pytest.raises(gett.APIConnectionError) as info:
            call()
        assert len(str(info.value)) < 500
    with client.batch() as batch:
        batch.stores.get("s1")
        batch.orders.update_status("o-1", status="ready")
    assert isinstance(batch.results[0], gett.APIConnectionError) and batch.results[1] is None


# ------------------------------------------------------------ retried writes Gett had applied

def _already(state):
    return Reply(409, problem(409, "CONFLICT", detail=f"order o-1 is already {state}; a closed order "
                                                       "takes no updates"))


@pytest.mark.parametrize("close", ["complete", "cancel"])
def test_a_retried_close_refused_as_already_done_is_success(server, client, close):
    state = "completed" if close == "complete" else "cancelled"
    server.add(Reply(action="close"), _already(state))  # the first answer is lost
    order = client.order("o-1")
    getattr(order, close)(*(["Item out of stock"] if close == "cancel" else []))
    assert order.state == state and len(server.requests) == 2
    assert server.requests[0].json == server.requests[1].json


def test_a_retried_close_refused_for_the_other_terminal_state_stays_an_error(server, client):
    server.add(Reply(action="close"), _already("cancelled"))
    with pytest.raises(gett.ConflictError, match="already cancelled"):
        client.order("o-1").complete()


def test_a_close_refused_at_the_first_attempt_stays_an_error(server, client):
    server.add(_already("completed"))
    with pytest.raises(gett.ConflictError):
        client.orders.update_status("o-1", state="completed")


def test_a_retried_onboarding_cancel_answered_404_is_success(server, client):
    server.add(Reply(action="close"), Reply(404, problem(404, "NOT_FOUND")))
    assert client.onboarding.cancel("ob-1") is None
    assert [r.method for r in server.requests] == ["DELETE", "DELETE"]
    server.add(Reply(404, problem(404, "NOT_FOUND")))
    with pytest.raises(gett.NotFoundError):
        client.onboarding.cancel("ob-2")


@pytest.mark.parametrize("first", [429, 503])
def test_a_404_or_409_after_a_retry_gett_did_not_act_on_stays_an_error(server, client, first):
    # 429 and 503 say Gett did nothing: the retry's answer is the truth, not "already done".
    busy = Reply(first, problem(first, "RATE_LIMITED" if first == 429 else "UNAVAILABLE"),
                 headers={"Retry-After": "0"})
    server.add(busy, Reply(404, problem(404, "NOT_FOUND")))
    with pytest.raises(gett.NotFoundError):
        client.onboarding.cancel("ob-1")
    server.add(busy, _already("completed"))
    with pytest.raises(gett.ConflictError):
        client.order("o-1").complete()
    assert len(server.requests) == 4


@pytest.mark.parametrize("first", [500, 502, 504])
def test_a_404_or_409_after_a_retry_gett_may_have_acted_on_is_success(server, client, first):
    server.add(Reply(first, problem(first, "INTERNAL_ERROR")), Reply(404, problem(404, "NOT_FOUND")))
    assert client.onboarding.cancel("ob-1") is None
    server.add(Reply(first, problem(first, "INTERNAL_ERROR")), _already("completed"))
    order = client.order("o-1")
    order.complete()
    assert order.state == "completed" and len(server.requests) == 4


# ------------------------------------------------------------ what the SDK sends, and never sends

def test_pending_is_never_offered_as_an_allowed_status(server, client):
    for bad in ("done", "pending", gett.OrderStatus.PENDING):
        with pytest.raises(gett.InvalidRequestError) as info:
            client.orders.update_status("o-1", status=bad)
        assert "'pending'" not in str(info.value).replace("status 'pending' is set by Gett", "")
        for value in ("confirmed", "preparing", "ready", "inTransit"):
            assert value in str(info.value)
    assert server.requests == []


@pytest.mark.parametrize("text", ["2026-01-15", "2099-01-15T12:00:00", "2099-01-15 12:00"])
def test_date_times_without_a_time_or_zone_are_refused(server, client, text):
    with pytest.raises(gett.InvalidRequestError) as info:
        client.orders.update_status("o-1", status="confirmed", estimated_ready_at=text)
    assert info.value.field == "estimated_ready_at"
    with pytest.raises(gett.InvalidRequestError) as info:
        client.stores.pause("s1", "too_busy", resume_at=text)
    assert info.value.field == "resume_at"
    assert server.requests == []


def test_a_past_resume_at_is_refused_as_text_too(server, client):
    with pytest.raises(gett.InvalidRequestError, match="future") as info:
        client.stores.pause("s1", "too_busy", resume_at="2000-01-01T00:00:00Z")
    assert info.value.field == "resume_at" and server.requests == []
    server.add(Reply(200, STATUS_PAUSED))
    client.stores.pause("s1", "too_busy", resume_at="2099-01-01T13:00:00+01:00")
    assert only(server).json["resumeAt"] == "2099-01-01T12:00:00.000Z"


def test_an_empty_description_is_sent_as_is(server, client):
    server.add(Reply(200, dict(STORE, description="")), Reply(201, ONBOARDING))
    assert client.stores.update("s1", description="").description == ""
    client.onboarding.register(partner_store_id="p-1", name="n", catalog_callback_url="https://c/x",
                               webhook_url="https://w/x", description="")
    assert [r.json.get("description") for r in server.requests] == ["", ""]


# ------------------------------------------------------------ client configuration

@pytest.mark.parametrize("url", ["https://api.example.com/?x=1", "https://api.example.com/v1#frag",
                                 "http://127.0.0.1:1/?",
                                 # what libcurl would refuse on every call: refused at construction
                                 "http://127.0.0.1:8080/a\tb", "http://127.0.0.1:99999",
                                 "http://127.0.0.1:8080/a;b", "http://127.0.0.1:x/",
                                 "http://127.0.0.1:8080/\x7f"])
def test_a_bad_base_url_is_refused_at_construction(url):
    with pytest.raises(gett.InvalidRequestError, match="base_url") as info:
        gett.Client(api_key=API_KEY, base_url=url)
    assert info.value.field == "base_url"


def test_one_trailing_slash_of_the_base_url_is_dropped(server):
    server.add(Reply(200, {"status": "online"}))
    with gett.Client(api_key=API_KEY, base_url=server.url + "/") as client:
        assert client.base_url == server.url
        client.stores.get_status("s1")
    assert only(server).path == "/v1/commerce/stores/s1/status"


@pytest.mark.parametrize("kwargs", [
    {"base_url": "ftp://example.com"},
    {"base_url": "https://api.example.com/?q"},
    {"timeout": -1},
    {"proxy": "ftp://proxy:21"},
    {"api_key": "zpka_secret_key_4242 with a space"},
])
def test_no_frame_of_a_failed_client_init_shows_the_key(kwargs):
    secret = kwargs.pop("api_key", "zpka_secret_key_4242")
    try:
        gett.Client(api_key=secret, **kwargs)
    except gett.InvalidRequestError as exc:
        caught = exc
    else:
        raise AssertionError("Client() accepted a bad argument")
    # Every frame from Client() down to the raise (this test's own frame holds the key).
    frames = traceback.StackSummary.extract(traceback.walk_tb(caught.__traceback__.tb_next),
                                            capture_locals=True)
    text = "".join(frames.format())
    assert "zpka_secret_key_4242" not in text
    assert "api key hidden" in text  # the frame was captured, with the key masked


@pytest.mark.parametrize("proxy,base,field_ok", [
    ("ftp://proxy:21", "https://api.example.com", False),
    ("http://proxy:notaport", "https://api.example.com", False),
    ("http://proxy\r\n:3128", "https://api.example.com", False),
    (3128, "https://api.example.com", False),
    ("http://proxy:3128", "http://127.0.0.1:1", False),  # the key would go in clear to the proxy
    ("http://proxy:3128", "https://api.example.com", True),
    ("socks5h://proxy:1080", "https://api.example.com", True),
    ("", "http://127.0.0.1:1", True),
    (None, "http://127.0.0.1:1", True),
])
def test_proxy_is_validated(proxy, base, field_ok):
    if field_ok:
        with gett.Client(api_key=API_KEY, base_url=base, proxy=proxy) as client:
            # What the C core was given; a plain-http base_url never uses one.
            assert client._core.proxy == (proxy if base.startswith("https") else "")
    else:
        with pytest.raises(gett.InvalidRequestError) as info:
            gett.Client(api_key=API_KEY, base_url=base, proxy=proxy)
        assert info.value.field == "proxy"


# ------------------------------------------------------------ error messages

def test_a_bodiless_error_names_status_method_and_path(server):
    server.default = lambda req: Reply(404)
    with gett.Client(api_key=API_KEY, base_url=server.url, max_retries=0) as client:
        with pytest.raises(gett.NotFoundError) as info:
            client.stores.get("x")
    assert str(info.value) == "404 Not Found from GET /v1/commerce/stores/x"
    # The internal TransportError adds nothing: it is not chained into the traceback.
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert "TransportError" not in "".join(traceback.format_exception(info.value))
