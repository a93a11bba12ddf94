"""AsyncClient's engine: the loop drives libcurl (no thread), cancellation
frees a call at once (mid-transfer, queued, mid-backoff) and never retries
it, max_concurrency queues in order, 1,000 concurrent calls, leaks, hostile
answers, fork, uvloop, one loop per client, ResourceWarning."""
from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import textwrap
import threading
import warnings

import pytest

import gettcommerce as gett
from conftest import API_KEY, Reply, in_child, problem
from gettcommerce._async import AsyncClient
from rawserver import RawServer, drip, endless, hang, ok_json, reset, response_bytes, send
from test_client import ONBOARDING

HERE = os.path.dirname(os.path.abspath(__file__))
OK_STATUS = Reply(200, {"status": "online"})


def make(url, **kw):
    kw.setdefault("timeout", 5.0)
    return AsyncClient(api_key=API_KEY, base_url=url, **kw)


def assert_idle(client):
    """Nothing of any call is left: no call, no transfer, no watched socket."""
    engine = client._engine
    assert (engine.live, engine.in_flight) == (0, 0)


async def until(predicate, what):
    """Wait (on the loop) for something another thread does; fails after 10 s."""
    for _ in range(10_000):
        if predicate():
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def raw():
    with RawServer() as srv:
        yield srv


# ------------------------------------------------------------ no thread, loop-driven

def test_calls_run_on_the_loop_thread_without_extra_threads(server):
    server.default = lambda req: OK_STATUS

    async def main():
        async with make(server.url) as client:
            before = set(threading.enumerate())
            results = await asyncio.gather(*(client.stores.get_status(f"s{i}") for i in range(50)))
            # The test server serves each connection on a thread of its own; nothing else may start one.
            new = [t for t in set(threading.enumerate()) - before if "process_request" not in t.name]
            assert new == []
            assert all(r.is_online for r in results)
            assert_idle(client)
            assert client._engine.watched == 0
    asyncio.run(main())


# ------------------------------------------------------------ cancellation

def test_cancelling_mid_transfer_removes_the_call_at_once(server):
    server.default = lambda req: Reply(200, {"status": "online"}, delay=2)

    async def main():
        async with make(server.url) as client:
            task = asyncio.ensure_future(client.stores.get_status("s1"))
            await until(lambda: len(server.requests) == 1, "the request")
            assert client._engine.in_flight == 1 and client._engine.watched == 1
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert_idle(client)
            assert client._engine.watched == 0  # its socket closed and unwatched at once
            server.default = lambda req: OK_STATUS
            assert (await client.stores.get_status("s2")).is_online
    asyncio.run(main())


def test_wait_for_expiring_cancels_the_transfer(server):
    server.default = lambda req: Reply(200, {"status": "online"}, delay=2)

    async def main():
        async with make(server.url) as client:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.stores.get_status("s1"), 0.2)
            assert_idle(client)
    asyncio.run(main())


@pytest.mark.parametrize("call", ["get_status", "register"])
def test_a_call_cancelled_during_its_backoff_is_never_retried(server, call):
    server.add(Reply(503, problem(503, "SERVICE_UNAVAILABLE"), headers={"Retry-After": "0.3"}))
    server.default = lambda req: Reply(201, ONBOARDING) if req.method == "POST" else OK_STATUS

    async def main():
        async with make(server.url) as client:
            if call == "register":
                coro = client.onboarding.register(partner_store_id="p", name="n",
                                                  catalog_callback_url="https://c/c.json",
                                                  webhook_url="https://w/h")
            else:
                coro = client.stores.get_status("s1")
            task = asyncio.ensure_future(coro)
            await until(lambda: len(server.requests) == 1 and client._engine.in_flight == 0,
                        "the 503 to be read")
            assert client._engine.live == 1  # waiting on its backoff
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert_idle(client)
            await asyncio.sleep(0.6)  # past the Retry-After: nothing may be sent
            assert len(server.requests) == 1
    asyncio.run(main())


