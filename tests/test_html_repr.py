"""Jupyter reprs: models, webhook orders and errors render as escaped HTML cards (gettcommerce/_html.py)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
import http
from html.parser import HTMLParser

import pytest

import gettcommerce as gett
from gettcommerce import _html
from gettcommerce._async import AsyncOnboarding, AsyncOrder, AsyncStore
from gettcommerce.errors import (APIConnectionError, BatchError, InvalidRequestError, InvalidTransitionError,
                                 make_status_error)
from gettcommerce.models import Address, Onboarding, Order, Store, StoreStatus

NOON = dt.datetime(2026, 11, 30, 14, 5, tzinfo=dt.timezone.utc)
EVIL = "Pizza <script>alert('x')</script> & Co"


class Card(HTMLParser):
    """Parses a card strictly: every tag closed in order; keeps the tags, the text and the badge."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack, self.tags, self.text, self.badges, self.rows = [], [], [], [], {}
        self._in_badge = False
        self._cells = []
        self.feed(page)
        self.close()
        assert not self.stack, f"unclosed tags {self.stack}"
        self.plain = " ".join(self.text)

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        self.tags.append(tag)
        self._in_badge = ("class", "gett-badge") in attrs
        if tag == "tr":
            self._cells = []

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack}"
        self.stack.pop()
        self._in_badge = False
        if tag == "tr" and len(self._cells) == 2:
            self.rows[self._cells[0]] = self._cells[1]

    def handle_data(self, data):
        self.text.append(data)
        if self._in_badge:
            self.badges.append(data)
        if self.stack and self.stack[-1] in ("th", "td"):
            self._cells.append(data)


def card_of(obj) -> Card:
    page = obj._repr_html_()
    assert isinstance(page, str) and page.startswith('<div class="gett-card"')
    return Card(page)


def test_store_card_has_its_fields_and_status_badge_and_escapes_the_name():
    store = Store("st-1", EVIL, status="paused", timezone="Europe/London",
                  address=Address("1 Main St", "London", country="GB"), delivery_allowed=True, pickup_allowed=False)
    card = card_of(store)
    assert card.badges == ["paused"]
    assert "Store" in card.plain and "st-1" in card.plain
    assert card.rows["name"] == EVIL                       # shown as text...
    assert "script" not in card.tags                       # ...never as markup
    assert "<script>" not in store._repr_html_()
    assert card.rows["timezone"] == "Europe/London"
    assert card.rows["delivery_allowed"] == "yes" and card.rows["pickup_allowed"] == "no"
    assert card.rows["address"] == "street=1 Main St, city=London, country=GB"
    assert "<div" not in repr(store) and repr(store).startswith("Store(store_id='st-1'")


def test_store_status_shows_times_readably():
    status = StoreStatus("paused", "too_busy", NOON, NOON + dt.timedelta(minutes=30, seconds=15), store_id="st-1")
    card = card_of(status)
    assert card.badges == ["paused"]
    assert card.rows == {"reason": "too_busy", "paused_at": "2026-11-30 14:05 UTC",
                         "resume_at": "2026-11-30 14:35:15 UTC"}
    assert "datetime" not in status._repr_html_()
    # Another zone is shown in UTC; a parsed wire time the same way.
    later = StoreStatus.from_dict({"status": "paused", "reason": "other", "pausedAt": "2026-11-30T16:05:00+02:00"})
    assert card_of(later).rows["paused_at"] == "2026-11-30 14:05 UTC"
    assert card_of(StoreStatus("online")).badges == ["online"]


def test_order_badge_is_its_status_while_open_and_its_state_once_closed():
    order = Order("o-1", status="confirmed")
    order.estimated_ready_at = NOON
    card = card_of(order)
    assert card.badges == ["confirmed"] and card.rows == {"state": "open", "estimated_ready_at": "2026-11-30 14:05 UTC"}
    order.state, order.cancel_reason = "cancelled", "Out of <dough>"
    card = card_of(order)
    assert card.badges == ["cancelled"]
    assert card.rows["status"] == "confirmed" and card.rows["cancel_reason"] == "Out of <dough>"


def test_onboarding_card_and_the_async_models_share_the_reprs():
    data = {"onboardingId": "ob-1", "partnerStoreId": "p-1", "status": "catalog_failed",
            "error": "/items/x: dangling <ref>", "createdAt": "2026-11-30T14:05:00Z"}
    for cls in (Onboarding, AsyncOnboarding):
        card = card_of(cls.from_dict(data))
        assert card.badges == ["catalog_failed"]
        assert card.plain.startswith(cls.__name__) and "ob-1" in card.plain
        assert card.rows == {"partner_store_id": "p-1", "error": "/items/x: dangling <ref>",
                             "created_at": "2026-11-30 14:05 UTC"}
    assert card_of(AsyncStore.from_dict({"storeId": "st-2", "name": EVIL, "status": "online"})).rows["name"] == EVIL
    assert card_of(AsyncOrder("o-2")).badges == ["pending"]


