"""client.batch(): order of results, mixed outcomes, retries, errors, concurrency."""
from __future__ import annotations

import gc
import os
import signal
import threading
import time
import types

import pytest

import gettcommerce as gett
from conftest import API_KEY, Reply, in_child, problem
from gettcommerce import _core
from gettcommerce._batch import NOT_RUN
from gettcommerce._client import EP_GET_STORE, EP_LIST_STORES


def make_client(server, **kw):
    kw.setdefault("timeout", 5.0)
    return gett.Client(api_key=API_KEY, base_url=server.url, **kw)


def echo(req):
    if "missing" in req.path:
        return Reply(404, problem(404, "STORE_NOT_FOUND", detail=f"no {req.path}"))
    return Reply(200, {"status": "online", "reason": req.path.split("/")[-2]})


def test_results_come_back_in_call_order(server):
    server.default = echo
    with make_client(server) as client:
        with client.batch(concurrency=8) as batch:
            for i in range(200):
                batch.stores.get_status(f"s{i}")
    assert len(batch.results) == 200
    assert [r.reason for r in batch.results] == [f"s{i}" for i in range(200)]
    assert all(isinstance(r, gett.StoreStatus) for r in batch.results)
    assert batch.errors == []
    batch.raise_for_errors()


def test_mixed_success_and_failure_with_errors_attached(server):
    server.default = echo
    with make_client(server) as client:
        with client.batch() as batch:
            batch.stores.get_status("a")
            batch.stores.get("missing-1")
            batch.orders.update_status("o1", status="ready")
            batch.stores.get("missing-2")
            batch.stores.get_status("a/b")  # refused locally by the C core, not sent
    results = batch.results
    assert isinstance(results[0], gett.StoreStatus)
    assert isinstance(results[1], gett.NotFoundError) and "missing-1" in results[1].detail
    assert results[2] is None
    assert isinstance(results[3], gett.NotFoundError)
    assert isinstance(results[4], gett.InvalidRequestError) and "store_id" in str(results[4])
    assert [i for i, _ in batch.errors] == [1, 3, 4]
    with pytest.raises(gett.BatchError) as info:
        batch.raise_for_errors()
    err = info.value
    assert err.total == 5 and [i for i, _ in err.errors] == [1, 3, 4]
    assert err.errors[0][1] is results[1]
    assert "3 of 5 batch calls failed" in str(err) and "STORE_NOT_FOUND" in str(err)
    assert not any("a/b" in r.path for r in server.requests)


def test_retries_happen_inside_a_batch(server):
    attempts = {}
    lock = threading.Lock()

    def flaky(req):
        with lock:
            attempts[req.path] = attempts.get(req.path, 0) + 1
            n = attempts[req.path]
        if n == 1:
            return Reply(503, problem(503, "SERVICE_UNAVAILABLE", retryAfter=0))
        return echo(req)
    server.default = flaky
    with make_client(server, max_retries=2) as client:
        with client.batch(concurrency=4) as batch:
            for i in range(20):
                batch.stores.get_status(f"s{i}")
    assert all(isinstance(r, gett.StoreStatus) for r in batch.results)
    assert set(attempts.values()) == {2}


def test_a_call_out_of_retries_reports_its_last_error(server):
    server.default = lambda req: Reply(503, problem(503, "SERVICE_UNAVAILABLE", retryAfter=0))
    with make_client(server, max_retries=1) as client:
        with client.batch() as batch:
            batch.stores.get_status("s1")
    (err,) = batch.results
    assert isinstance(err, gett.InternalServerError) and err.attempts == 2


def test_register_in_a_batch_is_not_resent_after_an_ambiguous_failure(server):
    server.default = lambda req: Reply(201, {}, action="close")
    with make_client(server, max_retries=3) as client:
        with client.batch() as batch:
            batch.onboarding.register(partner_store_id="p", name="n", catalog_callback_url="http://c/x",
                                      webhook_url="http://w/x")
    assert isinstance(batch.results[0], gett.APIConnectionError)
    assert len(server.requests) == 1


