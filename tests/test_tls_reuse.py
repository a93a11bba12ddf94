"""Fewer handshakes: one Client's handles share TLS sessions (and DNS), and a
batch (or an AsyncClient's calls) over HTTP/2 multiplexes its calls on one
connection.

Counted from nginx's access log (tests/tls_nginx.py): the connection serial
and ``$ssl_session_reused`` of every request.  No timing is measured.
"""
from __future__ import annotations

import asyncio
import shutil
import threading

import pytest

import gettcommerce
from tls_nginx import TlsNginx, nginx_binary

pytestmark = pytest.mark.skipif(
    nginx_binary() is None or shutil.which("openssl") is None,
    reason="needs nginx and the openssl CLI (.ci/install-services.sh installs nginx-light)")

STORE = "store-1"


@pytest.fixture(scope="module")
def h2():
    with TlsNginx(http2=True) as server:
        yield server


@pytest.fixture(scope="module")
def h1():
    with TlsNginx(http2=False) as server:
        yield server


def _client(server: TlsNginx, **kwargs) -> gettcommerce.Client:
    return gettcommerce.Client("zpka_test_key", base_url=server.url, ca_bundle=server.ca_file,
                               proxy="", **kwargs)


def _new_lines(server: TlsNginx, before: int, expected: int):
    lines = server.lines(at_least=before + expected)
    assert len(lines) == before + expected, lines[before:]
    return lines[before:]


def _first_per_connection(lines):
    seen = {}
    for line in lines:
        seen.setdefault(line.connection, line)
    return seen


@pytest.mark.parametrize("server_name", ["h1", "h2"])
def test_threads_on_one_client_resume_sessions(request, server_name):
    server = request.getfixturevalue(server_name)
    before = len(server.lines())
    threads, calls = 8, 50
    with _client(server) as client:
        assert client.stores.get_status(STORE).status == "paused"  # one full handshake
        barrier = threading.Barrier(threads)
        errors = []

        def work():
            try:
                barrier.wait()
                for _ in range(calls):
                    client.stores.get_status(STORE)
            except BaseException as exc:  # reported below
                errors.append(exc)

        pool = [threading.Thread(target=work) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        assert errors == []
    lines = _new_lines(server, before, 1 + threads * calls)
    firsts = _first_per_connection(lines)
    # The pool keeps a handle (and its keep-alive connection) per thread.
    assert len(firsts) <= threads, sorted(firsts)
    # The first connection made a full handshake; connections the threads
    # opened later resumed the session it left in the client's shared cache
    # (without the share every new handle starts with an empty cache, so
    # each of them made a full handshake).  Not all of them: when several
    # handshakes run at once, libcurl 7.88 sometimes offers none.
    ordered = [firsts[c] for c in sorted(firsts)]
    assert not ordered[0].reused
    resumed = [line for line in ordered[1:] if line.reused]
    assert resumed, str([(line.connection, line.reused) for line in ordered])


def test_batch_resumes_session_and_multiplexes_over_h2(h2):
    before = len(h2.lines())
    n = 40
    with _client(h2) as client:
        for _ in range(3):
            client.stores.get_status(STORE)
        protocol = h2.lines(at_least=before + 3)[-1].protocol
        if protocol != "HTTP/2.0":
            pytest.skip(f"this libcurl negotiated {protocol}: built without HTTP/2")
        with client.batch(concurrency=10) as batch:
            for _ in range(n):
                batch.stores.get_status(STORE)
        assert all(r.status == "paused" for r in batch.results)
    lines = _new_lines(h2, before, 3 + n)
    sequential, batched = lines[:3], lines[3:]
    assert len({line.connection for line in sequential}) == 1
    batch_conns = _first_per_connection(batched)
    # Multiplexed: the batch's 40 calls, 10 at a time, share one HTTP/2 connection ...
    assert len(batch_conns) == 1, sorted(batch_conns)
    assert all(line.protocol == "HTTP/2.0" for line in batched)
    # ... which resumed the TLS session the sequential calls started.
    assert all(line.reused for line in batch_conns.values())


def test_async_calls_multiplex_over_h2_from_a_cold_start(h2):
    # 40 calls, 10 at a time, on a client with no connection yet: the first
    # ten start together, and they wait for the first connection's ALPN
    # answer (h2: multiplex) instead of opening a connection each.
    before = len(h2.lines())
    n = 40

    async def main():
        async with gettcommerce.AsyncClient("zpka_test_key", base_url=h2.url, ca_bundle=h2.ca_file,
                                            proxy="", max_concurrency=10) as client:
            return await asyncio.gather(*(client.stores.get_status(STORE) for _ in range(n)))

    assert all(r.status == "paused" for r in asyncio.run(main()))
    lines = _new_lines(h2, before, n)
    if lines[-1].protocol != "HTTP/2.0":
        pytest.skip(f"this libcurl negotiated {lines[-1].protocol}: built without HTTP/2")
    assert len(_first_per_connection(lines)) == 1, sorted(_first_per_connection(lines))


def test_batch_resumes_the_session_sequential_calls_made(h1):
    # A batch's handles are new ones, on the batch's own connections: with
    # the shared session cache they resume the sequential calls' session.
    before = len(h1.lines())
    n = 5
    with _client(h1) as client:
        client.stores.get_status(STORE)
        with client.batch(concurrency=1) as batch:
            for _ in range(n):
                batch.stores.get_status(STORE)
        assert all(r.status == "paused" for r in batch.results)
    lines = _new_lines(h1, before, 1 + n)
    assert not lines[0].reused
    batch_conns = _first_per_connection(lines[1:])
    assert len(batch_conns) == 1
    assert all(line.reused for line in batch_conns.values()), batch_conns
