"""Run a small gettcommerce notebook in a Jupyter kernel, export it to HTML
and take a headless Chromium screenshot of it (docs/notebook.png).

    python tools/notebook_screenshot.py --png docs/notebook.png
    python tools/notebook_screenshot.py --notebook out.ipynb --html out.html   # no browser needed

Test-only: it needs the ``test`` extra (nbclient, nbformat, ipykernel,
nbconvert) and, for ``--png``, a Chromium (``apt-get install chromium``;
.ci/install-services.sh installs it).  tests/test_notebook.py runs it.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

# Each cell is a step a partner would run; the outputs are the SDK's HTML cards.
CELLS = [
    "import datetime\n"
    "import gettcommerce as gett\n"
    "from gettcommerce.sandbox import Sandbox, demo_catalog\n"
    "sandbox = Sandbox(time_scale=0.001, rate_limits=False, ingest_delay=0.2).start()\n"
    "client = sandbox.client()\n"
    "store_id = sandbox.create_store(partner_store_id='pos-1', name='Pizza <script>alert(1)</script> Place')\n"
    "store = client.stores.get(store_id)\n"
    "store",
    "store.pause('too_busy', resume_at=datetime.timedelta(minutes=30))",
    "onboarding = client.onboarding.register(partner_store_id='pos-2', name='Noodle Bar',\n"
    "                                        catalog_callback_url=sandbox.host_catalog(demo_catalog()),\n"
    "                                        webhook_url='http://127.0.0.1:9/gett')\n"
    "onboarding.wait(poll_interval=0.01, progress=True)",
    "received = []\n"
    "shop = gett.WebhookApp(sandbox.webhook_secret, on_validate=lambda order: order.amounts,\n"
    "                       on_place=lambda order: received.append(order) or 'POS-7')\n"
    "with shop.serve() as url:\n"
    "    pizzeria = sandbox.create_store(partner_store_id='pos-3', name='Pizzeria', webhook_url=url)\n"
    "    order_id = sandbox.place_order(pizzeria, [('cola', 2), 'water'])\n"
    "received[0]",
    "in_20_minutes = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=20)\n"
    "client.order(order_id).confirm(estimated_ready_at=in_20_minutes)",
    "try:\n"
    "    client.stores.get('no-such-store')\n"
    "except gett.NotFoundError as exc:\n"
    "    error = exc\n"
    "error",
    "client.close()\nsandbox.stop()",
]


def build_notebook():
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def execute(nb, workdir: str) -> None:
    """Run every cell in a fresh python3 kernel (this interpreter's ipykernel)."""
    import nbclient
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": workdir}}).execute()


def to_html(nb) -> str:
    from nbconvert import HTMLExporter
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    return body


def find_chromium() -> Optional[str]:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(html_path: Path, png_path: Path, browser: str, *, width: int = 900, height: int = 1450) -> None:
    """A headless Chromium screenshot of ``html_path`` (no network, no GPU, no profile left behind)."""
    with tempfile.TemporaryDirectory() as profile:
        cmd: List[str] = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                          "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
                          f"--window-size={width},{height}", "--force-device-scale-factor=1",
                          f"--screenshot={png_path.resolve()}", html_path.resolve().as_uri()]
        # The browser is not ours to sanitize: under `make test-asan` the ASan runtime is preloaded.
        env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "PYTHONMALLOC")}
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    if done.returncode != 0 or not png_path.exists() or png_path.stat().st_size == 0:
        raise SystemExit(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", type=Path, help="write the executed notebook here")
    parser.add_argument("--html", type=Path, help="write the HTML export here")
    parser.add_argument("--png", type=Path, help="write a Chromium screenshot of the HTML here")
    args = parser.parse_args(argv)
    import nbformat
    with tempfile.TemporaryDirectory() as workdir:
        nb = build_notebook()
        execute(nb, workdir)
        if args.notebook:
            nbformat.write(nb, str(args.notebook))
        html_path = args.html or Path(workdir) / "notebook.html"
        html_path.write_text(to_html(nb), encoding="utf-8")
        if args.png:
            browser = find_chromium()
            if browser is None:
                sys.stderr.write("no chromium on PATH: apt-get install chromium\n")
                return 3
            screenshot(html_path, args.png, browser)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")   # quiet ipykernel under debuggers
    sys.exit(main())