def test_incoming_order_card_lists_lines_and_total_but_never_the_payment_token():
    body = {"order": {"orderId": "o-9", "storeId": "st-1", "fulfillmentType": "delivery",
                      "items": [{"lineItemId": "l1", "itemId": "margherita", "quantity": 2,
                                 "modifierGroups": [{"modifierGroupId": "size",
                                                     "selectedModifiers": [{"itemId": "large", "quantity": 1}]}]},
                                {"lineItemId": "l2", "itemId": "cola", "quantity": 1}],
                      "amounts": {"subTotal": 21.5, "tip": 2}},
            "user": {"name": "<b>Dana</b>"}, "paymentToken": "tok_secret_123",
            "deliveryAddress": {"street": "1 Main St", "city": "London"}}
    order = gett.IncomingOrder.parse(body, kind="place")
    page = order._repr_html_()
    card = card_of(order)
    assert card.badges == ["place"] and "o-9" in card.plain
    assert card.rows["items"] == "2 \u00d7 margherita (large); 1 \u00d7 cola"
    assert card.rows["total"].startswith("23.5 (")
    assert card.rows["customer"] == "<b>Dana</b>" and "b" not in card.tags
    assert card.rows["delivery_address"] == "street=1 Main St, city=London"
    assert "tok_secret" not in page and "tok_secret" not in repr(order)


def test_api_status_error_card_has_status_badge_problem_fields_and_field_errors():
    error = make_status_error(422, {"errorCode": "VALIDATION_FAILED", "detail": "bad <input>",
                                    "requestId": "req_1", "errors": [{"jsonPath": "$.name", "message": "required"}],
                                    "timestamp": "2026-11-30T16:05:00.250+02:00"},
                              method="PATCH", url="https://api.example/v1/commerce/stores/st-1")
    card = card_of(error)
    # Python 3.13 renamed 422's phrase to "Unprocessable Content" (RFC 9110): the badge uses the runtime's.
    assert card.badges == [f"422 {http.HTTPStatus(422).phrase}"]
    assert card.plain.startswith("UnprocessableEntityError")
    assert card.rows["request"] == "PATCH https://api.example/v1/commerce/stores/st-1"
    assert card.rows["error_code"] == "VALIDATION_FAILED" and card.rows["detail"] == "bad <input>"
    assert card.rows["request_id"] == "req_1" and card.rows["$.name"] == "required"
    assert card.rows["retryable"] == "no" and card.rows["timestamp"] == "2026-11-30 14:05:00 UTC"


@pytest.mark.parametrize("error, rows", [
    (APIConnectionError("connection refused", method="GET", url="http://127.0.0.1:9/v1/x", attempts=3),
     {"message": "connection refused", "request": "GET http://127.0.0.1:9/v1/x", "attempts": "3"}),
    (InvalidRequestError("name must be a str", field="name", value="<script>"),
     {"message": "name must be a str", "field": "name", "value": "'<script>'"}),
    (InvalidTransitionError("closed", order_id="o-1", current="completed", requested="ready"),
     {"message": "closed", "order_id": "o-1", "current": "completed", "requested": "ready"}),
])
def test_local_errors_render_their_own_fields(error, rows):
    card = card_of(error)
    assert card.badges == ["error"] and card.rows == rows and "script" not in card.tags


def test_batch_error_lists_the_failed_calls():
    error = BatchError([(1, InvalidRequestError("bad <id>"))], total=3)
    card = card_of(error)
    assert card.rows["call [1]"] == "InvalidRequestError: bad <id>"


def test_object_card_renders_any_object_with_plain_fields():
    class Answer:                       # the shape of a raw HTTP answer
        status_code = 200
        headers = {"Content-Type": "application/json", "X-Request-Id": "req_<7>"}
        request_id = "req_<7>"
        rate_limit = {"remaining": 4999, "reset": NOON}
        attempts = 2
        elapsed = 0.01234

    page = _html.object_card(Answer(), ("status_code", "request_id", "rate_limit", "attempts", "elapsed",
                                        "headers"), badge_field="status_code")
    card = Card(page)
    assert card.badges == ["200"] and card.plain.startswith("Answer")
    assert card.rows == {"request_id": "req_<7>", "rate_limit": "remaining: 4999; reset: 2026-11-30 14:05 UTC",
                         "attempts": "2", "elapsed": "0.01234",
                         "headers": "Content-Type: application/json; X-Request-Id: req_<7>"}
    assert "background:#2a7a2a" in page                                   # 2xx is green
    assert "background:#c53030" in _html.card("x", [], 503)             # 5xx red
    assert "background:#b7791f" in _html.card("x", [], "429 Too Many Requests")


def test_long_values_are_cut_and_money_is_exact():
    card = Card(_html.card("T", [("long", "x" * 1000), ("money", Decimal("12.50")), ("none", None)]))
    assert len(card.rows["long"]) == _html.MAX_TEXT and card.rows["long"].endswith("\u2026")
    assert card.rows["money"] == "12.50" and "none" not in card.rows


def test_progress_outside_a_kernel_rewrites_one_stderr_line(capsys):
    line = _html.ProgressLine()
    line.update("step 1")
    line.update("step 2")
    line.close()
    captured = capsys.readouterr()
    assert captured.err == "\rstep 1\rstep 2\n" and captured.out == ""
