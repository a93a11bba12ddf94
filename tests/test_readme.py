"""README.md and examples/README.md run as written.

* Every fenced ```python block runs, in README order, in one child process
  per README.
  The blocks share a namespace (a block may use what an earlier one
  defined) plus the set-up declared in ``PRELUDE`` below: a sandbox, a client
  bound to it, the ids a reader would have at hand.  Names the prelude
  provides are restored before each block, so a block that rebinds
  ``client`` inside its own ``with Sandbox()`` cannot break a later one.
  Blocks added later are picked up without touching this file, as long as
  they use only the names below or their own.
* Every ``gett ...`` line of the README's bash blocks runs against a sandbox
  started by the README's own ``gett sandbox`` line, with the placeholders
  (STORE_ID, ORDER_ID, OTHER_ORDER_ID, ONBOARDING_ID, the port 8787 and the
  exported URL and key) replaced by real values, and must exit 0.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import gettcommerce as gett
from conftest import free_port
from gettcommerce.sandbox import demo_catalog
from sandbox_helpers import Partner

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.dirname(os.path.abspath(__file__))


def _readme(name: str = "README.md") -> str:
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        return f.read()


def fenced_blocks(text: str, language: str):
    """[(first line number, code)] of every ```language block."""
    blocks = []
    for found in re.finditer(r"^```" + language + r"[ \t]*\n(.*?)^```", text, re.S | re.M):
        blocks.append((text.count("\n", 0, found.start()) + 2, found.group(1)))
    return blocks


# The set-up the README's blocks may use, declared here (never edits of the blocks).
PRELUDE = r'''
import datetime as dt, os, sys
from datetime import timedelta
import django
from django.conf import settings
import flask
import gettcommerce as gett
from gettcommerce.sandbox import Sandbox, demo_catalog
from sandbox_helpers import Partner

settings.configure(DEBUG=False, SECRET_KEY="readme", ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"],
                   INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"])
django.setup()
from django.urls import include, path

sandbox = Sandbox(time_scale=0.001).start()
os.environ["GETT_API_KEY"], os.environ["GETT_BASE_URL"] = sandbox.api_key, sandbox.url
client = sandbox.client()
secret = sandbox.webhook_secret
_partner = Partner()                                  # answers the sandbox's order webhooks
store_id = sandbox.create_store(partner_store_id="pos-1", name="Pizza Place", webhook_url=_partner.url)
order_id = sandbox.place_order(store_id, ["cola"])
order_ids = [sandbox.place_order(store_id, [("water", 2)]) for _ in range(3)]
eta = dt.datetime.now(dt.timezone.utc) + timedelta(minutes=20)
menu_url = sandbox.host_catalog(demo_catalog())
hooks_url = _partner.url
flask_app = flask.Flask("shop")

class _Pos:
    def create(self, order):
        return "POS-" + order.order_id[:8]

my_pos = _Pos()

# examples/README.md: the --demo-store of `gett sandbox`, and a place request
# as a web framework hands it over (signed with the example's secret).
sandbox.create_store(partner_store_id="demo-store", name="Demo Diner", webhook_url=_partner.url)
_place = {"order": {"orderId": "o-1", "storeId": store_id, "partnerStoreId": "pos-1", "catalogSetId": "c-1",
                    "fulfillmentType": "pickup", "items": [{"lineItemId": "l-1", "itemId": "cola", "quantity": 1,
                                                            "modifierGroups": []}],
                    "amounts": {"subTotal": 2.5, "tip": 0}},
          "user": {"name": "Ann", "phone": "+15555550100", "email": "ann@example.com"},
          "deliveryAddress": None, "paymentToken": "tok_1"}
raw_body = __import__("json").dumps(_place).encode()
request_headers = gett.webhooks.sign(raw_body, "whsec_...")
'''

RUNNER = r'''
import json, sys, traceback
blocks = json.load(open(sys.argv[1]))
prelude = {"__name__": "readme"}
exec(compile(open(sys.argv[2]).read(), "prelude", "exec"), prelude)
provided = dict(prelude)
namespace = dict(prelude)
for line, code in blocks:
    namespace.update(provided)
    print(f"--- README.md block at line {line}", flush=True)     # of whichever README runs
    try:
        exec(compile(code, f"README.md:{line}", "exec"), namespace)
    except BaseException:
        traceback.print_exc()
        print(f"README.md block at line {line} failed", file=sys.stderr)
        sys.exit(1)
print("--- all blocks ran", flush=True)
'''


def run_python_blocks(name: str, tmp_path) -> subprocess.CompletedProcess:
    """Run every ```python block of ROOT/name after PRELUDE; the finished process."""
    blocks = fenced_blocks(_readme(name), "python")
    (tmp_path / "blocks.json").write_text(json.dumps(blocks))
    (tmp_path / "prelude.py").write_text(PRELUDE)
    (tmp_path / "runner.py").write_text(RUNNER)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([TESTS] + sys.path))
    env.pop("GETT_API_KEY", None)
    env.pop("GETT_BASE_URL", None)
    out = subprocess.run([sys.executable, str(tmp_path / "runner.py"), str(tmp_path / "blocks.json"),
                          str(tmp_path / "prelude.py")], capture_output=True, text=True, timeout=240,
                         env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-6000:]
    assert out.stdout.count("--- README.md block at line") == len(blocks)
    assert "--- all blocks ran" in out.stdout
    return out


def test_every_python_block_of_the_examples_readme_runs_as_written(tmp_path):
    out = run_python_blocks(os.path.join("examples", "README.md"), tmp_path)
    # the order went through the fake partner's validate (taxes 1.0, fees 0.5) and place (po-N)
    assert re.search(r"po-\d+ \{'subTotal': 5, 'taxes': 1, 'fees': 0.5, 'tip': 0, 'total': 6.5\}", out.stdout)
    assert '200 b\'{"partnerOrderId":"POS-1001"' in out.stdout


def test_notify_examples_show_the_gett_store_id():
    # Gett's reference types notify's storeId as its store uuid, not the partner's own id.
    calls = re.findall(r"catalog\.notify\(([^,]+),", _readme())
    assert calls and all(not arg.strip().startswith(("'", '"')) for arg in calls), calls
    assert "also accepts your\n`partnerStoreId`" in _readme()


def test_every_python_block_of_the_readme_runs_as_written(tmp_path):
    assert len(fenced_blocks(_readme(), "python")) >= 8
    out = run_python_blocks("README.md", tmp_path)
    # The quickstart paused its store and listed it.
    assert "status='paused'" in out.stdout and "reason='too_busy'" in out.stdout
    assert "Pizza Place paused" in out.stdout
    # The sandbox example placed, priced and completed an order at whatever hour this runs.
    assert "'subTotal': 12, 'taxes': 1.2, 'tip': 0, 'total': 13.2" in out.stdout
    # No catalog pull failed silently or loudly.
    assert "catalog_failed" not in out.stderr and "pull failed" not in out.stderr


class _MenuHost:
    """Serves menu.json for the CLI test's onboardings."""

    def __init__(self, body: bytes) -> None:
        class H(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/menu.json"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def cli_lines(text: str):
    """Every `gett ...` command of the README's bash blocks, continuation lines joined."""
    lines = []
    for _, block in fenced_blocks(text, "bash"):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip().startswith("gett ") or line.strip().startswith("export "):
                lines.append(line.strip())
    return lines


def _gett():
    script = os.path.join(os.path.dirname(sys.executable), "gett")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "gettcommerce"]


