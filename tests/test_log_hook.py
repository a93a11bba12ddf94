"""The per-attempt debug log costs a Python call only while someone listens.

The C core calls the log hook once per HTTP attempt; it is installed only
while the ``gettcommerce`` logger is enabled for DEBUG (checked before each
call and batch), so a call with DEBUG off runs no Python code per attempt.
"""
from __future__ import annotations

import logging
import sys

import gettcommerce as gett
from conftest import API_KEY, Reply
from gettcommerce import _request

OK_STATUS = Reply(200, {"status": "online"})


class _CallCounter:
    """Counts Python-level calls of one function (sys.setprofile)."""

    def __init__(self, func):
        self.code = func.__code__
        self.calls = 0

    def __call__(self, frame, event, arg):
        if event == "call" and frame.f_code is self.code:
            self.calls += 1

    def __enter__(self):
        sys.setprofile(self)
        return self

    def __exit__(self, *exc):
        sys.setprofile(None)


def _client(server):
    return gett.Client(api_key=API_KEY, base_url=server.url, timeout=5.0)


def test_no_python_call_per_attempt_while_debug_is_off(server, caplog):
    caplog.set_level(logging.INFO, logger="gettcommerce")
    server.add(Reply(503, headers={"Retry-After": "0"}), OK_STATUS, OK_STATUS, OK_STATUS)
    with _client(server) as client:
        with _CallCounter(_request._log_attempt) as counter:
            client.stores.get_status("s1")          # two attempts
            with client.batch() as batch:
                batch.stores.get_status("s2")
                batch.stores.get_status("s3")
    assert len(server.requests) == 4
    assert counter.calls == 0
    assert [r for r in caplog.records if r.name == "gettcommerce"] == []


def test_debug_switched_on_between_calls_logs_the_next_call(server, caplog):
    caplog.set_level(logging.INFO, logger="gettcommerce")
    server.add(OK_STATUS, OK_STATUS, OK_STATUS, OK_STATUS)
    with _client(server) as client:
        client.stores.get_status("s1")
        caplog.set_level(logging.DEBUG, logger="gettcommerce")
        with _CallCounter(_request._log_attempt) as counter:
            client.stores.get_status("s2")
            with client.batch() as batch:
                batch.stores.get_status("s3")
        lines = [r.getMessage() for r in caplog.records if r.name == "gettcommerce"]
        assert counter.calls == 2
        assert len(lines) == 2 and "/s2/status -> 200" in lines[0] and "/s3/status -> 200" in lines[1]
        # And off again: the hook is removed at the next call.
        caplog.set_level(logging.WARNING, logger="gettcommerce")
        with _CallCounter(_request._log_attempt) as counter:
            client.stores.get_status("s4")
        assert counter.calls == 0


def test_a_disabled_logger_removes_the_hook_although_debug_is_cached(server, caplog):
    # sync_log_hook reads logging's per-level cache; a logger switched off with
    # ``disabled`` (what logging.config does to existing loggers) keeps its
    # cached True, and must still count as not listening.
    caplog.set_level(logging.DEBUG, logger="gettcommerce")
    server.add(OK_STATUS, OK_STATUS)
    logger = logging.getLogger("gettcommerce")
    with _client(server) as client:
        client.stores.get_status("s1")   # DEBUG on: the hook is installed and the answer cached
        assert logger._cache.get(logging.DEBUG) is True
        logger.disabled = True
        try:
            with _CallCounter(_request._log_attempt) as counter:
                client.stores.get_status("s2")
        finally:
            logger.disabled = False
    assert counter.calls == 0
