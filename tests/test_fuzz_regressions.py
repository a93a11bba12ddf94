"""libFuzzer seeds and crashers, replayed through the whole Python path.

fuzz/response_fuzz.c reads an input as: byte 0 selects a status code, the
bytes up to the first CRLFCRLF are header lines, the rest is the body.
Here each such input is served by a raw-socket server and fetched with a
real Client: the answer must become a value or a typed GettError, never a
crash or another exception, and the client must keep working.  Catalog
crashers (fuzz/crashers/catalog-*) go through validate_catalogset; the
catalog seeds are covered by tests/test_catalog_fuzz_regressions.py.
"""
from __future__ import annotations

import pathlib

import pytest

import gettcommerce as gett
from conftest import API_KEY
from gettcommerce.catalog import validate_catalogset
from rawserver import RawServer, ok_json, response_bytes, send

FUZZ = pathlib.Path(__file__).resolve().parent.parent / "fuzz"
# Must match `statuses` in fuzz/response_fuzz.c.
STATUSES = [200, 201, 202, 204, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504, 301, 418, 0,
            999, -1]
# Headers that would change the framing: the replay sets its own length.
FRAMING = ("content-length", "transfer-encoding", "connection")


def _files(directory: pathlib.Path, pattern: str = "*"):
    return sorted(p for p in directory.glob(pattern) if p.is_file()) if directory.is_dir() else []


RESPONSE_INPUTS = _files(FUZZ / "corpus" / "response") + _files(FUZZ / "crashers", "response-*")
CATALOG_CRASHERS = _files(FUZZ / "crashers", "catalog-*")


def as_http(data: bytes) -> bytes:
    """The fuzz input as a well-framed HTTP/1.1 answer (invalid statuses become 502)."""
    if not data:
        return response_bytes(200, b"")
    status = STATUSES[data[0] % len(STATUSES)]
    text = data[1:]
    head, sep, body = text.partition(b"\r\n\r\n")
    if not sep:
        head, body = text, b""
    headers = {}
    for line in head.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        # Keep only header lines an HTTP server could really send.
        if not colon or not name or any(c in name for c in b" \t\0\n\r") or b"\n" in value \
                or b"\0" in value or name.lower().decode("latin-1") in FRAMING:
            continue
        headers[name.decode("latin-1")] = value.strip().decode("latin-1")
    if not 200 <= status <= 599 or status in (204, 301):
        status = 502  # libcurl handles 1xx/3xx framing itself; not what is fuzzed here
    return response_bytes(status, body, content_type=None, headers=headers)


@pytest.fixture(scope="module")
def raw():
    with RawServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def client(raw):
    with gett.Client(api_key=API_KEY, base_url=raw.url, max_retries=0, timeout=5) as c:
        yield c


@pytest.mark.parametrize("path", RESPONSE_INPUTS, ids=lambda p: p.name)
def test_response_input_gives_a_value_or_a_typed_error(raw, client, path):
    raw.add(send(as_http(path.read_bytes()), keep_alive=True))
    try:
        client._request(gett._client.EP_GET_STORE, ("s1",))
    except gett.GettError as exc:
        assert not isinstance(exc, gett.InvalidRequestError), exc  # nothing was refused locally
        str(exc), repr(exc)
    raw.add(ok_json({"storeId": "after"}))
    assert client.stores.get("s1").store_id == "after"
    assert client._core.idle_handles == 1


def test_the_corpus_is_there():
    assert len(RESPONSE_INPUTS) >= 15


def test_catalog_crashers_validate_without_crashing():
    # One test over however many there are (none yet), so an empty
    # directory is not reported as a skip.
    for path in CATALOG_CRASHERS:
        for issue in validate_catalogset(path.read_bytes()):
            assert issue.code and issue.message and issue.severity in ("error", "warning"), path
