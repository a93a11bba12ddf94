"""C transport behaviour: retries, deadlines, connection reuse, GIL release,
threads, fork, key redaction, and flat memory over many calls."""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import gettcommerce as gett
from conftest import API_KEY, Reply, core_client, free_port, in_child, problem
from gettcommerce import _core
from rawserver import RawServer, response_bytes
from gettcommerce._client import EP_GET_STORE, EP_GET_STORE_STATUS, EP_UPDATE_STORE

OK_STATUS = Reply(200, {"status": "online"})


def make_client(server, **kw):
    kw.setdefault("timeout", 5.0)
    return gett.Client(api_key=API_KEY, base_url=server.url, **kw)


@pytest.fixture
def raw_server():
    with RawServer() as srv:
        yield srv


def run_script(path, text, *args, timeout=120):
    """Write ``text`` to ``path`` and run it with this interpreter and sys.path;
    the finished process, checked to have exited 0."""
    path.write_text(text)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True, timeout=timeout,
                         env=env)
    assert out.returncode == 0, out.stderr
    return out


# ------------------------------------------------------------ retries

@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried_then_succeed(server, status):
    server.add(Reply(status, headers={"Retry-After": "0"}), OK_STATUS)
    with make_client(server) as client:
        assert client.stores.get_status("s1").is_online
    assert len(server.requests) == 2


