"""A real notebook (tools/notebook_screenshot.py) run in a Jupyter kernel: the SDK's objects show as
HTML cards, onboarding.wait(progress=True) is one display updated in place, and the HTML export
screenshots in headless Chromium (the PNG the README shows is docs/notebook.png)."""
from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "tools" / "notebook_screenshot.py"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _chromium():
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The script, once: executed notebook, HTML export and (with a Chromium) the screenshot."""
    for module in ("nbformat", "nbclient", "ipykernel", "nbconvert"):
        pytest.importorskip(module, reason="the notebook test needs the test extra (nbclient, nbconvert...)")
    out = tmp_path_factory.mktemp("notebook")
    args = [sys.executable, str(SCRIPT), "--notebook", str(out / "run.ipynb"), "--html", str(out / "run.html")]
    if _chromium():
        args += ["--png", str(out / "run.png")]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=out)
    assert done.returncode == 0, done.stderr[-3000:]
    import nbformat
    return {"nb": nbformat.read(str(out / "run.ipynb"), as_version=4), "dir": out,
            "html": (out / "run.html").read_text(encoding="utf-8")}


def _outputs(cell, kind):
    return [o for o in cell.outputs if o.output_type == kind]


def _html_of(output):
    page = output.data["text/html"]
    parser = HTMLParser()
    parser.feed(page)
    parser.close()
    return page


def test_models_and_errors_show_as_html_cards(run):
    cells = run["nb"].cells
    assert all(not _outputs(cell, "error") for cell in cells)
    store = _html_of(_outputs(cells[0], "execute_result")[0])
    assert 'class="gett-card"' in store and ">Store<" in store and ">online<" in store
    assert "Pizza &lt;script&gt;alert(1)&lt;/script&gt; Place" in store and "<script>alert" not in store
    status = _html_of(_outputs(cells[1], "execute_result")[0])
    assert ">paused<" in status and ">too_busy<" in status and " UTC<" in status and "datetime" not in status
    incoming = _html_of(_outputs(cells[3], "execute_result")[0])
    assert ">IncomingOrder<" in incoming and "2 \u00d7 cola; 1 \u00d7 water" in incoming
    order = _html_of(_outputs(cells[4], "execute_result")[0])
    assert ">Order<" in order and ">confirmed<" in order and "estimated_ready_at" in order
    error = _html_of(_outputs(cells[5], "execute_result")[0])
    assert ">NotFoundError<" in error and ">404 Not Found<" in error and "STORE_NOT_FOUND" in error
    # Each card also keeps its short text repr for plain frontends.
    assert _outputs(cells[0], "execute_result")[0].data["text/plain"].startswith("Store(store_id=")


def test_wait_progress_is_one_display_updated_in_place_not_a_stderr_stream(run):
    cell = run["nb"].cells[2]
    assert "progress=True" in cell.source
    assert _outputs(cell, "stream") == []                  # no pink stderr box
    progress = _outputs(cell, "display_data")
    assert len(progress) == 1
    # register answered pending_catalog (the sandbox ingests after a delay) and the one line now
    # reads ready_to_activate: it was updated in place, not appended to.
    assert "pending_catalog" not in progress[0].data["text/plain"]
    assert "ready_to_activate" in progress[0].data["text/plain"]
    assert 'class="gett-progress"' in _html_of(progress[0])
    result = _html_of(_outputs(cell, "execute_result")[0])
    assert ">Onboarding<" in result and ">ready_to_activate<" in result


def test_the_html_export_carries_the_cards(run):
    assert run["html"].count('class="gett-card"') >= 6
    assert "gett-progress" in run["html"]


def test_the_screenshot_is_a_non_empty_png(run):
    if _chromium() is None:
        pytest.skip("chromium is not installed (apt-get install chromium; CI installs it)")
    data = (run["dir"] / "run.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (900, 1450)
    # A blank page compresses to a few KiB; the rendered notebook (text, badges) does not.
    assert len(data) > 30_000
