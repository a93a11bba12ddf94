"""Type-checked by tests/test_typing.py (mypy --strict, pyright strict): the
public API as a user writes it.  Every assert_type fails the check if the
name it looks at turns into Any or changes type."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, List, Optional, Tuple, assert_type

import gettcommerce as gett
from gettcommerce import _core, webhooks
from gettcommerce.errors import APIStatusError, GettError, InvalidRequestError
from gettcommerce.sandbox import Sandbox


def stores_and_orders(client: gett.Client) -> Optional[str]:
    assert_type(client, gett.Client)
    stores = client.stores.list()
    assert_type(stores, List[gett.Store])
    status = client.stores.pause(stores[0].store_id, gett.PauseReason.TOO_BUSY,
                                 resume_at=dt.timedelta(minutes=5))
    assert_type(status, gett.StoreStatus)
    assert_type(status.is_online, bool)
    order = client.order("o1").confirm().mark_ready()
    assert_type(order, gett.Order)
    assert_type(client.batch(concurrency=4), gett.Batch)
    return stores[0].name


def errors(client: gett.Client) -> Tuple[int, Optional[str], Optional[float]]:
    try:
        client.stores.get("s1")
    except gett.NotFoundError as exc:
        assert_type(exc, gett.NotFoundError)
        return exc.status_code, exc.request_id, exc.retry_after
    except APIStatusError as exc:
        assert_type(exc.retryable, bool)
        raise
    except InvalidRequestError as exc:
        assert_type(exc.field, Optional[str])
        raise
    except GettError:
        raise
    return 0, None, None


def catalog() -> bytes:
    cs = gett.CatalogSet(store_id="store-1")
    cs.add_item("fries", name="Fries", base_price="2.50")
    cs.add_section("mains", name="Mains", item_ids=["fries"])
    issues = cs.validate()
    assert_type(issues, List[gett.CatalogIssue])
    assert_type(issues[0].is_error if issues else False, bool)
    assert_type(gett.CatalogSet.from_json(b"{}"), gett.CatalogSet)
    assert_type(gett.validate_catalogset(b"{}"), List[gett.CatalogIssue])
    return cs.to_json()


def hooks(body: bytes, headers: dict[str, str]) -> gett.Order:
    app = gett.WebhookApp("whsec_x", on_validate=lambda o: o.amounts, on_place=lambda o: "POS-1")
    assert_type(app, gett.WebhookApp)
    assert_type(webhooks.compute_signature(body, "whsec_x"), str)
    incoming = gett.IncomingOrder.parse(body)
    assert_type(incoming, gett.IncomingOrder)
    assert_type(incoming.amounts, gett.Amounts)
    return incoming.order()


def money() -> Decimal:
    amounts = gett.Amounts(sub_total=Decimal("10"), taxes=Decimal("1"))
    assert_type(amounts.sub_total, Decimal)
    return amounts.sub_total


def sandbox() -> str:
    with Sandbox() as sb:
        assert_type(sb, Sandbox)
        store_id = sb.create_store(partner_store_id="pos-1", name="Pizza Place")
        return sb.url + store_id


def core() -> bool:
    raw = _core.Client("http://127.0.0.1:1", "k", "ua", timeout=1.0, connect_timeout=1.0,
                       max_retries=0, max_response_bytes=1000, ca_bundle=None, pool_size=1, proxy=None)
    assert_type(raw, _core.Client)
    results: List[Optional[Tuple[bool, Any]]] = [None]
    raw.run_batch([(0, (), None, None)], results, concurrency=2, progress=False)
    first = results[0]
    return first is not None and first[0]
