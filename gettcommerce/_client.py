"""The synchronous Client: configuration checks, and the executor that runs calls now.

Resources (``_resources.py``) describe each call as a Request; ``Client.execute``
sends it through the C core (``gettcommerce._core.Client.request``: URL,
JSON, retries and parsing with the GIL released) and ``_request.settle``
turns the outcome into the result or the public exception.
"""
from __future__ import annotations

import ipaddress
import math
import os
import platform
import re
import time
from typing import Any, Dict, Iterator, Mapping, Optional
from urllib.parse import urlsplit

from . import _certs, _core
from ._batch import Batch
from ._constants import (
    DEFAULT_BATCH_CONCURRENCY,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_POOL_SIZE,
    DEFAULT_TIMEOUT,
    ENV_API_KEY,
    ENV_BASE_URL,
    PRODUCTION_BASE_URL,
)
from ._attempt import AttemptHook, attempt_reporter
from ._raw import RawResponse, settle_raw
from ._request import (_DEBUG, CORE_ERRORS, SHAPE_ERRORS, Pages, Request, _enabled_cache as _debug_cache,
                       _hooked, as_is, logger, public_error, settle, sync_log_hook, unexpected_answer)
# Endpoint numbers that tests and tools import from here (their home is _request).
from ._request import (EP_GET_ONBOARDING, EP_GET_STORE, EP_GET_STORE_STATUS, EP_LIST_STORES,
                       EP_ORDER_STATUS, EP_UPDATE_STORE)
from ._resources import CatalogResource, OnboardingResource, OrdersResource, StoresResource, check_id, check_url
from ._version import __version__
from .errors import InvalidRequestError
from .models import Order

__all__ = ["Client", "EP_GET_ONBOARDING", "EP_GET_STORE", "EP_GET_STORE_STATUS", "EP_LIST_STORES",
           "EP_ORDER_STATUS", "EP_UPDATE_STORE"]


