"""Top-level await in a Jupyter kernel: a notebook using AsyncClient runs under nbclient + ipykernel."""
from __future__ import annotations


import pytest


CELLS = [
    # The kernel's own event loop runs every cell: one AsyncClient serves them all.
    "from gettcommerce.sandbox import Sandbox\n"
    "from gettcommerce._async import AsyncClient\n"
    "sandbox = Sandbox(time_scale=0.001, rate_limits=False).start()\n"
    "store_id = sandbox.create_store(partner_store_id='p-nb', name='Notebook Pizza')\n"
    "client = AsyncClient(api_key=sandbox.api_key, base_url=sandbox.url)",
    "store = await client.stores.get(store_id)\n"
    "status = await store.pause('too_busy')\n"
    "print(type(store).__name__, store.name, status.status)",
    "import asyncio\n"
    "statuses = await asyncio.gather(*(client.stores.get_status(store_id) for _ in range(20)))\n"
    "print(len(statuses), {s.status for s in statuses})",
    "await client.aclose()\nsandbox.stop()\nprint('closed', client.closed)",
]


def test_top_level_await_in_a_jupyter_kernel(tmp_path):
    nbformat = pytest.importorskip("nbformat", reason="the Jupyter test needs nbclient and ipykernel")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = ["".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
               for cell in nb.cells]
    assert outputs[1] == "AsyncStore Notebook Pizza paused\n"
    assert outputs[2] == "20 {'paused'}\n"
    assert outputs[3] == "closed True\n"
