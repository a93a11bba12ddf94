"""Type-checked by tests/test_typing.py: the public API as a user writes it."""
import datetime as dt
from decimal import Decimal
from typing import Any, List, Optional, Tuple

import gettcommerce as gett
from gettcommerce import _core


def run(client: gett.Client) -> Optional[str]:
    stores: List[gett.Store] = client.stores.list()
    status: gett.StoreStatus = client.stores.pause(stores[0].store_id, gett.PauseReason.TOO_BUSY,
                                                  resume_at=dt.timedelta(minutes=5))
    online: bool = status.is_online
    order: gett.Order = client.order("o1").confirm().mark_ready()
    amounts = gett.Amounts(sub_total=Decimal("10"), taxes=Decimal("1"))
    total: Decimal = amounts.total
    raw: _core.Client = _core.Client("http://127.0.0.1:1", "k", "ua", timeout=1.0, connect_timeout=1.0,
                                     max_retries=0, max_response_bytes=1000, ca_bundle=None,
                                     pool_size=1, proxy=None)
    results: List[Optional[Tuple[bool, Any]]] = [None]
    raw.run_batch([(0, (), None, None)], results, concurrency=2, progress=False)
    first = results[0]
    ok: bool = first is not None and first[0]
    print(online, order.status, total, ok)
    return stores[0].name