def _user_agent() -> str:
    return f"gettcommerce/{__version__} libcurl/{_core.curl_version} Python/{platform.python_version()}"


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Secret:
    """The API key, out of sight: its repr never shows the value, so a
    traceback formatted with locals (``capture_locals=True``) cannot leak it."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "<api key hidden>"

    def check(self) -> None:
        # No local may hold the value: this frame shows in the traceback it raises.
        if not self._value:
            raise InvalidRequestError(f"no API key: pass api_key= or set ${ENV_API_KEY}",
                                      field="api_key")
        if not isinstance(self._value, str) or any(ord(c) < 33 or ord(c) > 126 for c in self._value):
            # The value itself is never echoed: it is a secret.
            raise InvalidRequestError("api_key must be printable ASCII without spaces or line breaks",
                                      field="api_key")


def _base_url(value: Any, allow_insecure_http: bool) -> str:
    """The base URL as the C core uses it: absolute http(s), no query or
    fragment, control character or bad port, trailing '/'s stripped (the one
    place they are stripped)."""
    url = check_url(value, "base_url")
    parts = urlsplit(url)
    if "?" in url or "#" in url:
        raise InvalidRequestError(f"base_url {url!r} must not contain '?' or '#': every request "
                                  "path is appended to it", field="base_url", value=url)
    if any(ord(c) < 33 or ord(c) == 127 or c in ';\\"<>`{}|^' for c in url):
        raise InvalidRequestError(f"base_url {url!r} contains a space, control character or one "
                                  "of ;\\\"<>`{}|^ that no request URL may carry",
                                  field="base_url", value=url)
    try:
        parts.port
    except ValueError as exc:
        raise InvalidRequestError(f"base_url {url!r} has an invalid port ({exc})",
                                  field="base_url", value=url) from None
    if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname or ""):
        raise InvalidRequestError(
            f"base_url {url!r} is plain http to a non-loopback host: the API key would travel "
            "unencrypted; use https or pass allow_insecure_http=True", field="base_url", value=url)
    return url.rstrip("/")


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 \
            or not math.isfinite(value):
        raise InvalidRequestError(f"{name} must be a number of seconds > 0, not {value!r}",
                                  field=name, value=value)
    return float(value)


def _retries(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequestError(f"max_retries must be an int >= 0, not {value!r}",
                                  field="max_retries", value=value)
    return value


# Headers the client owns (auth, body framing, identity): extra_headers cannot set them.
_OWN_HEADERS = frozenset({"authorization", "content-type", "user-agent", "content-length", "host",
                          "transfer-encoding"})
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_VALUE = re.compile(r"[\x20-\x7e\t]*")


def _extra_headers(value: Any, inherited: Mapping[str, str]) -> Dict[str, str]:
    """``extra_headers`` checked and merged over the inherited ones (case-insensitively)."""
    if not isinstance(value, Mapping):
        # Named by type only: the values may carry tokens (as below).
        raise InvalidRequestError(f"extra_headers must be a dict of str to str, not {type(value).__name__}",
                                  field="extra_headers", value=type(value).__name__)
    merged = dict(inherited)
    for name, text in value.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise InvalidRequestError(f"extra_headers: {name!r} is not a valid header name (letters, "
                                      "digits and !#$%&'*+-.^_`|~; no spaces, CR or LF)",
                                      field="extra_headers", value=name)
        if name.lower() in _OWN_HEADERS:
            raise InvalidRequestError(f"extra_headers cannot set {name!r}: the client sets it "
                                      "(the API key, the JSON body and the SDK's identity)",
                                      field="extra_headers", value=name)
        if not isinstance(text, str) or not text.strip() or not _VALUE.fullmatch(text):
            # The value is not echoed: a header may carry a token.
            raise InvalidRequestError(f"extra_headers[{name!r}] must be a non-empty str of printable "
                                      "ASCII (no CR, LF or other control characters)",
                                      field="extra_headers", value=name)
        for old in [k for k in merged if k.lower() == name.lower()]:
            del merged[old]
        merged[name] = text
    return merged


def _proxy(value: Any, base_url: str) -> Optional[str]:
    """``proxy=``: None (environment proxies, https only), "" (none) or a proxy URL."""
    if value is None or value == "":
        return value
    if not isinstance(value, str):
        raise InvalidRequestError(f"proxy must be a URL such as 'http://proxy:3128', '' or None, "
                                  f"not {value!r}", field="proxy", value=value)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https", "socks4", "socks4a", "socks5", "socks5h") \
            or not parts.hostname or any(c in value for c in "\r\n\0 "):
        raise InvalidRequestError(f"proxy must be a URL such as 'http://proxy:3128' "
                                  f"(http, https or socks), not {value!r}", field="proxy", value=value)
    try:
        parts.port
    except ValueError:
        raise InvalidRequestError(f"proxy {value!r} has an invalid port", field="proxy",
                                  value=value) from None
    if urlsplit(base_url).scheme != "https":
        raise InvalidRequestError(f"proxy {value!r} with the plain-http base_url {base_url!r} would "
                                  "show the API key to the proxy; use an https base_url or proxy=''",
                                  field="proxy", value=value)
    return value


class Client:
    """A connection to the Gett Commerce Partner API.

    >>> import gettcommerce as gett
    >>> client = gett.Client(api_key="zpka_example", base_url="http://127.0.0.1:9")
    >>> client
    <gettcommerce.Client base_url='http://127.0.0.1:9'>
    >>> client.close()

    ``api_key`` defaults to ``$GETT_API_KEY``, ``base_url`` to
    ``$GETT_BASE_URL`` or production.  ``timeout`` bounds a whole call,
    retries included (and a whole ``stores.list()``); ``max_retries`` counts
    retries after the first attempt.  ``proxy``: None uses the environment's
    proxies for an https base_url (never for plain http), "" none, a URL that
    proxy.  The key lives only in the C core's memory and never appears in a
    repr, log line or exception.  One Client is safe to share between threads
    and survives ``os.fork()`` (the child opens its own connections).
    ``on_attempt``: called with a :class:`gettcommerce.Attempt` once per HTTP
    attempt (see ``with_options`` for per-call settings and
    ``<resource>.with_raw_response`` for headers of successful answers).
    """

    # A with_options() copy's settings in the C core (None: the client's own).
    _options: Any = None

    def __init__(self, api_key: Optional[str] = None, *, base_url: Optional[str] = None,
                 timeout: float = DEFAULT_TIMEOUT, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
                 max_retries: int = DEFAULT_MAX_RETRIES,
                 max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
                 ca_bundle: Optional[str] = None, allow_insecure_http: bool = False,
                 pool_size: int = DEFAULT_POOL_SIZE, proxy: Optional[str] = None,
                 on_attempt: Optional[AttemptHook] = None) -> None:
        # The key leaves this frame's locals at once: a traceback formatted
        # with locals must not show it (only the masked _Secret remains).
        secret = _Secret(api_key if api_key is not None else os.environ.get(ENV_API_KEY))
        del api_key
        self._core: Optional[_core.Client] = None
        secret.check()
        url = _base_url(base_url or os.environ.get(ENV_BASE_URL) or PRODUCTION_BASE_URL,
                        allow_insecure_http)
        _seconds("timeout", timeout)
        _seconds("connect_timeout", connect_timeout)
        _retries(max_retries)
        reporter = attempt_reporter(on_attempt)
        if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int) \
                or max_response_bytes <= 0:
            raise InvalidRequestError("max_response_bytes must be an int > 0", field="max_response_bytes",
                                      value=max_response_bytes)
        if ca_bundle is None:
            # The wheel's bundled libcurl knows only the build machine's CA path:
            # find this system's bundle (or certifi), else say how to give one.
            ca_bundle = os.environ.get("SSL_CERT_FILE") or _certs.ca_bundle_for(url)
        if ca_bundle is not None and not os.path.isfile(ca_bundle):
            raise InvalidRequestError(f"ca_bundle {ca_bundle!r} is not a readable file",
                                      field="ca_bundle", value=ca_bundle)
        proxy = _proxy(proxy, url)
        self.base_url: str = url
        self.timeout: float = float(timeout)
        self.connect_timeout: float = float(connect_timeout)
        self.max_retries: int = max_retries
        self.extra_headers: Dict[str, str] = {}
        try:
            self._core = _core.Client(url, secret._value, _user_agent(), timeout=float(timeout),
                                      connect_timeout=float(connect_timeout), max_retries=max_retries,
                                      max_response_bytes=max_response_bytes, ca_bundle=ca_bundle,
                                      pool_size=pool_size, proxy=proxy)
        except (ValueError, TypeError) as exc:  # the C core's own limits (e.g. pool_size >= 1)
            message = str(exc)
            raise InvalidRequestError(message, field=message.split(" ", 1)[0]) from None
        self._core.attempt_hook = reporter
        self._attach_resources()

    def __repr__(self) -> str:
        closed = " closed" if self.closed else ""
        return f"<gettcommerce.Client base_url={getattr(self, 'base_url', None)!r}{closed}>"

    @property
    def closed(self) -> bool:
        return self._core is None or self._core.closed

    def close(self) -> None:
        """Close pooled connections.  Idempotent; later calls raise InvalidRequestError
        (of this client and of every ``with_options`` copy of it)."""
        if self._core is not None:
            self._core.close()

    def _attach_resources(self) -> None:
        # The resources run their calls through this client (or copy).
        self.stores: StoresResource = StoresResource(self, self)
        self.orders: OrdersResource = OrdersResource(self, self)
        self.onboarding: OnboardingResource = OnboardingResource(self, self)
        self.catalog: CatalogResource = CatalogResource(self, self)

    def with_options(self, *, timeout: Optional[float] = None, connect_timeout: Optional[float] = None,
                     max_retries: Optional[int] = None,
                     extra_headers: Optional[Mapping[str, str]] = None) -> "Client":
        """A light copy of this client with other settings, sharing its connections.

        >>> client = Client(api_key="zpka_example", base_url="http://127.0.0.1:9")
        >>> quick = client.with_options(timeout=2.0, max_retries=0, extra_headers={"X-Trace": "1"})
        >>> quick.timeout, quick.max_retries, client.timeout
        (2.0, 0, 30.0)
        >>> client.close()

        Unset arguments keep this client's values; ``extra_headers`` are added
        to every request (merged over this client's, case-insensitively) and
        cannot set Authorization, Content-Type, User-Agent, Content-Length,
        Host or Transfer-Encoding.  Making a copy costs microseconds: it uses
        the same C client, pool and on_attempt hook.  Closing the parent
        closes the copies' connections too; ``close()`` on a copy does
        nothing (the parent owns the connections), so ``with
        client.with_options(...) as c:`` is safe.
        """
        return _ClientCopy(self, timeout, connect_timeout, max_retries, extra_headers)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------ executor
    def execute(self, request: Request) -> Any:
        """Run one call now (with a ``with_options`` copy's settings): its result,
        or its public exception raised."""
        # settle()'s success path and sync_log_hook()'s check, inline: two
        # Python frames less on every call (the hot path).
        if _debug_cache.get(_DEBUG) is not _hooked[0] or logger.disabled:
            sync_log_hook()
        try:
            raw = self._core.call(request, self._options)  # type: ignore[union-attr]
        except CORE_ERRORS as exc:
            return settle(request, False, exc)
        try:
            return request[4](raw, request)
        except SHAPE_ERRORS as exc:
            raise unexpected_answer(request, raw, exc) from None

    def execute_raw(self, request: Request) -> RawResponse:
        """Run one call now, keeping its answer's HTTP details (``with_raw_response``)."""
        sync_log_hook()
        started = time.monotonic()
        try:
            raw = self._core.request(request[0], request[1], request[2], request[3],  # type: ignore[union-attr]
                                     self._options, True)
        except CORE_ERRORS as exc:
            return settle_raw(request, False, exc, time.monotonic() - started)
        return settle_raw(request, True, raw, time.monotonic() - started)

    def iterate(self, pages: Pages) -> Iterator[Any]:
        """A paged listing's items, each page fetched when the one before is used up."""
        request: Optional[Request] = pages.first()
        while request is not None:
            started = time.monotonic()
            page = self.execute(request)
            # Judged before its items are handed out: a repeated page yields nothing twice.
            request = pages.next(page, time.monotonic() - started)
            yield from page.items

    def _request(self, endpoint: int, params: tuple = (), query: Optional[dict] = None,
                 body: Any = None) -> Any:
        """One call's parsed JSON answer (None when empty), for tools and tests."""
        return self.execute((endpoint, params, query, body, as_is, None))

    # ------------------------------------------------------------ handles
    def order(self, order_id: str) -> Order:
        """An Order handle for pushing status (no request is made).

        >>> client = Client(api_key="zpka_example", base_url="http://127.0.0.1:9")
        >>> client.order("3f2b...").status
        'pending'
        """
        return Order(check_id(order_id, "order_id"), client=self)

    def batch(self, *, concurrency: int = DEFAULT_BATCH_CONCURRENCY, progress: bool = False) -> Batch:
        """Run many calls concurrently; see :class:`gettcommerce.Batch`."""
        return Batch(self, concurrency=concurrency, progress=progress)



class _ClientCopy(Client):
    """What ``Client.with_options`` returns: the parent's C client and
    connections, with per-call settings (a capsule the C core reads per
    request).  Its ``close()`` leaves the parent's connections open."""

    def __init__(self, parent: Client, timeout: Optional[float], connect_timeout: Optional[float],
                 max_retries: Optional[int], extra_headers: Optional[Mapping[str, str]]) -> None:
        # No Client.__init__: nothing here opens connections or sees the key.
        self._core = parent._core
        self.base_url = parent.base_url
        self.timeout = parent.timeout if timeout is None else _seconds("timeout", timeout)
        self.connect_timeout = (parent.connect_timeout if connect_timeout is None
                                else _seconds("connect_timeout", connect_timeout))
        self.max_retries = parent.max_retries if max_retries is None else _retries(max_retries)
        self.extra_headers = (dict(parent.extra_headers) if extra_headers is None
                              else _extra_headers(extra_headers, parent.extra_headers))
        lines = tuple(f"{name}: {value}" for name, value in self.extra_headers.items())
        try:
            self._options = self._core.options(self.timeout, self.connect_timeout,  # type: ignore[union-attr]
                                               self.max_retries, lines)
        except CORE_ERRORS as exc:
            raise public_error(exc) from None
        self._attach_resources()

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + " with_options>"

    def close(self) -> None:
        """Nothing: the connections are the parent's (close the parent)."""
