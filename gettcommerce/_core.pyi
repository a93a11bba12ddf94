"""Type stubs of gettcommerce._core, the C core (HTTP, JSON, retries, validator)."""
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from typing_extensions import final

curl_version: str
cjson_version: str
curl_has_ssl: int
ENDPOINTS: Dict[str, Tuple[int, str, str, int, bool]]

class TransportError(Exception):
    kind: str
    status: int
    attempts: int
    method: str
    url: str
    endpoint: str
    body: Any
    headers: Dict[str, str]

@final
class Client:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        user_agent: str,
        *,
        timeout: float = ...,
        connect_timeout: float = ...,
        max_retries: int = ...,
        max_response_bytes: int = ...,
        ca_bundle: Optional[str] = ...,
        pool_size: int = ...,
    ) -> None: ...
    def request(
        self, endpoint: int, params: Tuple[str, ...], query: Optional[Dict[str, Any]] = ..., body: Any = ..., /
    ) -> Any: ...
    def run_batch(
        self,
        calls: Sequence[Tuple[int, Tuple[str, ...], Optional[Dict[str, Any]], Any]],
        *,
        concurrency: int = ...,
        progress: bool = ...,
    ) -> List[Tuple[bool, Any]]: ...
    def close(self) -> None: ...
    @property
    def idle_handles(self) -> int: ...
    @property
    def closed(self) -> bool: ...

def check_path_param(field: str, value: str, /) -> None: ...
def set_logger_hook(hook: Optional[Callable[[str, str, int, float, int], Any]], /) -> None: ...
def validate_catalogset(data: Union[bytes, bytearray, memoryview, str, Dict[str, Any]], /) -> List[Tuple[str, str, str, str]]: ...
