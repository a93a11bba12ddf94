"""Type stubs of gettcommerce._core, the C core (HTTP, JSON, retries, validator)."""
from typing import Any, Callable, Dict, List, Literal, Optional, Sequence, Tuple, Union

from typing_extensions import final

curl_version: str
cjson_version: str
curl_has_ssl: int
ENDPOINTS: Dict[str, Tuple[int, str, str, int, bool]]

# The complete list of TransportError.kind values:
#   "status"      a non-2xx answer (status, body, headers, retry_after are set)
#   "timeout"     the call's deadline passed (retries included)
#   "connection"  no usable HTTP answer (refused, reset, TLS, a header line over 100 KB...)
#   "too_large"   the body went over max_response_bytes
#   "decode"      a 2xx body that is not usable JSON: invalid, nested over 1000 levels,
#                 a NUL inside a string, or bytes after the document (the message says which)
#   "nomem"       the C core ran out of memory during the call
#   "interrupted" a batch call in flight when a signal handler raised (it may have reached Gett)
_Kind = Literal["status", "timeout", "connection", "too_large", "decode", "nomem", "interrupted"]

class LocalError(ValueError):
    """The core refused a call itself, before sending anything (a bad argument)."""

class ClientClosedError(LocalError, RuntimeError):
    """The core client is closed."""

class TransportError(Exception):
    kind: _Kind
    status: int
    attempts: int
    method: str
    url: str
    endpoint: str
    body: Any                     # parsed problem JSON, text, or None
    headers: Dict[str, str]       # the last non-2xx answer's headers
    retry_after: Optional[float]  # problem body's retryAfter, else Retry-After (seconds or HTTP-date)
    ambiguous: bool  # an earlier attempt may have reached Gett before the call was retried

_Call = Tuple[int, Tuple[str, ...], Optional[Dict[str, Any]], Any]

@final
class _Options:  # a PyCapsule at run time ("gettcommerce._core.options")
    ...

@final
class Client:
    # Every keyword is required: the defaults live in gettcommerce/_constants.py.
    # base_url is used as given.  proxy: None = https_proxy/HTTPS_PROXY, all_proxy/ALL_PROXY and
    # no_proxy/NO_PROXY read now, used only for an https base_url; "" = no proxy; a URL = that
    # proxy (refused with a plain-http base_url).
    def __init__(
        self,
        base_url: str,
        api_key: str,
        user_agent: str,
        *,
        timeout: float,
        connect_timeout: float,
        max_retries: int,
        max_response_bytes: int,
        ca_bundle: Optional[str],
        pool_size: int,
        proxy: Optional[str],
    ) -> None: ...
    # Exceptions raised by Python signal handlers during the call (or by the log hook)
    # propagate unchanged; a handler that returns normally does not disturb the call.
    # options: None or Client.options()'s capsule (a with_options() copy's settings).  raw: a
    # success answers (value, status, headers, attempts), its headers copied only then.
    def request(
        self, endpoint: int, params: Tuple[str, ...], query: Optional[Dict[str, Any]] = ..., body: Any = ...,
        options: Optional[_Options] = ..., raw: bool = ..., /
    ) -> Any: ...
    # request() for a whole Request tuple (endpoint, params, query, body, read, accept); when read
    # is a ModelReader and the answer its plain case, the model read from the answer's tree itself
    # (read(model, request) returns it as it is).
    def call(self, request: Tuple[Any, ...], options: Optional[_Options] = ..., /) -> Any: ...
    # out: a list of len(calls) None.  Finished calls get (True, value) or (False, exception)
    # (a TransportError, or ValueError/TypeError for a call refused locally); calls never started
    # stay None; calls in flight when a signal handler raised get
    # (False, TransportError(kind="interrupted")), then that exception is re-raised.
    def run_batch(
        self,
        calls: Sequence[_Call],
        out: List[Optional[Tuple[bool, Any]]],
        *,
        concurrency: int,
        progress: bool,
        options: Optional[_Options] = ...,
    ) -> None: ...
    # A with_options() copy's settings; extra_headers: "Name: value" lines, each replacing a
    # default line of that name.
    def options(self, timeout: float, connect_timeout: float, max_retries: int,
                extra_headers: Tuple[str, ...], /) -> _Options: ...
    # None, or hook(method, url, status, elapsed_s, attempt, started_monotonic, kind, request_id,
    # error_text) once per HTTP attempt after each call (single, batch, asyncio); an exception it
    # raises propagates out of the call (gettcommerce._attempt's reporter never raises).
    attempt_hook: Optional[Callable[[str, str, int, float, int, float, str, Optional[str], Optional[str]], Any]]
    def close(self) -> None: ...
    @property
    def idle_handles(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    @property
    def proxy(self) -> Optional[str]: ...  # the proxy in use ("" none); None once closed

def check_path_param(field: str, value: str, /) -> None: ...
# A request's read for calls whose answer carries nothing: returns None.
def discard(raw: Any, request: Any, /) -> None: ...

# read(raw, request) for a model of slots: fields are (slot, answer key or None); a dict answer
# whose `required` key is truthy, for a request with a path id (id_slot = request[1][0]), is
# built in C; anything else goes to fallback(raw, request).
@final
class ModelReader:
    def __new__(cls, model: type, fields: Tuple[Tuple[str, Optional[str]], ...], required: str,
                id_slot: Optional[str], fallback: Callable[[Any, Any], Any]) -> "ModelReader": ...
    def __call__(self, raw: Any, request: Any, /) -> Any: ...
# How many 2xx answers had their headers copied in this process (raw responses, attempt hooks).
def success_headers_kept() -> int: ...
# fn(method, url, status, ms, attempt) once per HTTP attempt, after the call (single or batch);
# an exception it raises propagates out of the call.
def set_logger_hook(hook: Optional[Callable[[str, str, int, float, int], Any]], /) -> None: ...
def validate_catalogset(data: Union[bytes, bytearray, memoryview, str, Dict[str, Any]], /) -> List[Tuple[str, str, str, str]]: ...

# The asyncio engine (gettcommerce._async): libcurl's multi_socket API driven by `loop`
# (add_reader/add_writer, call_soon/call_later), at most max_concurrency transfers in flight.
@final
class AsyncCall:
    @property
    def live(self) -> bool: ...

@final
class AsyncEngine:
    def __init__(self, core: Client, loop: Any, *, max_concurrency: int) -> None: ...
    # future gets (True, value) or (False, TransportError); ValueError/TypeError for bad arguments now.
    # With options/raw: as Client.request (the future's value is the raw tuple when raw).
    def submit(self, endpoint: int, params: Tuple[str, ...], query: Optional[Dict[str, Any]], body: Any,
               future: Any, options: Optional[_Options] = ..., raw: bool = ..., /) -> AsyncCall: ...
    def cancel(self, call: AsyncCall, /) -> bool: ...
    def close(self) -> None: ...
    @property
    def live(self) -> int: ...
    @property
    def in_flight(self) -> int: ...
    @property
    def watched(self) -> int: ...
    @property
    def closed(self) -> bool: ...