def test_problem_marked_retryable_is_retried_even_on_other_status(server):
    server.add(Reply(409, problem(409, "CONFLICT", retryable=True, retryAfter=0)), OK_STATUS)
    with make_client(server) as client:
        client.stores.get_status("s1")
    assert len(server.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_non_retryable_statuses_are_not_retried(server, status):
    server.default = lambda req: Reply(status, problem(status, "X", retryable=False))
    with make_client(server) as client:
        with pytest.raises(gett.APIStatusError) as info:
            client.stores.get_status("s1")
    assert len(server.requests) == 1 and info.value.attempts == 1


def test_max_retries_bounds_the_attempts(server):
    server.default = lambda req: Reply(503, problem(503, "SERVICE_UNAVAILABLE", retryAfter=0))
    with make_client(server, max_retries=3) as client:
        with pytest.raises(gett.InternalServerError) as info:
            client.stores.get_status("s1")
    assert len(server.requests) == 4 and info.value.attempts == 4
    server.requests.clear()
    with make_client(server, max_retries=0) as client:
        with pytest.raises(gett.InternalServerError):
            client.stores.get_status("s1")
    assert len(server.requests) == 1


def test_retry_after_header_is_honoured(server):
    server.add(Reply(429, problem(429, "RATE_LIMITED"), headers={"Retry-After": "0.4"}), OK_STATUS)
    with make_client(server) as client:
        start = time.monotonic()
        client.stores.get_status("s1")
        elapsed = time.monotonic() - start
    assert 0.4 <= elapsed < 2.0


def test_retry_after_body_field_is_honoured(server):
    server.add(Reply(503, problem(503, "SERVICE_UNAVAILABLE", retryAfter=0.3)), OK_STATUS)
    with make_client(server) as client:
        start = time.monotonic()
        client.stores.get_status("s1")
    assert 0.3 <= time.monotonic() - start < 2.0


def test_exponential_backoff_without_retry_after(server):
    # 0.5 s then 1 s, each up to 25% shorter (jitter): 1.125 s .. 1.5 s in all.
    server.add(Reply(503), Reply(503), OK_STATUS)
    with make_client(server, max_retries=2) as client:
        start = time.monotonic()
        client.stores.get_status("s1")
        elapsed = time.monotonic() - start
    assert 1.12 <= elapsed < 2.5


def test_retry_after_beyond_the_deadline_fails_fast(server):
    server.default = lambda req: Reply(429, problem(429, "RATE_LIMITED", retryAfter=60),
                                       headers={"Retry-After": "60"})
    with make_client(server, timeout=2.0) as client:
        start = time.monotonic()
        with pytest.raises(gett.RateLimitError) as info:
            client.stores.get_status("s1")
    assert time.monotonic() - start < 0.5
    assert info.value.retry_after == 60 and len(server.requests) == 1


def test_timeout_bounds_the_whole_call_retries_included(server):
    server.default = lambda req: Reply(200, {"status": "online"}, delay=0.6)
    with make_client(server, timeout=1.0, max_retries=5) as client:
        server.script.clear()
        server.add(Reply(503, headers={"Retry-After": "0"}, delay=0.6))
        start = time.monotonic()
        with pytest.raises(gett.APITimeoutError):
            client.stores.get_status("s1")
        elapsed = time.monotonic() - start
    assert 0.9 <= elapsed <= 1.1 + 0.1


def test_slow_response_times_out_within_ten_percent(server):
    server.default = lambda req: Reply(200, {}, delay=3)
    with make_client(server, timeout=0.5) as client:
        start = time.monotonic()
        with pytest.raises(gett.APITimeoutError) as info:
            client.stores.get("s1")
        elapsed = time.monotonic() - start
    assert 0.45 <= elapsed <= 0.55 + 0.05
    assert isinstance(info.value, gett.APIConnectionError)


def test_dropped_connection_retries_idempotent_calls(server):
    server.add(Reply(action="close"), OK_STATUS)
    with make_client(server) as client:
        assert client.stores.get_status("s1").is_online
    assert len(server.requests) == 2


def test_dropped_connection_mid_body_retries_idempotent_calls(server):
    server.add(Reply(200, {"status": "online", "pad": "x" * 100}, action="close_mid_body"), OK_STATUS)
    with make_client(server) as client:
        client.orders.update_status("o1", status="ready")
    assert len(server.requests) == 2


@pytest.mark.parametrize("action", ["close", "close_mid_body"])
def test_register_store_is_never_sent_twice_after_an_ambiguous_failure(server, action):
    server.default = lambda req: (Reply(201, {"onboardingId": "ob"}, action=action)
                                  if req.path.endswith("/onboarding/stores") else OK_STATUS)
    with make_client(server, max_retries=3) as client:
        client.stores.get_status("warm-up")  # a pooled keep-alive connection exists
        server.requests.clear()
        with pytest.raises(gett.APIConnectionError):
            client.onboarding.register(partner_store_id="p", name="n", catalog_callback_url="http://c/x",
                                       webhook_url="http://w/x")
    assert [r.path for r in server.requests] == ["/v1/commerce/onboarding/stores"]


def test_connection_refused_is_retried_for_every_call():
    with gett.Client(api_key=API_KEY, base_url=f"http://127.0.0.1:{free_port()}", max_retries=1) as client:
        with pytest.raises(gett.APIConnectionError) as info:
            client.onboarding.register(partner_store_id="p", name="n", catalog_callback_url="http://c/x",
                                       webhook_url="http://w/x")
    assert info.value.attempts == 2  # nothing was sent, so even register is retried


def test_oversized_response_is_stopped_with_a_clear_error(server):
    server.default = lambda req: Reply(200, body=b'{"x":"' + b"a" * 200_000 + b'"}')
    with make_client(server, max_response_bytes=100_000) as client:
        with pytest.raises(gett.APIConnectionError, match="max_response_bytes"):
            client.stores.get("s1")
        assert client._core.idle_handles == 1


# ------------------------------------------------------------ connections, GIL, threads, fork

def test_sequential_calls_reuse_one_connection(server):
    server.default = lambda req: OK_STATUS  # a StoreStatus answer must hold a status
    with make_client(server) as client:
        for i in range(50):
            client.stores.get_status(f"s{i}")
    assert len(server.requests) == 50
    assert len({r.port for r in server.requests}) == 1


def held_until(release, arrived=None):
    """A server answer held back until `release` is set (10 s at most); records
    whether it was released (True) or gave up waiting (False)."""
    def answer(req):
        if arrived is not None:
            arrived.set()
        answer.released.append(release.wait(10))
        return OK_STATUS
    answer.released = []
    return answer


def test_the_gil_is_released_while_waiting(server):
    # The server and this thread are Python: while the call waits for its
    # answer, both must run, so the GIL cannot be held by the call.
    arrived, release = threading.Event(), threading.Event()
    server.default = held_until(release, arrived)
    results = []
    with make_client(server) as client:
        thread = threading.Thread(target=lambda: results.append(client.stores.get_status("s1")))
        thread.start()
        try:
            assert arrived.wait(10)     # the call is in flight...
            release.set()               # ...and this thread runs Python meanwhile
        finally:
            release.set()
            thread.join()
    assert server.default.released == [True] and results[0].is_online


def test_eight_threads_share_one_client(server):
    server.default = lambda req: Reply(200, {"status": "online", "echo": req.path})
    errors, results = [], []
    with make_client(server, pool_size=8) as client:
        def work(n):
            try:
                for i in range(50):
                    path_id = f"t{n}-{i}"
                    raw = client._request(gett._client.EP_GET_STORE_STATUS, (path_id,))
                    results.append(raw["echo"] == f"/v1/commerce/stores/{path_id}/status")
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert client._core.idle_handles <= 8
    assert errors == [] and len(results) == 400 and all(results)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_client_survives_fork_and_parent_is_unaffected(server):
    server.default = lambda req: OK_STATUS  # a StoreStatus answer must hold a status
    with make_client(server) as client:
        client.stores.get_status("before")
        parent_port = server.requests[-1].port
        # The child must open its own connection and succeed.
        assert in_child(lambda: client.stores.get_status("child")) == 0
        client.stores.get_status("after")
    by_path = {r.path.split("/")[-2]: r.port for r in server.requests}
    assert by_path["child"] != parent_port        # the child did not reuse the parent's socket
    assert by_path["after"] == parent_port        # the parent's connection is intact


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_from_a_multithreaded_parent(server):
    server.default = lambda req: Reply(200, {"status": "online"}, delay=0.01)
    with make_client(server) as client:
        stop = threading.Event()

        def busy():
            while not stop.is_set():
                client.stores.get_status("bg")
        workers = [threading.Thread(target=busy) for _ in range(3)]
        for w in workers:
            w.start()
        try:
            for _ in range(3):
                assert in_child(lambda: client.stores.get_status("child")) == 0
        finally:
            stop.set()
            for w in workers:
                w.join()


# ------------------------------------------------------------ the key stays secret

def test_api_key_never_appears_in_repr_errors_or_logs(server, caplog):
    server.default = lambda req: Reply(401, problem(401, "UNAUTHENTICATED", detail="Provide a valid API key"))
    caplog.set_level(logging.DEBUG, logger="gettcommerce")
    client = make_client(server)
    texts = [repr(client), str(client), repr(client._core), repr(client.stores)]
    with pytest.raises(gett.AuthenticationError) as info:
        client.stores.get("s1")
    err = info.value
    import traceback
    texts += [str(err), repr(err), "".join(traceback.format_exception(err)), repr(vars(err)),
              repr(vars(err.__context__)), caplog.text]
    client.close()
    assert "GET /v1/commerce/stores/s1 -> 401" in caplog.text
    for text in texts:
        assert API_KEY not in text
        assert API_KEY[5:] not in text


def test_debug_log_has_one_line_per_attempt(server, caplog):
    caplog.set_level(logging.DEBUG, logger="gettcommerce")
    server.add(Reply(503, headers={"Retry-After": "0"}), OK_STATUS)
    with make_client(server) as client:
        client.stores.get_status("s1")
    lines = [r.getMessage() for r in caplog.records if r.name == "gettcommerce"]
    assert len(lines) == 2
    assert "-> 503" in lines[0] and "(attempt 1)" in lines[0]
    assert "-> 200" in lines[1] and "(attempt 2)" in lines[1] and " ms " in lines[1]


# ------------------------------------------------------------ memory

LEAK_SCRIPT = textwrap.dedent("""
    import gc, json, sys, threading, socket, resource
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import gettcommerce as gett

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        def log_message(self, *a): pass
        def do_GET(self):
            if "missing" in self.path:
                body, code = b'{"status": 404, "errorCode": "NOT_FOUND"}', 404
            else:
                body, code = b'{"status": "paused", "reason": "too_busy", "pausedAt": "2026-03-11T14:30:00Z"}', 200
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    client = gett.Client(api_key="zpka_leak", base_url=f"http://127.0.0.1:{srv.server_port}", max_retries=0)

    def batch(n):
        for i in range(n):
            client.stores.get_status("s1")
            client.orders.update_status("o1", status="ready")
            if i % 10 == 0:
                try:
                    client.stores.get("missing")
                except gett.NotFoundError:
                    pass

    def rss_kb():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])

    batch(2000)
    gc.collect()
    objects, rss = len(gc.get_objects()), rss_kb()
    batch(5000)
    gc.collect()
    print(json.dumps({"objects": len(gc.get_objects()) - objects, "rss_kb": rss_kb() - rss}))
""")


def test_ten_thousand_calls_leave_objects_and_rss_flat(tmp_path):
    out = run_script(tmp_path / "leak.py", LEAK_SCRIPT, timeout=300)
    import json
    growth = json.loads(out.stdout.strip().splitlines()[-1])
    assert growth["objects"] < 100, growth
    assert growth["rss_kb"] < 2048, growth


# ------------------------------------------------------------ Ctrl-C

SIGINT_SCRIPT = textwrap.dedent("""
    import os, signal, sys, threading
    sys.path.insert(0, sys.argv[1])
    from conftest import RecordingServer, Reply
    import gettcommerce as gett
    server = RecordingServer()
    release = threading.Event()

    def ctrl_c_then_hold(req):
        # Ctrl-C arrives (once per call or batch) while the call waits for
        # this answer, which is held back until the test ends (or 30 s).
        if req.path.endswith(("/single", "/b0")):
            os.kill(os.getpid(), signal.SIGINT)
        release.wait(30)
        return Reply(200, {})
    server.default = ctrl_c_then_hold
    client = gett.Client(api_key="zpka_sigint", base_url=server.url, timeout=60)
    def single():
        client.stores.get("single")
    def batch():
        with client.batch() as b:
            for i in range(3):
                b.stores.get(f"b{i}")
    for label, fn in (("call", single), ("batch", batch)):
        try:
            fn()
        except KeyboardInterrupt:
            # Raised before any held answer came back: the call did not wait it out.
            print(label, "interrupted" if not release.is_set() else "late")
    release.set()
""")


def test_ctrl_c_interrupts_a_long_call_promptly(tmp_path):
    out = run_script(tmp_path / "sigint.py", SIGINT_SCRIPT, os.path.dirname(__file__))
    lines = dict(line.split() for line in out.stdout.split("\n") if line.strip())
    assert lines == {"call": "interrupted", "batch": "interrupted"}, out.stdout + out.stderr


# ------------------------------------------------------------ edge cases found in review

@pytest.mark.parametrize("status", [500, 502, 504])
def test_non_idempotent_calls_are_not_retried_after_an_answer_that_may_follow_success(server, status):
    server.default = lambda req: Reply(status, problem(status, "INTERNAL_ERROR", retryAfter=0))
    with make_client(server, max_retries=3) as client:
        with pytest.raises(gett.InternalServerError) as info:
            client.onboarding.register(partner_store_id="p", name="n", catalog_callback_url="http://c/x",
                                       webhook_url="http://w/x")
        assert info.value.attempts == 1
        with pytest.raises(gett.InternalServerError):
            client.catalog.notify("s1", "http://c/x")
        with pytest.raises(gett.InternalServerError):
            client.onboarding.activate("ob-1")
    assert len(server.requests) == 3


@pytest.mark.parametrize("status", [429, 503])
def test_non_idempotent_calls_are_retried_when_gett_says_it_did_nothing(server, status):
    server.add(Reply(status, problem(status, "SERVICE_UNAVAILABLE", retryAfter=0)),
               Reply(201, {"onboardingId": "ob-1", "status": "pending_catalog"}))
    with make_client(server) as client:
        ob = client.onboarding.register(partner_store_id="p", name="n", catalog_callback_url="http://c/x",
                                        webhook_url="http://w/x")
    assert ob.onboarding_id == "ob-1" and len(server.requests) == 2


@pytest.mark.parametrize("bad", [".", ".."])
def test_dot_segments_are_refused_as_ids(server, client, bad):
    for call in (lambda: client.stores.get(bad), lambda: client.stores.get_status(bad),
                 lambda: client.onboarding.cancel(bad), lambda: client.order(bad),
                 lambda: client._core.request(gett._client.EP_GET_STORE, (bad,))):
        with pytest.raises((gett.InvalidRequestError, ValueError), match=r"'\.' or '\.\.'"):
            call()
    server.add(OK_STATUS)
    assert client.stores.get_status("..a").status == "online"  # only the bare segments
    assert [r.path for r in server.requests] == ["/v1/commerce/stores/..a/status"]


def test_infinite_timeouts_are_refused():
    for value in (float("inf"), float("nan")):
        with pytest.raises(gett.InvalidRequestError, match="timeout"):
            gett.Client(api_key="k", timeout=value)
        with pytest.raises(ValueError, match="finite"):
            core_client("http://127.0.0.1:1", "k", "ua", timeout=value)


def test_closing_the_client_while_arguments_are_converted_is_safe(server):
    client = make_client(server)

    class ClosesClient:
        def __str__(self):
            client.close()
            return "1"
    with pytest.raises(gett.InvalidRequestError, match="closed"):
        client._request(gett._client.EP_LIST_STORES, (), {"limit": ClosesClient()})

    client = make_client(server)

    def calls():
        yield (gett._client.EP_GET_STORE, ("s1",), None, None)
        client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client._core.run_batch(calls(), [None], concurrency=1, progress=False)
    assert server.requests == []


def test_ctrl_c_during_argument_conversion_stops_the_call(server):
    import signal
    server.default = lambda req: Reply(200, {}, delay=5)

    class PressesCtrlC:
        def __str__(self):
            os.kill(os.getpid(), signal.SIGINT)
            return "1"
    with make_client(server) as client:
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            client._request(gett._client.EP_LIST_STORES, (), {"limit": PressesCtrlC()})
        assert time.monotonic() - start < 1
    assert server.requests == []


def test_validator_survives_a_dict_mutated_during_conversion():
    doc = {"items": {}}

    class Mutates:
        def __float__(self):
            doc["items"].clear()
            doc.clear()
            return 1.0
    doc["items"]["i1"] = {"itemId": "i1", "name": "x", "basePrice": Mutates()}
    doc["pad"] = [Mutates(), Mutates()]
    issues = gett.validate_catalogset(doc)   # no crash; whatever was read is judged
    assert isinstance(issues, list)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_close_in_a_child_forked_during_a_call_frees_the_client(server):
    arrived, release = threading.Event(), threading.Event()
    server.default = lambda req: held_until(release, arrived)(req) if "slow" in req.path else OK_STATUS
    with make_client(server) as client:
        client.stores.get_status("warm")  # a pooled handle exists
        thread = threading.Thread(target=client.stores.get_status, args=("slow",))
        thread.start()
        try:
            assert arrived.wait(10)       # the call is in flight in the parent
            pid = os.fork()
            if pid == 0:
                client.close()            # the parent's call does not exist here: free now
                os._exit(0 if client._core.idle_handles == 0 and client.closed else 1)
            _, status = os.waitpid(pid, 0)
        finally:
            release.set()
            thread.join()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


FORK_INFLIGHT_SCRIPT = textwrap.dedent("""
    # Issue 11 #1: in a forked child, close() while a thread of the child is
    # mid-call must wait for that call (it used to free the client under it).
    import os, sys, threading
    sys.path.insert(0, sys.argv[1])
    from conftest import RecordingServer, Reply
    import gettcommerce as gett

    arrived_r, arrived_w = os.pipe()
    release_r, release_w = os.pipe()
    server = RecordingServer()

    def answer(req):
        if "slow" in req.path:
            os.write(arrived_w, b"x")          # tell the child its call is in flight
            os.read(release_r, 1)              # until the child has called close()
        return Reply(200, {"status": "online"})
    server.default = answer
    client = gett.Client(api_key="zpka_fork", base_url=server.url, timeout=30)
    client.stores.get_status("warm")

    pid = os.fork()
    if pid == 0:
        results = []
        worker = threading.Thread(target=lambda: results.append(client.stores.get_status("slow").status))
        worker.start()
        os.read(arrived_r, 1)
        client.close()                          # a call is in flight in this process:
        kept = client._core.proxy               # the C client stays until it ends ("" = alive)
        os.write(release_w, b"x")
        worker.join()
        freed = client._core.proxy              # None: freed when the call ended
        os._exit(0 if (results, kept, freed) == (["online"], "", None) else 3)
    _, status = os.waitpid(pid, 0)
    print("exited", os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status))
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_close_in_a_forked_child_waits_for_the_childs_own_call(tmp_path):
    # The child's close() must leave the C client alive until the child's
    # own call ends (under `make test-asan`, freeing it early is also a
    # heap-use-after-free report).
    out = run_script(tmp_path / "fork_inflight.py", FORK_INFLIGHT_SCRIPT, os.path.dirname(__file__))
    assert out.stdout.split() == ["exited", "0"], out.stdout + out.stderr


# ------------------------------------------------------------ signal handlers during a call (issue 11 #2)

class HandlerRaised(Exception):
    """What the test's signal handlers raise: it must come out unchanged."""


@contextlib.contextmanager
def signal_handler(signum, handler):
    old = signal.signal(signum, handler)
    try:
        yield
    finally:
        signal.signal(signum, old)


def signal_then_wait(signum, release):
    """A server answer sent only after this process got `signum` and `release` was set
    (or 10 s passed): the signal arrives while the call is certainly in flight."""
    def answer(req):
        os.kill(os.getpid(), signum)
        answer.released = release.wait(10)
        return OK_STATUS
    answer.released = None
    return answer


def test_an_exception_raised_by_a_signal_handler_comes_out_of_the_call_unchanged(server):
    release = threading.Event()
    server.default = signal_then_wait(signal.SIGUSR1, release)

    def handler(signum, frame):
        raise HandlerRaised("from the SIGUSR1 handler")
    try:
        with signal_handler(signal.SIGUSR1, handler), make_client(server, timeout=30) as client:
            with pytest.raises(HandlerRaised, match="from the SIGUSR1 handler"):
                client.stores.get_status("s1")
            # The call was stopped while the server still held the answer back.
            assert not release.is_set()
    finally:
        release.set()


def test_sys_exit_in_a_sigterm_handler_ends_the_call_with_system_exit(server):
    release = threading.Event()
    server.default = signal_then_wait(signal.SIGTERM, release)

    def handler(signum, frame):
        sys.exit(3)
    try:
        with signal_handler(signal.SIGTERM, handler), make_client(server, timeout=30) as client:
            with pytest.raises(SystemExit) as info:
                client.stores.get_status("s1")
        assert info.value.code == 3
    finally:
        release.set()


def test_a_sigint_handler_that_does_not_raise_does_not_disturb_the_call(server):
    handled = threading.Event()
    answer = signal_then_wait(signal.SIGINT, handled)
    server.default = answer

    def graceful(signum, frame):  # a "shut down after this" flag, the usual pattern
        handled.set()
    with signal_handler(signal.SIGINT, graceful), make_client(server, timeout=30) as client:
        assert client.stores.get_status("s1").is_online
    # The handler ran while the call was in flight (the server waited for it), and the call went on.
    assert answer.released is True and len(server.requests) == 1


def test_ctrl_c_during_a_retry_backoff_raises_keyboard_interrupt(server):
    # Gett asks to wait 30 s; Ctrl-C comes during the wait (or, on a slow
    # machine, still during the transfer: the outcome must be the same).
    server.add(Reply(503, headers={"Retry-After": "30"}))
    with make_client(server, timeout=60, max_retries=1) as client:
        timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                client.stores.get_status("s1")
        finally:
            timer.join()
    assert len(server.requests) == 1


def test_a_signal_handler_exception_in_a_batch_keeps_what_finished(server):
    release = threading.Event()
    slow = signal_then_wait(signal.SIGUSR1, release)
    server.default = lambda req: slow(req) if req.path.endswith("/slow") else Reply(200, {"storeId": "fast"})

    def handler(signum, frame):
        raise HandlerRaised("stop the batch")
    calls = [(EP_GET_STORE, ("fast",), None, None), (EP_GET_STORE, ("x/y",), None, None),
             (EP_GET_STORE, ("slow",), None, None), (EP_GET_STORE, ("never",), None, None)]
    out = [None] * len(calls)
    try:
        with signal_handler(signal.SIGUSR1, handler), make_client(server, timeout=30) as client:
            with pytest.raises(HandlerRaised, match="stop the batch"):
                client._core.run_batch(calls, out, concurrency=1, progress=False)
    finally:
        release.set()
    assert out[0] == (True, {"storeId": "fast"})
    assert out[1][0] is False and isinstance(out[1][1], ValueError)   # refused locally
    ok, exc = out[2]
    assert not ok and isinstance(exc, _core.TransportError) and exc.kind == "interrupted"
    assert "may have reached Gett" in str(exc)
    assert out[3] is None                                             # never started
    assert [r.path.rsplit("/", 1)[1] for r in server.requests] == ["fast", "slow"]


def test_signal_handlers_run_only_on_the_main_thread_calls_elsewhere_go_on(server):
    # A call on a worker thread never runs handlers (CPython runs them on the
    # main thread only), so a raising handler leaves it alone.
    release = threading.Event()
    server.default = signal_then_wait(signal.SIGUSR1, release)
    raised = []

    def handler(signum, frame):
        raised.append(signum)
        release.set()
        raise HandlerRaised("main thread only")
    results = []
    with signal_handler(signal.SIGUSR1, handler), make_client(server, timeout=30) as client:
        worker = threading.Thread(target=lambda: results.append(client.stores.get_status("s1").status))
        with pytest.raises(HandlerRaised):
            # The request may arrive (and the signal with it) while the main
            # thread is still inside start(): the handler runs there or in wait().
            worker.start()
            release.wait(10)   # the main thread runs the handler while it waits
        worker.join()
    assert results == ["online"] and raised == [signal.SIGUSR1]


# ------------------------------------------------------------ Retry-After, parsed once in C

def _one_failed_attempt(server) -> _core.TransportError:
    """The TransportError of one attempt (no retries) against what server answers."""
    client = core_client(server.url, max_retries=0, timeout=5.0)
    try:
        with pytest.raises(_core.TransportError) as info:
            client.request(EP_GET_STORE_STATUS, ("s1",))
    finally:
        client.close()
    return info.value


@pytest.mark.parametrize("headers, body, expected", [
    ({"Retry-After": "7"}, None, 7.0),
    ({"Retry-After": "2.5"}, None, 2.5),
    ({"Retry-After": "soon"}, None, None),
    ({"Retry-After": "-3"}, None, None),
    ({}, None, None),
    ({"Retry-After": "7"}, {"errorCode": "RATE_LIMITED", "retryAfter": 1.5}, 1.5),
    ({}, {"errorCode": "RATE_LIMITED", "retryAfter": 4}, 4.0),
    ({}, {"errorCode": "RATE_LIMITED", "retryAfter": "4"}, None),
])
def test_transport_error_carries_retry_after(server, headers, body, expected):
    server.add(Reply(429, body, headers=headers))
    error = _one_failed_attempt(server)
    assert error.kind == "status" and error.status == 429
    assert error.retry_after == expected


def test_retry_after_as_an_http_date(server):
    import email.utils
    when = time.time() + 3600
    server.add(Reply(503, headers={"Retry-After": email.utils.formatdate(when, usegmt=True)}))
    assert 3590 <= _one_failed_attempt(server).retry_after <= 3601
    server.add(Reply(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), OK_STATUS)
    with make_client(server) as c:   # a date in the past: retry at once
        assert c.stores.get_status("s1").is_online


# ------------------------------------------------------------ the C client's arguments

def test_every_core_client_setting_is_required():
    with pytest.raises(TypeError, match="missing required keyword-only argument: 'connect_timeout'"):
        _core.Client("http://127.0.0.1:1", "k", "ua", timeout=1.0)
    with pytest.raises(TypeError, match="'proxy'"):
        _core.Client("http://127.0.0.1:1", "k", "ua", timeout=1.0, connect_timeout=1.0, max_retries=0,
                     max_response_bytes=10, ca_bundle=None, pool_size=1)
    with pytest.raises(ValueError, match=r"'\?' or '#'"):
        core_client("http://127.0.0.1:1/v1?x=1")


def test_the_core_uses_base_url_as_given(server):
    client = core_client(server.url + "/prefix", max_retries=0, timeout=5.0)
    try:
        client.request(EP_GET_STORE_STATUS, ("s1",))
    finally:
        client.close()
    assert [r.path for r in server.requests] == ["/prefix/v1/commerce/stores/s1/status"]


# ------------------------------------------------------------ strings with NUL (issue 11 #9)

def test_a_nul_in_a_body_key_is_refused_not_truncated(server, client):
    for body in ({"a\0b": 1, "a": 2}, {"x": {"k\0": 1}}):
        with pytest.raises(gett.InvalidRequestError, match="NUL"):
            client._request(EP_UPDATE_STORE, ("s1",), None, body)
    with pytest.raises(ValueError, match=r"body\['x'\]: key 'k\\x00' contains a NUL"):
        client._core.request(EP_UPDATE_STORE, ("s1",), None, {"x": {"k\0": 1}})
    assert server.requests == []


def test_query_values_and_keys_with_nul_travel_intact(server, client):
    client._request(gett._client.EP_LIST_STORES, (), {"q\0": "a\0b"})
    assert server.requests[0].raw_query == "q%00=a%00b"


# ------------------------------------------------------------ batch attempts are logged (issue 11 #12)

def test_batch_calls_write_one_debug_line_per_attempt(server, caplog):
    caplog.set_level(logging.DEBUG, logger="gettcommerce")
    server.add(Reply(503, headers={"Retry-After": "0"}))
    server.default = lambda req: OK_STATUS
    with make_client(server) as client:
        with client.batch(concurrency=1) as batch:
            batch.stores.get_status("s1")
            batch.stores.get_status("s2")
    lines = [r.getMessage() for r in caplog.records if r.name == "gettcommerce"]
    assert len(lines) == 3, lines
    assert "GET /v1/commerce/stores/s1/status -> 503" in lines[0] and "(attempt 1)" in lines[0]
    assert "s1/status -> 200" in lines[1] and "(attempt 2)" in lines[1]
    assert "s2/status -> 200" in lines[2] and "(attempt 1)" in lines[2]