def test_each_call_has_its_own_deadline(server):
    release = threading.Event()
    server.default = lambda req: (Reply(200, {"status": "online"}, delay=0) if "fast" in req.path
                                  else (release.wait(10), Reply(200, {"status": "online"}))[1])
    try:
        with make_client(server, timeout=0.4) as client:
            with client.batch() as batch:
                batch.stores.get_status("slow")
                batch.stores.get_status("fast")
            # The batch ended while the slow answer was still held back.
            assert not release.is_set()
    finally:
        release.set()
    assert isinstance(batch.results[0], gett.APITimeoutError)
    assert isinstance(batch.results[1], gett.StoreStatus)


def test_empty_batch(server):
    with make_client(server) as client:
        with client.batch() as batch:
            pass
    assert batch.results == [] and len(batch) == 0
    batch.raise_for_errors()
    assert server.requests == []


def test_concurrency_is_used_and_capped(server):
    # Requests wait at a barrier of 8: the batch passes only if it keeps 8
    # calls in flight at once, and never more than 8 are seen together.
    active = [0, 0]
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def gather(req):
        with lock:
            active[0] += 1
            active[1] = max(active[1], active[0])
        try:
            barrier.wait(10)
            return Reply(200)
        except threading.BrokenBarrierError:
            return Reply(500)
        finally:
            with lock:
                active[0] -= 1
    server.default = gather
    with make_client(server, max_retries=0) as client:
        with client.batch(concurrency=8) as batch:
            for i in range(64):
                batch.orders.update_status(f"o{i}", status="ready")
    assert batch.results == [None] * 64
    assert active[1] == 8
    assert len({r.port for r in server.requests}) <= 8


def test_the_gil_is_released_while_a_batch_runs(server):
    # Four answers are held until this thread, running Python, releases
    # them after all four arrived: impossible if the batch held the GIL.
    arrived = threading.Semaphore(0)
    release = threading.Event()
    released = []

    def held(req):
        arrived.release()
        released.append(release.wait(10))
        return Reply(200, {"status": "online"})
    server.default = held
    with make_client(server) as client:
        batch = client.batch(concurrency=4)
        for i in range(4):
            batch.stores.get_status(f"s{i}")
        thread = threading.Thread(target=batch.run)
        thread.start()
        try:
            assert all(arrived.acquire(timeout=10) for _ in range(4))
            release.set()
        finally:
            release.set()
            thread.join()
    assert released == [True] * 4 and len(batch.results) == 4
    assert all(r.is_online for r in batch.results)


def test_bad_arguments_raise_when_queued_and_a_run_batch_takes_no_more_calls(server):
    with make_client(server) as client:
        batch = client.batch()
        with pytest.raises(gett.InvalidRequestError, match="reason"):
            batch.stores.pause("s1", "lunch")
        batch.run()
        with pytest.raises(gett.InvalidRequestError, match="already run"):
            batch.stores.get_status("s1")
        with pytest.raises(gett.InvalidRequestError, match="concurrency"):
            client.batch(concurrency=0)


def test_every_call_type_is_available_on_the_batch(server):
    server.default = lambda req: Reply(200, {"storeId": "s1", "onboardingId": "ob", "status": "online"})
    with make_client(server) as client:
        with client.batch() as batch:
            # stores.list() pages, so it is refused in a batch (test_a_listing_cannot_be_queued_in_a_batch)
            batch.stores.get("s1")
            batch.stores.update("s1", name="x")
            batch.stores.get_status("s1")
            batch.stores.pause("s1", gett.PauseReason.TOO_BUSY)
            batch.stores.resume("s1")
            batch.orders.update_status("o1", state="completed")
            batch.catalog.notify("s1", "https://c/x.json")
            batch.onboarding.register(partner_store_id="p", name="n", catalog_callback_url="http://c/x",
                                      webhook_url="http://w/x")
            batch.onboarding.get("ob")
            batch.onboarding.cancel("ob")
            batch.onboarding.activate("ob")
    assert batch.errors == []
    assert isinstance(batch.results[0], gett.Store)
    assert isinstance(batch.results[7], gett.Onboarding) and isinstance(batch.results[10], gett.Store)
    assert len({(r.method, r.path.replace("s1", "{}").replace("ob", "{}").replace("o1", "{}"))
                for r in server.requests}) == 10


