"""with_options: a light copy with other timeout/retries/extra headers, sharing the
parent's connections; closing the parent closes them, closing a copy does not."""
from __future__ import annotations

import asyncio
import math

import pytest

import gettcommerce as gett
from conftest import API_KEY, Reply, problem

STATUS = Reply(200, {"status": "online"})


def busy() -> Reply:
    return Reply(503, problem(503, "SERVICE_UNAVAILABLE"), headers={"Retry-After": "0"})


def test_extra_headers_go_on_every_request_of_the_copy_only(client, server):
    server.default = lambda req: STATUS
    traced = client.with_options(extra_headers={"X-Trace": "1", "Accept": "application/json; v=2"})
    traced.stores.get_status("s1")
    client.stores.get_status("s1")
    with traced.batch() as batch:
        batch.stores.get_status("s2")
        batch.orders.update_status("o1", status="ready")
    first, plain, *batched = server.requests
    assert first.headers["X-Trace"] == "1" and first.headers["Accept"] == "application/json; v=2"
    assert first.headers["Authorization"] == f"Bearer {API_KEY}"
    assert "X-Trace" not in plain.headers and plain.headers["Accept"] == "application/json"
    assert [r.headers.get("X-Trace") for r in batched] == ["1", "1"]
    # The batch's two calls run concurrently: pick the POST by its method.
    [post] = [r for r in batched if r.method == "POST"]
    assert post.headers["Content-Type"] == "application/json"


def test_a_copy_of_a_copy_merges_headers_case_insensitively(client, server):
    server.default = lambda req: STATUS
    copy = client.with_options(extra_headers={"X-Trace": "1", "X-Team": "a"})
    again = copy.with_options(extra_headers={"x-trace": "2"}, max_retries=0)
    again.stores.get_status("s1")
    assert again.extra_headers == {"X-Team": "a", "x-trace": "2"}
    sent = {k.lower(): v for k, v in server.requests[0].headers.items()}
    assert sent["x-trace"] == "2" and sent["x-team"] == "a"
    assert (again.timeout, again.max_retries, copy.max_retries) == (client.timeout, 0, client.max_retries)


def test_max_retries_and_timeout_of_the_copy_apply(client, server):
    server.add(busy(), busy(), STATUS)
    with pytest.raises(gett.InternalServerError):
        client.with_options(max_retries=0).stores.get_status("s1")
    assert len(server.requests) == 1
    assert client.stores.get_status("s1").status == "online"  # the parent still retries
    assert len(server.requests) == 3
    server.add(Reply(200, {"status": "online"}, delay=1.0))
    with pytest.raises(gett.APITimeoutError, match="0.1 s"):
        client.with_options(timeout=0.1, max_retries=0).stores.get_status("s1")


@pytest.mark.parametrize("name", ["Authorization", "content-type", "USER-AGENT", "Content-Length", "Host"])
def test_headers_the_client_owns_are_refused_by_name(client, name):
    with pytest.raises(gett.InvalidRequestError) as raised:
        client.with_options(extra_headers={name: "x"})
    assert name in str(raised.value) and raised.value.field == "extra_headers"


@pytest.mark.parametrize("headers", [{"X-A": "1\r\nX-Evil: 1"}, {"X-A\r\nX-Evil": "1"}, {"X-A": "a\nb"},
                                     {"X A": "1"}, {"": "1"}, {"X-A": ""}, {"X-A": 1}, {1: "a"}])
def test_cr_lf_and_malformed_headers_are_refused(client, server, headers):
    with pytest.raises(gett.InvalidRequestError) as raised:
        client.with_options(extra_headers=headers)
    assert raised.value.field == "extra_headers"
    assert server.requests == []


def test_extra_headers_must_be_a_mapping_and_the_refusal_never_shows_the_values(client):
    with pytest.raises(gett.InvalidRequestError, match="extra_headers") as raised:
        client.with_options(extra_headers=[("X-Api-Token", "sk_live_SECRET")])  # type: ignore[arg-type]
    assert "list" in str(raised.value)
    assert "sk_live_SECRET" not in str(raised.value) and "sk_live_SECRET" not in repr(raised.value.value)


@pytest.mark.parametrize("field,value", [("timeout", 0), ("timeout", -1.0), ("timeout", math.nan),
                                         ("timeout", math.inf), ("timeout", "5"), ("timeout", True),
                                         ("connect_timeout", 0.0), ("max_retries", -1),
                                         ("max_retries", 1.5), ("max_retries", True)])
def test_bad_values_name_the_field(client, field, value):
    with pytest.raises(gett.InvalidRequestError) as raised:
        client.with_options(**{field: value})
    assert raised.value.field == field and field in str(raised.value)


def test_parent_and_copies_share_one_connection(client, server):
    server.default = lambda req: STATUS
    client.stores.get_status("s1")
    for n in range(3):
        client.with_options(timeout=4.0, extra_headers={"X-N": str(n)}).stores.get_status("s1")
        client.stores.get_status("s1")
    assert len(server.requests) == 7
    assert len({r.port for r in server.requests}) == 1


def test_closing_a_copy_leaves_the_parent_open_and_closing_the_parent_closes_copies(client, server):
    server.default = lambda req: STATUS
    with client.with_options(max_retries=0) as copy:
        copy.stores.get_status("s1")
    assert not copy.closed and not client.closed
    client.stores.get_status("s1")
    client.close()
    assert copy.closed
    with pytest.raises(gett.InvalidRequestError, match="closed"):
        copy.stores.get_status("s1")
    with pytest.raises(gett.InvalidRequestError, match="closed"):
        client.with_options(timeout=1.0)
    assert len({r.port for r in server.requests}) == 1


def test_async_copies_share_the_engine_and_send_their_headers(server):
    server.default = lambda req: STATUS

    async def main():
        client = gett.AsyncClient(api_key=API_KEY, base_url=server.url, timeout=5.0)
        await client.stores.get_status("s1")
        async with client.with_options(extra_headers={"X-Trace": "a"}, max_retries=0) as copy:
            await copy.stores.get_status("s1")
        assert not client.closed
        await client.stores.get_status("s1")
        await client.aclose()
        assert copy.closed
        with pytest.raises(gett.InvalidRequestError, match="closed"):
            await copy.stores.get_status("s1")

    asyncio.run(main())
    assert [r.headers.get("X-Trace") for r in server.requests] == [None, "a", None]
    assert len({r.port for r in server.requests}) == 1


def test_async_copies_apply_their_retries_and_timeout(server):
    server.add(busy(), busy(), STATUS, Reply(200, {"status": "online"}, delay=1.0))

    async def main():
        async with gett.AsyncClient(api_key=API_KEY, base_url=server.url, timeout=5.0) as client:
            with pytest.raises(gett.InternalServerError):
                await client.with_options(max_retries=0).stores.get_status("s1")
            assert len(server.requests) == 1
            assert (await client.stores.get_status("s1")).status == "online"   # the parent retries
            assert len(server.requests) == 3
            with pytest.raises(gett.APITimeoutError, match="0.1 s"):
                await client.with_options(timeout=0.1, max_retries=0).stores.get_status("s1")

    asyncio.run(main())