def test_every_gett_line_of_the_readme_runs_against_a_sandbox(tmp_path):
    lines = cli_lines(_readme())
    assert lines[0].startswith("gett sandbox") and len(lines) >= 10
    (tmp_path / "menu.json").write_text(json.dumps(demo_catalog()))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    port = free_port()
    start = shlex.split(lines[0], comments=True)
    start = [str(port) if word == "8787" else word for word in start]
    sandbox = subprocess.Popen(_gett() + start[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=tmp_path)
    host, partner = _MenuHost(json.dumps(demo_catalog()).encode()), Partner()
    try:
        printed = {}
        for line in sandbox.stdout:
            key, _, value = line.partition(": ")
            printed[key.strip()] = value.strip()
            if "API key" in printed and "URL" in printed:
                break
        url, key = printed["URL"], printed["API key"]
        assert url == f"http://127.0.0.1:{port}"
        # Set-up a reader would have done: a live store, an order, an onboarding ready to activate.
        with gett.Client(api_key=key, base_url=url, timeout=20) as client:
            store = client.onboarding.register(partner_store_id="cli-1", name="CLI", catalog_callback_url=host.url,
                                               webhook_url=partner.url).wait(timeout=20, poll_interval=0.05).activate()
            pending = client.onboarding.register(partner_store_id="cli-2", name="CLI 2",
                                                 catalog_callback_url=host.url, webhook_url=partner.url)
            pending.wait(timeout=20, poll_interval=0.05)
        orders = []                                            # Gett's side: over the control plane
        for _ in range(2):
            request = urllib.request.Request(url + "/_sandbox/orders", method="POST",
                                             data=json.dumps({"storeId": store.store_id, "items": ["cola"]}).encode(),
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=20) as answer:
                orders.append(json.load(answer)["orderId"])
        values = {"STORE_ID": store.store_id, "ORDER_ID": orders[0], "OTHER_ORDER_ID": orders[1],
                  "ONBOARDING_ID": pending.onboarding_id}
        run_env = dict(env)
        ran = 0
        for line in lines[1:]:
            words = [values.get(word, word) for word in shlex.split(line, comments=True)]
            if words[0] == "export":
                names = [word.partition("=")[0] for word in words[1:]]
                assert names == ["GETT_BASE_URL", "GETT_API_KEY"], line
                run_env.update(GETT_BASE_URL=url, GETT_API_KEY=key)      # "as printed"
                continue
            out = subprocess.run(_gett() + words[1:], capture_output=True, text=True, env=run_env, cwd=tmp_path,
                                 timeout=60)
            assert out.returncode == 0, (line, out.stdout[-2000:], out.stderr[-2000:])
            ran += 1
        assert ran == len(lines) - 2
        with gett.Client(api_key=key, base_url=url) as client:
            assert client.onboarding.get(pending.onboarding_id).status == "active"
    finally:
        sandbox.send_signal(signal.SIGINT)                     # "Ctrl-C stops it"
        rest, errors = sandbox.communicate(timeout=30)
        host.close()
        partner.close()
    assert sandbox.returncode == 0, errors
    assert "sandbox stopped" in rest