async def start_held_calls(server, client, count, limit):
    """Start ``count`` get_status calls against a server that holds every
    answer until the returned event is set; checks that only ``limit``
    (the client's max_concurrency) went out. Returns (tasks, release)."""
    release = threading.Event()
    server.default = lambda req: (release.wait(10), OK_STATUS)[1]
    tasks = [asyncio.ensure_future(client.stores.get_status(f"s{i}")) for i in range(count)]
    await until(lambda: len(server.requests) == limit, f"{limit} requests")
    await asyncio.sleep(0.05)
    assert len(server.requests) == limit and client._engine.in_flight == limit
    return tasks, release


def test_max_concurrency_queues_calls_in_order_and_cancelling_a_queued_call_never_sends_it(server):
    async def main():
        async with make(server.url, max_concurrency=1) as client:
            tasks, release = await start_held_calls(server, client, 6, 1)
            assert client._engine.live == 6
            tasks[3].cancel()
            with pytest.raises(asyncio.CancelledError):
                await tasks[3]
            assert client._engine.live == 5
            release.set()
            done = await asyncio.gather(*(tasks[:3] + tasks[4:]))
            assert all(s.is_online for s in done)
            assert_idle(client)
    asyncio.run(main())
    assert [r.path.split("/")[-2] for r in server.requests] == ["s0", "s1", "s2", "s4", "s5"]


def test_max_concurrency_bounds_the_transfers_in_flight(server):
    async def main():
        async with make(server.url, max_concurrency=3) as client:
            tasks, release = await start_held_calls(server, client, 10, 3)
            release.set()
            assert len(await asyncio.gather(*tasks)) == 10
    asyncio.run(main())
    assert len({r.port for r in server.requests}) <= 3


def test_one_thousand_concurrent_calls_through_one_client(server):
    server.default = lambda req: Reply(200, {"status": "online" if req.path.split("/")[-2] != "s7"
                                             else "paused", "reason": "too_busy"})

    async def main():
        async with make(server.url, timeout=60.0) as client:
            results = await asyncio.gather(*(client.stores.get_status(f"s{i}") for i in range(1000)))
            assert_idle(client)
            return results
    results = asyncio.run(main())
    assert [r.store_id for r in results] == [f"s{i}" for i in range(1000)]
    assert [i for i, r in enumerate(results) if not r.is_online] == [7]
    assert len(server.requests) == 1000
    assert len({r.port for r in server.requests}) <= 64  # max_concurrency connections


def test_aclose_ends_calls_in_flight_with_a_clear_error(server):
    server.default = lambda req: Reply(200, {"status": "online"}, delay=2)

    async def main():
        client = make(server.url)
        task = asyncio.ensure_future(client.stores.get_status("s1"))
        await until(lambda: len(server.requests) == 1, "the request")
        engine = client._engine
        await client.aclose()
        with pytest.raises(gett.InvalidRequestError, match="closed"):
            await task
        assert engine.closed and engine.live == 0 and engine.watched == 0
    asyncio.run(main())


LEAK_SCRIPT = textwrap.dedent("""
    import asyncio, gc, json, sys
    from gettcommerce._async import AsyncClient

    def rss_kb():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])

    async def main():
        got = []
        waiting = asyncio.Condition()

        async def handle(reader, writer):
            # Read requests; answer /backoff ones with a 503 asking for a long wait, never the others.
            try:
                while True:
                    head = await reader.readuntil(b"\\r\\n\\r\\n")
                    if b"/backoff/" in head:
                        writer.write(b"HTTP/1.1 503 Service Unavailable\\r\\nRetry-After: 30\\r\\n"
                                     b"Content-Length: 0\\r\\n\\r\\n")
                    async with waiting:
                        got.append(1)
                        waiting.notify_all()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = AsyncClient(api_key="zpka_leak", base_url=f"http://127.0.0.1:{port}", timeout=60)
        engine_ref = []

        async def group(n, kind):
            got.clear()
            tasks = [asyncio.ensure_future(client.stores.get_status(f"{kind}")) for _ in range(n)]
            async with waiting:
                await waiting.wait_for(lambda: len(got) == n)
            engine = client._engine
            while engine.in_flight and kind == "backoff":
                await asyncio.sleep(0.001)
            assert engine.live == n, engine.live
            for t in tasks:
                t.cancel()
            for t in tasks:
                try:
                    await t
                except asyncio.CancelledError:
                    pass
            assert engine.live == 0 and engine.in_flight == 0, (engine.live, engine.in_flight)

        async def rounds(k):
            for i in range(k):
                await group(50, "transfer" if i % 2 else "backoff")

        await rounds(40)        # 2,000 calls to warm up
        gc.collect()
        objects, rss = len(gc.get_objects()), rss_kb()
        await rounds(200)       # 10,000 cancelled calls: half mid-transfer, half mid-backoff
        gc.collect()
        print(json.dumps({"objects": len(gc.get_objects()) - objects, "rss_kb": rss_kb() - rss,
                          "watched": client._engine.watched}))
        await client.aclose()
        server.close()

    asyncio.run(main())
""")


