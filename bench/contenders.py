"""One benchmark contender per process: bench/run.py starts this file once per
(contender, run) so that imports, connection pools and peak RSS never leak
from one measurement into the next.

    python bench/contenders.py NAME --url http://127.0.0.1:PORT --calls N --warmup W

prints one JSON line, ``{"calls": N, "seconds": S, "errors": E}``, or
``{"unavailable": "why"}`` when the contender cannot run here (for example
``client.batch()`` before it lands).  Every contender does the same work per
call: format the URL, send the same headers, serialise the JSON body (POST),
check for 200 and parse the JSON answer (GET) -- so the figures compare
client stacks, not workloads.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from typing import Callable, Dict, Tuple

API_KEY = "zpka_bench"
STORE_ID = "0b6f6c2e-5a0e-4b8e-9c1d-3d0c2f1a9b10"
STATUS_PATH = f"/v1/commerce/stores/{STORE_ID}/status"
# bench/run.py passes the User-Agent gettcommerce sends, so every contender's
# request has the same length, and for an https:// URL the server's self-signed
# certificate as the CA file.
HEADERS = {"Authorization": f"Bearer {API_KEY}", "Accept": "application/json",
           "User-Agent": os.environ.get("BENCH_USER_AGENT") or "bench-peer/1"}
CA_FILE = os.environ.get("BENCH_CA_FILE") or None
if CA_FILE:  # requests prefers this variable (when set) over Session.verify
    os.environ["REQUESTS_CA_BUNDLE"] = CA_FILE
POST_HEADERS = dict(HEADERS, **{"Content-Type": "application/json"})


class Unavailable(Exception):
    """The contender cannot run in this checkout (reported, not an error)."""


def order_path(index: int) -> str:
    return f"/v1/commerce/orders/ord-{index}/status"


def timed(call: Callable[[int], int], calls: int, warmup: int) -> Tuple[float, int]:
    """Warm up, then time ``calls`` sequential calls; returns (seconds, errors)."""
    for i in range(warmup):
        if call(i):
            raise RuntimeError(f"warm-up call {i} failed")
    errors = 0
    started = time.perf_counter()
    for i in range(calls):
        errors += call(i)
    return time.perf_counter() - started, errors


def timed_then_close(op: str, get: Callable[[int], int], post: Callable[[int], int], calls: int,
                     warmup: int, close: Callable[[], object]) -> Tuple[float, int]:
    """:func:`timed` of ``get`` or ``post`` (by ``op``), then ``close()`` the client."""
    try:
        return timed(post if op == "post" else get, calls, warmup)
    finally:
        close()


def parsed_ok(raw: bytes) -> int:
    """0 when ``raw`` is a StoreStatus document, else 1 (an error)."""
    return 0 if isinstance(json.loads(raw).get("status"), str) else 1


# --- sequential peers -------------------------------------------------------

def seq_pycurl(url: str, op: str, calls: int, warmup: int) -> Tuple[float, int]:
    import pycurl

    curl = pycurl.Curl()
    chunks: list = []
    curl.setopt(pycurl.WRITEFUNCTION, chunks.append)
    curl.setopt(pycurl.NOSIGNAL, 1)
    curl.setopt(pycurl.TCP_NODELAY, 1)
    if CA_FILE:
        curl.setopt(pycurl.CAINFO, CA_FILE)
    headers = POST_HEADERS if op == "post" else HEADERS
    curl.setopt(pycurl.HTTPHEADER, [f"{k}: {v}" for k, v in headers.items()])
    status_url = url + STATUS_PATH

    def get(_: int) -> int:
        chunks.clear()
        curl.setopt(pycurl.URL, status_url)
        curl.perform()
        if curl.getinfo(pycurl.RESPONSE_CODE) != 200:
            return 1
        return parsed_ok(b"".join(chunks))

    def post(i: int) -> int:
        chunks.clear()
        curl.setopt(pycurl.URL, url + order_path(i))
        curl.setopt(pycurl.POSTFIELDS, json.dumps({"status": "confirmed"}))
        curl.perform()
        return 0 if curl.getinfo(pycurl.RESPONSE_CODE) == 200 else 1

    return timed_then_close(op, get, post, calls, warmup, curl.close)


def seq_urllib3(url: str, op: str, calls: int, warmup: int) -> Tuple[float, int]:
    import urllib3

    tls = {"ca_certs": CA_FILE} if CA_FILE else {}
    pool = urllib3.connection_from_url(url, maxsize=1, retries=False, **tls)

    def get(_: int) -> int:
        resp = pool.request("GET", STATUS_PATH, headers=HEADERS)
        return 1 if resp.status != 200 else parsed_ok(resp.data)

    def post(i: int) -> int:
        resp = pool.request("POST", order_path(i), body=json.dumps({"status": "confirmed"}),
                            headers=POST_HEADERS)
        return 0 if resp.status == 200 else 1

    return timed_then_close(op, get, post, calls, warmup, pool.close)


def seq_requests(url: str, op: str, calls: int, warmup: int) -> Tuple[float, int]:
    import requests

    session = requests.Session()
    session.headers.update(HEADERS)
    session.verify = CA_FILE or True
    status_url = url + STATUS_PATH

    def get(_: int) -> int:
        resp = session.get(status_url)
        return 1 if resp.status_code != 200 else parsed_ok(resp.content)

    def post(i: int) -> int:
        resp = session.post(url + order_path(i), data=json.dumps({"status": "confirmed"}),
                            headers={"Content-Type": "application/json"})
        return 0 if resp.status_code == 200 else 1

    return timed_then_close(op, get, post, calls, warmup, session.close)


def seq_httpx(url: str, op: str, calls: int, warmup: int) -> Tuple[float, int]:
    import httpx

    client = httpx.Client(base_url=url, headers=HEADERS, verify=_ssl_context())

    def get(_: int) -> int:
        resp = client.get(STATUS_PATH)
        return 1 if resp.status_code != 200 else parsed_ok(resp.content)

    def post(i: int) -> int:
        resp = client.post(order_path(i), content=json.dumps({"status": "confirmed"}),
                           headers={"Content-Type": "application/json"})
        return 0 if resp.status_code == 200 else 1

    return timed_then_close(op, get, post, calls, warmup, client.close)


def _gett_client(url: str):
    try:
        import gettcommerce
        client_class = gettcommerce.Client
    except (ImportError, AttributeError) as exc:
        raise Unavailable(f"gettcommerce.Client is not importable here ({exc}); run `make build`")
    return client_class(api_key=API_KEY, base_url=url, max_retries=0, ca_bundle=CA_FILE)


def seq_gettcommerce(url: str, op: str, calls: int, warmup: int) -> Tuple[float, int]:
    client = _gett_client(url)
    get_status = client.stores.get_status
    update_status = client.orders.update_status

    def get(_: int) -> int:
        return 0 if isinstance(get_status(STORE_ID).status, str) else 1

    def post(i: int) -> int:
        update_status(f"ord-{i}", status="confirmed")  # raises on anything but 2xx
        return 0

    return timed_then_close(op, get, post, calls, warmup, client.close)


# --- batch of POSTs at a fixed concurrency ------------------------------------

def _ssl_context():
    """What the Python peers verify the server with: the bench CA, or the default."""
    import ssl

    return ssl.create_default_context(cafile=CA_FILE) if CA_FILE else True


def _async_workers(open_client, post, calls: int, warmup: int, concurrency: int) -> Tuple[float, int]:
    """The asyncio peers' batch: ``concurrency`` worker tasks on one client
    (``async with open_client()``), each taking the next call number from one
    shared iterator and awaiting ``post(client, i)`` (1 for a failed call)."""
    import asyncio

    async def run_batch(client, count: int) -> int:
        indexes = iter(range(count))

        async def worker() -> int:
            errors = 0
            for i in indexes:
                errors += await post(client, i)
            return errors

        return sum(await asyncio.gather(*(worker() for _ in range(concurrency))))

    async def main() -> Tuple[float, int]:
        async with open_client() as client:
            if await run_batch(client, warmup):
                raise RuntimeError("warm-up failed")
            started = time.perf_counter()
            errors = await run_batch(client, calls)
            return time.perf_counter() - started, errors

    return asyncio.run(main())


def batch_aiohttp(url: str, calls: int, warmup: int, concurrency: int) -> Tuple[float, int]:
    import aiohttp

    def open_client():
        connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency,
                                         ssl=_ssl_context())
        return aiohttp.ClientSession(url, connector=connector, headers=HEADERS)

    async def post(session, i: int) -> int:
        async with session.post(order_path(i), data=json.dumps({"status": "ready"}),
                                headers={"Content-Type": "application/json"}) as resp:
            await resp.read()
            return resp.status != 200

    return _async_workers(open_client, post, calls, warmup, concurrency)


def batch_httpx_async(url: str, calls: int, warmup: int, concurrency: int) -> Tuple[float, int]:
    import httpx

    def open_client():
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        return httpx.AsyncClient(base_url=url, headers=HEADERS, limits=limits, verify=_ssl_context())

    async def post(client, i: int) -> int:
        resp = await client.post(order_path(i), content=json.dumps({"status": "ready"}),
                                 headers={"Content-Type": "application/json"})
        return resp.status_code != 200

    return _async_workers(open_client, post, calls, warmup, concurrency)


def batch_requests_threads(url: str, calls: int, warmup: int, concurrency: int) -> Tuple[float, int]:
    from concurrent.futures import ThreadPoolExecutor

    import requests

    local = threading.local()
    sessions: list = []
    lock = threading.Lock()

    def session() -> "requests.Session":
        # One Session per pool thread: requests does not promise that a
        # Session is thread-safe, and this is how people run it in a pool.
        s = getattr(local, "session", None)
        if s is None:
            s = local.session = requests.Session()
            s.headers.update(HEADERS)
            s.verify = CA_FILE or True
            with lock:
                sessions.append(s)
        return s

    def run_batch(pool: ThreadPoolExecutor, count: int) -> int:
        indexes = iter(range(count))  # next() on a range iterator is atomic under the GIL

        def worker() -> int:
            errors = 0
            s = session()
            for i in indexes:
                resp = s.post(url + order_path(i), data=json.dumps({"status": "ready"}),
                              headers={"Content-Type": "application/json"})
                errors += resp.status_code != 200
            return errors

        return sum(f.result() for f in [pool.submit(worker) for _ in range(concurrency)])

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        try:
            if run_batch(pool, warmup):
                raise RuntimeError("warm-up failed")
            started = time.perf_counter()
            errors = run_batch(pool, calls)
            return time.perf_counter() - started, errors
        finally:
            for s in sessions:
                s.close()


def batch_gettcommerce(url: str, calls: int, warmup: int, concurrency: int) -> Tuple[float, int]:
    client = _gett_client(url)
    try:
        import importlib.util
        if importlib.util.find_spec("gettcommerce._batch") is None:
            raise Unavailable("client.batch() is not in this checkout")

        def run_batch(count: int) -> int:
            with client.batch(concurrency=concurrency) as batch:
                for i in range(count):
                    batch.orders.update_status(f"ord-{i}", status="ready")
            results = batch.results
            if len(results) != count:
                raise RuntimeError(f"batch returned {len(results)} results for {count} calls")
            return sum(isinstance(r, BaseException) for r in results)

        if run_batch(warmup):
            raise RuntimeError("warm-up failed")
        started = time.perf_counter()
        errors = run_batch(calls)
        return time.perf_counter() - started, errors
    finally:
        client.close()


def _gett_async_client(url: str, concurrency: int = 64):
    try:
        from gettcommerce._async import AsyncClient
    except ImportError as exc:
        raise Unavailable(f"gettcommerce.AsyncClient is not importable here ({exc}); run `make build`")
    return AsyncClient(api_key=API_KEY, base_url=url, max_retries=0, max_concurrency=concurrency,
                       ca_bundle=CA_FILE)


def batch_gettcommerce_async(url: str, calls: int, warmup: int, concurrency: int) -> Tuple[float, int]:
    """``asyncio.gather`` of every call on one AsyncClient; max_concurrency keeps
    ``concurrency`` in flight (the rest wait in its queue)."""
    import asyncio

    async def main() -> Tuple[float, int]:
        async with _gett_async_client(url, concurrency) as client:
            update_status = client.orders.update_status

            async def run_batch(count: int) -> int:
                results = await asyncio.gather(
                    *(update_status(f"ord-{i}", status="ready") for i in range(count)),
                    return_exceptions=True)
                return sum(isinstance(r, BaseException) for r in results)

            if await run_batch(warmup):
                raise RuntimeError("warm-up failed")
            started = time.perf_counter()
            errors = await run_batch(calls)
            return time.perf_counter() - started, errors

    return asyncio.run(main())


def seq_gettcommerce_async(url: str, op: str, calls: int, warmup: int) -> Tuple[float, int]:
    """One awaited call after another on one AsyncClient (the loop's round trip per call)."""
    import asyncio

    async def main() -> Tuple[float, int]:
        async with _gett_async_client(url) as client:
            get_status = client.stores.get_status
            update_status = client.orders.update_status

            async def run(count: int, offset: int) -> int:
                errors = 0
                for i in range(count):
                    if op == "post":
                        await update_status(f"ord-{offset + i}", status="confirmed")
                    elif not isinstance((await get_status(STORE_ID)).status, str):
                        errors += 1
                return errors

            if await run(warmup, 0):
                raise RuntimeError("warm-up failed")
            started = time.perf_counter()
            errors = await run(calls, warmup)
            return time.perf_counter() - started, errors

    return asyncio.run(main())


# --- threads sharing one client --------------------------------------------------

def _threaded(make_call: Callable[[], Callable[[int], int]], calls: int, warmup: int,
              threads: int) -> Tuple[float, int]:
    """``threads`` threads each make calls // threads calls; wall time of all.

    ``make_call`` is invoked once per thread (a shared client returns the same
    callable each time; per-thread handles return a new one).
    """
    per_thread = calls // threads
    barrier = threading.Barrier(threads + 1)
    errors = [0] * threads
    failures: list = []

    def body(slot: int) -> None:
        try:
            call = make_call()
            for i in range(warmup):
                if call(i):
                    raise RuntimeError("warm-up failed")
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
            barrier.abort()
            return
        barrier.wait()
        try:
            errors[slot] = sum(call(i) for i in range(per_thread))
        except BaseException as exc:
            failures.append(exc)

    workers = [threading.Thread(target=body, args=(n,), daemon=True) for n in range(threads)]
    for w in workers:
        w.start()
    try:
        barrier.wait(timeout=120)
    except threading.BrokenBarrierError:
        pass
    started = time.perf_counter()
    for w in workers:
        w.join(timeout=300)
    elapsed = time.perf_counter() - started
    if failures:
        raise failures[0]
    if any(w.is_alive() for w in workers):
        raise RuntimeError("a worker thread did not finish within 300 s")
    return elapsed, sum(errors)


def threads_gettcommerce(url: str, calls: int, warmup: int, threads: int) -> Tuple[float, int]:
    # pool_size >= threads so no thread waits for an idle handle.
    client = _gett_client(url)
    get_status = client.stores.get_status

    def call(_: int) -> int:
        return 0 if isinstance(get_status(STORE_ID).status, str) else 1

    try:
        return _threaded(lambda: call, calls, warmup, threads)
    finally:
        client.close()


def threads_pycurl(url: str, calls: int, warmup: int, threads: int) -> Tuple[float, int]:
    """Reference: what these cores allow a GIL-releasing client (one pycurl
    handle per thread, each with json.loads)."""
    import pycurl

    status_url = url + STATUS_PATH
    handles: list = []

    def make_call() -> Callable[[int], int]:
        curl = pycurl.Curl()
        handles.append(curl)
        chunks: list = []
        curl.setopt(pycurl.WRITEFUNCTION, chunks.append)
        curl.setopt(pycurl.NOSIGNAL, 1)
        curl.setopt(pycurl.HTTPHEADER, [f"{k}: {v}" for k, v in HEADERS.items()])
        if CA_FILE:
            curl.setopt(pycurl.CAINFO, CA_FILE)
        curl.setopt(pycurl.URL, status_url)

        def call(_: int) -> int:
            chunks.clear()
            curl.perform()
            if curl.getinfo(pycurl.RESPONSE_CODE) != 200:
                return 1
            return parsed_ok(b"".join(chunks))

        return call

    try:
        return _threaded(make_call, calls, warmup, threads)
    finally:
        for curl in handles:
            curl.close()


SEQUENTIAL: Dict[str, Callable[..., Tuple[float, int]]] = {
    "pycurl": seq_pycurl,
    "urllib3": seq_urllib3,
    "requests": seq_requests,
    "httpx": seq_httpx,
    "gettcommerce": seq_gettcommerce,
    "gettcommerce.AsyncClient": seq_gettcommerce_async,
}
BATCH: Dict[str, Callable[..., Tuple[float, int]]] = {
    "aiohttp": batch_aiohttp,
    "httpx.AsyncClient": batch_httpx_async,
    "requests+threads": batch_requests_threads,
    "gettcommerce": batch_gettcommerce,
    "gettcommerce.AsyncClient": batch_gettcommerce_async,
}
THREADS: Dict[str, Callable[..., Tuple[float, int]]] = {
    "gettcommerce": threads_gettcommerce,
    "pycurl": threads_pycurl,
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["seq", "batch", "threads"])
    parser.add_argument("name")
    parser.add_argument("--url", required=True)
    parser.add_argument("--op", choices=["get", "post"], default="get")
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.calls <= 0 or args.warmup < 0:
        parser.error("--calls must be > 0 and --warmup >= 0")
    table = {"seq": SEQUENTIAL, "batch": BATCH, "threads": THREADS}[args.kind]
    if args.name not in table:
        parser.error(f"unknown {args.kind} contender {args.name!r}; one of {sorted(table)}")
    func = table[args.name]
    try:
        if args.kind == "seq":
            seconds, errors = func(args.url, args.op, args.calls, args.warmup)
        elif args.kind == "batch":
            seconds, errors = func(args.url, args.calls, args.warmup, args.concurrency)
        else:
            seconds, errors = func(args.url, args.calls, args.warmup, args.threads)
    except Unavailable as exc:
        print(json.dumps({"unavailable": str(exc)}))
        return 0
    calls = args.calls - args.calls % args.threads if args.kind == "threads" else args.calls
    print(json.dumps({"calls": calls, "seconds": seconds, "errors": errors}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
