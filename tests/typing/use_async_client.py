"""Type-checked with mypy --strict by tests/test_async_typing.py: AsyncClient as a user writes it.
assert_type fails the check unless the inferred type is exactly the one named (Any fails too)."""
import asyncio
import datetime as dt
from typing import Any, Dict, List, Optional

from typing_extensions import assert_type

from gettcommerce._async import AsyncClient, AsyncOnboarding, AsyncOrder, AsyncStore
from gettcommerce.models import PauseReason, StoreStatus
from gettcommerce.webhooks import IncomingOrder


async def run(store_id: str, order_ids: List[str], incoming: IncomingOrder) -> Optional[str]:
    async with AsyncClient(api_key="zpka_x", base_url="http://127.0.0.1:9", max_concurrency=8) as client:
        store = await client.stores.get(store_id)
        assert_type(store, AsyncStore)
        status = await store.pause("too_busy", resume_at=dt.timedelta(minutes=5))
        assert_type(status, StoreStatus)
        assert_type(await client.stores.pause(store_id, PauseReason.TOO_BUSY), StoreStatus)
        assert_type(await client.stores.resume(store_id), StoreStatus)
        assert_type(await client.stores.get_status(store_id), StoreStatus)
        assert_type(await client.stores.update(store_id, name="N"), AsyncStore)
        assert_type(await client.stores.list(), List[AsyncStore])
        async for s in client.stores.iter(page_size=10):
            assert_type(s, AsyncStore)
        results = await asyncio.gather(*(client.orders.update_status(o, status="ready") for o in order_ids))
        assert_type(results, List[None])
        order = client.order(order_ids[0])
        assert_type(order, AsyncOrder)
        assert_type(await order.confirm(), AsyncOrder)
        assert_type(incoming.order(client), AsyncOrder)
        ob = await client.onboarding.register(partner_store_id="p", name="n",
                                              catalog_callback_url="https://c", webhook_url="https://w")
        assert_type(ob, AsyncOnboarding)
        assert_type(await ob.wait(progress=True), AsyncOnboarding)
        assert_type(await ob.activate(), AsyncStore)
        assert_type(await client.onboarding.get("ob"), AsyncOnboarding)
        await client.catalog.notify(store_id, "https://c")
        data: Dict[str, Any] = store.to_dict()
        print(status.is_online, data)
        return store.name