def test_ten_thousand_cancelled_calls_leave_objects_and_rss_flat(tmp_path):
    script = tmp_path / "leak.py"
    script.write_text(LEAK_SCRIPT)
    # The child imports gettcommerce as this process does (the installed package under make test).
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
                         timeout=600)
    assert out.returncode == 0, out.stderr
    growth = json.loads(out.stdout.strip().splitlines()[-1])
    assert growth["objects"] < 500, growth
    assert growth["rss_kb"] < 4096, growth
    assert growth["watched"] == 0


# ------------------------------------------------------------ hostile answers

def _raw_call(raw, handler, **kw):
    raw.add(handler)

    async def main():
        async with make(raw.url, **kw) as client:
            try:
                return await client.stores.get("s1")
            finally:
                assert_idle(client)
    return asyncio.run(main())


@pytest.mark.parametrize("handler,error,match", [
    (send(response_bytes(200, b"{}", headers={"X-Padding": "a" * 150_000})), gett.APIConnectionError,
     "header line over 100 KB"),
    (send(response_bytes(200, b'{"storeId": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"), keep_alive=True),
     gett.APIConnectionError, "nested more than 1000 levels deep"),
    (send(response_bytes(200, b'{"storeId": "s1", "name": "on\\u0000line"}'), keep_alive=True),
     gett.APIConnectionError, "NUL character"),
    (send(response_bytes(200, b'{"storeId": "s1"} x'), keep_alive=True), gett.APIConnectionError,
     "followed by other bytes"),
    (send(response_bytes(200, b'{"storeId": "s1", "name": "Pi'), keep_alive=True),
     gett.APIConnectionError, "not valid JSON"),
    (send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
     gett.APIConnectionError, None),
    (send(b"NOT HTTP AT ALL\r\n\r\n"), gett.APIConnectionError, None),
])
def test_hostile_answers_are_typed_errors(raw, handler, error, match):
    with pytest.raises(error, match=match):
        _raw_call(raw, handler, max_retries=0)


def test_a_body_over_max_response_bytes_is_stopped(raw):
    with pytest.raises(gett.APIConnectionError, match="max_response_bytes"):
        _raw_call(raw, endless(200 * 1024 * 1024), max_response_bytes=1 << 20)


def test_a_slow_drip_hits_the_deadline(raw):
    stop = threading.Event()
    try:
        with pytest.raises(gett.APITimeoutError):
            _raw_call(raw, drip(b'{"storeId": "s1"}' * 10, interval=0.2, stop=stop), timeout=0.5)
    finally:
        stop.set()


def test_a_server_that_never_answers_hits_the_deadline_on_libcurls_timer_alone(raw):
    # No byte ever arrives: only libcurl's timer (a loop timer) can end these calls.
    stop = threading.Event()
    raw.default = hang(stop)

    async def main():
        async with make(raw.url, timeout=0.4, max_retries=0) as client:
            results = await asyncio.gather(*(client.stores.get(f"s{i}") for i in range(3)),
                                           return_exceptions=True)
            assert_idle(client)
            return results
    try:
        results = asyncio.run(main())
    finally:
        stop.set()
    assert all(isinstance(r, gett.APITimeoutError) for r in results), results


def test_an_idle_connection_the_server_closes_is_dropped_and_the_next_call_reconnects(raw):
    # Answered as keep-alive, then closed by the server while idle: the loop
    # sees it readable once; the next call opens a new connection.
    raw.add(send(response_bytes(200, b'{"status": "online"}')))
    raw.default = ok_json()

    async def main():
        async with make(raw.url) as client:
            assert (await client.stores.get_status("s1")).is_online
            selector = getattr(asyncio.get_running_loop(), "_selector", None)
            await until(lambda: selector is None or len(selector.get_map()) <= 1, "the closed socket unwatched")
            assert (await client.stores.get_status("s2")).is_online
            assert_idle(client)
    asyncio.run(main())
    assert len({r.conn_id for r in raw.requests}) == 2


def test_a_reset_is_retried_for_reads(raw):
    raw.add(reset())
    raw.default = ok_json({"storeId": "s1"})
    assert _raw_call(raw, reset()).store_id == "s1"


# ------------------------------------------------------------ loops, uvloop, fork, warnings

def test_uvloop_runs_calls_retries_and_cancellation(server):
    uvloop = pytest.importorskip("uvloop")
    server.add(Reply(503, headers={"Retry-After": "0"}))
    server.default = lambda req: OK_STATUS

    async def main():
        assert "uvloop" in type(asyncio.get_running_loop()).__module__
        async with make(server.url) as client:
            results = await asyncio.gather(*(client.stores.get_status(f"s{i}") for i in range(200)))
            assert all(r.is_online for r in results)
            server.default = lambda req: Reply(200, {"status": "online"}, delay=2)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.stores.get_status("slow"), 0.1)
            assert_idle(client)
            assert client._engine.watched == 0
    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    assert len(server.requests) == 202


def test_a_client_used_from_a_second_loop_raises_runtime_error_naming_the_fix(server):
    server.default = lambda req: OK_STATUS
    client = make(server.url)

    async def call():
        return await client.stores.get_status("s1")
    try:
        asyncio.run(call())
        with pytest.raises(RuntimeError, match="create one AsyncClient per event loop"):
            asyncio.run(call())
    finally:
        asyncio.run(client.aclose())


def test_an_unclosed_client_warns_resource_warning_not_event_loop_is_closed(server):
    server.default = lambda req: OK_STATUS
    unraisable = []
    old_hook = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    try:
        async def main():
            client = make(server.url)
            await client.stores.get_status("s1")
            return client
        client = asyncio.run(main())  # the loop is closed now, the client is not
        with pytest.warns(ResourceWarning, match="unclosed"):
            del client
            gc.collect()
    finally:
        sys.unraisablehook = old_hook
    assert unraisable == []


def test_an_unclosed_client_collected_while_its_loop_runs_warns_and_frees_its_sockets(server):
    server.default = lambda req: OK_STATUS

    async def main():
        client = make(server.url)
        await client.stores.get_status("s1")
        with pytest.warns(ResourceWarning):
            del client
            gc.collect()
        await asyncio.sleep(0.01)  # the loop goes on normally
    asyncio.run(main())


def test_fork_child_gets_a_fresh_engine_and_the_parent_keeps_its_connection(server):
    server.default = lambda req: OK_STATUS
    client = make(server.url)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(client.stores.get_status("parent1"))

        def child():
            async def main():
                assert (await client.stores.get_status("child")).is_online
                await client.aclose()
            asyncio.run(main())
        assert in_child(child) == 0
        loop.run_until_complete(client.stores.get_status("parent2"))
        loop.run_until_complete(client.aclose())
    finally:
        loop.close()
    by_path = {r.path.split("/")[-2]: r.port for r in server.requests}
    assert set(by_path) == {"parent1", "child", "parent2"}
    assert by_path["parent1"] == by_path["parent2"] != by_path["child"]


def test_a_client_used_from_another_thread_s_loop_is_refused(server):
    server.default = lambda req: OK_STATUS
    client = make(server.url)
    errors = []

    async def main():
        await client.stores.get_status("s1")

        def other():
            try:
                asyncio.run(client.stores.get_status("s2"))
            except RuntimeError as exc:
                errors.append(exc)
        t = threading.Thread(target=other)
        t.start()
        await asyncio.get_running_loop().run_in_executor(None, t.join)
        await client.aclose()
    asyncio.run(main())
    assert len(errors) == 1 and "per event loop" in str(errors[0])