def test_progress_counter_for_large_batches(server, capfd):
    with make_client(server) as client:
        with client.batch(concurrency=16, progress=True) as batch:
            for i in range(1001):
                batch.orders.update_status(f"o{i}", status="ready")
    err = capfd.readouterr().err
    assert "batch: 1001/1001 calls" in err


# ------------------------------------------------------------ run_batch's contract with the caller

@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_run_batch_survives_python_code_that_empties_the_callers_lists(server):
    # Issue 11 #5: converting a query value runs its __str__; run_batch must
    # own every reference it uses meanwhile (it used to read freed tuples).
    def scenario():
        with make_client(server) as client:
            calls, out = [], []

            class Clears(str):
                def __str__(self):
                    calls.clear()
                    query.clear()
                    gc.collect()
                    return "5"
            query = {"".join(["li", "mit"]): Clears("x"), "".join(["off", "set"]): 0}
            calls.extend([(EP_LIST_STORES, (), query, None),
                          (EP_GET_STORE, ("".join(["s", "1"]),), {"q": 1}, None)])
            out.extend([None, None])
            client._core.run_batch(calls, out, concurrency=2, progress=False)
            assert calls == [] and [ok for ok, _ in out] == [True, True], out
    assert in_child(scenario) == 0
    assert sorted(r.path for r in server.requests) == ["/v1/commerce/stores", "/v1/commerce/stores/s1"]
    listing = next(r for r in server.requests if r.path == "/v1/commerce/stores")
    assert listing.query == {"limit": "5", "offset": "0"}


def test_run_batch_fills_the_callers_list_and_checks_its_length(server):
    server.default = echo
    calls = [(EP_GET_STORE, ("s1",), None, None), (EP_GET_STORE, ("missing",), None, None),
             (EP_GET_STORE, ("a/b",), None, None)]
    with make_client(server) as client:
        out = [None] * 3
        assert client._core.run_batch(calls, out, concurrency=2, progress=False) is None
        assert out[0] == (True, {"status": "online", "reason": "stores"})
        assert out[1][0] is False and isinstance(out[1][1], _core.TransportError)
        assert out[1][1].kind == "status" and out[1][1].status == 404
        assert out[2][0] is False and isinstance(out[2][1], ValueError) and "store_id" in str(out[2][1])
        with pytest.raises(ValueError, match="out must be a list of 3 None"):
            client._core.run_batch(calls, [None], concurrency=2, progress=False)
        with pytest.raises(TypeError):
            client._core.run_batch(calls, (None,) * 3, concurrency=2, progress=False)
        with pytest.raises(TypeError, match="'concurrency'"):
            client._core.run_batch(calls, [None] * 3)


# ------------------------------------------------------------ a batch never loses or repeats work

def test_a_listing_cannot_be_queued_in_a_batch(server):
    with make_client(server) as client:
        batch = client.batch()
        with pytest.raises(gett.InvalidRequestError, match="list_stores cannot be queued in a batch"):
            batch.stores.list()
        with pytest.raises(gett.InvalidRequestError, match="outside the batch"):
            batch.stores.iter()
        assert len(batch) == 0 and batch.run() == []
    assert server.requests == []


class _Interrupted(Exception):
    pass


