"""The exception tree (gettcommerce/errors.py): classes, messages, and the
mapping of the C core's TransportError."""
from __future__ import annotations

import pytest

import gettcommerce as gett
from gettcommerce import errors
from conftest import problem


class FakeTransportError(Exception):
    """Stands in for _core.TransportError: the attributes from_transport_error reads."""

    def __init__(self, message, **attrs):
        super().__init__(message)
        defaults = dict(kind="status", status=0, attempts=1, method="GET",
                        url="http://127.0.0.1:1/v1/commerce/stores/x", endpoint="get_store",
                        body=None, headers={}, retry_after=None)
        defaults.update(attrs)
        self.__dict__.update(defaults)


@pytest.mark.parametrize("status,cls", [(400, gett.BadRequestError), (404, gett.NotFoundError),
                                        (418, gett.APIStatusError), (502, gett.InternalServerError),
                                        (599, gett.InternalServerError)])
def test_status_maps_to_its_class(status, cls):
    assert errors.status_error_class(status) is cls


def test_a_message_names_status_reason_method_path_code_detail_and_request_id():
    err = errors.from_transport_error(FakeTransportError(
        "HTTP 404", status=404, body=problem(404, "STORE_NOT_FOUND", detail="no store 'x'")))
    assert isinstance(err, gett.NotFoundError)
    assert str(err) == ("404 Not Found from GET /v1/commerce/stores/x: STORE_NOT_FOUND: no store 'x' "
                        "(requestId req_abc123)")


def test_a_bodiless_answer_still_gets_a_useful_message():
    err = errors.from_transport_error(FakeTransportError(
        "HTTP 409", status=409, method="POST",
        url="https://api.gett-tech.com/v1/commerce/catalogset-notification?storeId=s1"))
    assert str(err) == "409 Conflict from POST /v1/commerce/catalogset-notification?storeId=s1"
    assert err.body is None and err.detail is None and err.error_code is None


def test_retry_after_comes_from_the_c_core_not_from_python_parsing():
    err = errors.from_transport_error(FakeTransportError(
        "HTTP 429", status=429, headers={"Retry-After": "5"}, body=problem(429, "RATE_LIMITED", retryAfter=7),
        retry_after=3.5))
    assert isinstance(err, gett.RateLimitError) and err.retry_after == 3.5
    # No header or body parsing in Python: without the core's value there is none.
    plain = errors.make_status_error(429, problem(429, "RATE_LIMITED", retryAfter=7), {"Retry-After": "5"})
    assert plain.retry_after is None and plain.retryable is True


@pytest.mark.parametrize("kind,cls", [("timeout", gett.APITimeoutError), ("connection", gett.APIConnectionError),
                                      ("too_large", gett.APIConnectionError), ("decode", gett.APIConnectionError),
                                      ("interrupted", gett.APIConnectionError)])
def test_transport_kinds_map_to_connection_errors(kind, cls):
    err = errors.from_transport_error(FakeTransportError("what went wrong", kind=kind, attempts=3))
    assert type(err) is cls and str(err) == "what went wrong" and err.attempts == 3


def test_batch_error_lists_the_first_failures():
    failures = [(i, gett.NotFoundError(f"404 #{i}", status_code=404)) for i in range(7)]
    err = gett.BatchError(failures, 10)
    assert str(err).splitlines()[0] == "7 of 10 batch calls failed"
    assert "[4] NotFoundError: 404 #4" in str(err) and "... and 2 more" in str(err)