class _CoreStub:
    """A C core whose run_batch finishes the first ``finish`` calls, cuts the next
    one off in flight, then raises as a signal handler would."""

    closed = False

    def __init__(self, finish):
        self.finish = finish
        self.sent = []

    def run_batch(self, calls, out, *, concurrency, progress):
        self.sent.append([params[0] for _, params, _, _ in calls])
        for i in range(len(calls)):
            if i < self.finish:
                out[i] = (True, {"status": "online", "reason": calls[i][1][0]})
            elif i == self.finish:
                cut = gett._core.TransportError("interrupted by a signal")
                cut.kind, cut.attempts, cut.method, cut.url = "interrupted", 1, "GET", "http://h/x"
                out[i] = (False, cut)
                raise _Interrupted()


def test_an_interrupted_batch_keeps_what_finished_and_resumes_only_what_never_ran():
    core = _CoreStub(finish=2)
    batch = gett.Batch(types.SimpleNamespace(timeout=5.0, _core=core))
    for name in ("a", "b", "c", "d", "e"):
        batch.stores.get_status(name)
    with pytest.raises(_Interrupted):
        batch.run()
    results = batch.results
    assert [r.reason for r in results[:2]] == ["a", "b"]
    assert isinstance(results[2], gett.APIConnectionError) and "interrupted" in str(results[2])
    assert results[3] is NOT_RUN and results[4] is NOT_RUN and batch.not_run == [3, 4]
    assert "2 not run" in repr(batch)
    core.finish = 99
    assert batch.run() is results
    assert [r.reason for r in results[3:]] == ["d", "e"] and batch.not_run == []
    assert batch.run() is results  # a finished batch sends nothing more
    assert core.sent == [["a", "b", "c", "d", "e"], ["d", "e"]]
    with pytest.raises(gett.InvalidRequestError, match="already run"):
        batch.stores.get_status("f")


def test_a_signal_during_a_batch_keeps_results_and_never_resends_a_call(server):
    arrived, release = threading.Event(), threading.Event()

    def answer(req):
        if "/slow/" in req.path:
            arrived.set()
            release.wait(10)
        return Reply(200, {"status": "online", "reason": req.path.split("/")[-2]})

    def raise_interrupted(signum, frame):
        raise _Interrupted()

    def interrupt_when_slow_arrives():
        if arrived.wait(10):
            os.kill(os.getpid(), signal.SIGUSR1)

    server.default = answer
    previous = signal.signal(signal.SIGUSR1, raise_interrupted)
    try:
        with make_client(server) as client:
            batch = client.batch(concurrency=1)
            for name in ("a", "b", "slow", "c", "d"):
                batch.stores.get_status(name)
            killer = threading.Thread(target=interrupt_when_slow_arrives)
            killer.start()
            with pytest.raises(_Interrupted):
                batch.run()
            killer.join()
            release.set()
            results = batch.results
            assert [r.reason for r in results[:2]] == ["a", "b"]
            assert isinstance(results[2], gett.APIConnectionError)  # cut off in flight: not resent
            assert results[3:] == [NOT_RUN, NOT_RUN]
            batch.run()
            assert [r.reason for r in results[3:]] == ["c", "d"]
    finally:
        release.set()
        signal.signal(signal.SIGUSR1, previous)
    sent = [r.path for r in server.requests]
    assert len(sent) == 5 and len(set(sent)) == 5


def test_a_second_run_while_one_is_running_is_refused_and_nothing_is_sent_twice(server):
    arrived, release = threading.Event(), threading.Event()

    def answer(req):
        arrived.set()
        release.wait(10)
        return Reply(200, {"storeId": "s1", "name": "n"})
    server.default = answer
    with gett.Client(api_key=API_KEY, base_url=server.url, timeout=10) as client:
        batch = client.batch()
        batch.stores.get("s1")
        first = threading.Thread(target=batch.run)
        first.start()
        assert arrived.wait(10)
        with pytest.raises(gett.InvalidRequestError, match="already running"):
            batch.run()
        release.set()
        first.join(10)
        assert batch.results[0].store_id == "s1"
        assert batch.run()[0].store_id == "s1"  # a finished batch sends nothing again
    assert len(server.requests) == 1
