"""Soak test (issue 6): many mixed SDK calls against the embedded sandbox,
printing the client's RSS every 50,000 calls, to catch leaks in the C core.

    python3 bench/soak.py                 # 500,000 calls (a few minutes)
    python3 bench/soak.py --calls 20000 --every 5000

The sandbox (gettcommerce.sandbox.Sandbox) and a stub partner webhook run
in a child process, so the RSS printed is the SDK's alone and does not grow
with the orders the sandbox remembers.  The mix covers every read, write and
error path a long-running integration uses: get_status, get, list, update,
pause/resume, order status pushes through a whole order life, 404s and 409s,
and every 1,000th call a client.batch() of 21 calls (one of them a 404).
Exit status 1 when RSS grows more than --max-growth-mib between the first
checkpoint (pools are warm by then) and the last, or on any unexpected error.
"""
from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # measure this checkout's gettcommerce


def rss_mib() -> float:
    """Current (not peak) resident set size: growth is what a leak shows."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# --- the sandbox side (child process) -----------------------------------------------------

class PartnerStub(BaseHTTPRequestHandler):
    """The partner's webhook endpoint: accepts every order Gett validates and
    places (the soak measures the SDK's calls, not webhook handling)."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        amounts = (body.get("order") or {}).get("amounts") or {}
        subtotal = amounts.get("subTotal", 0)
        priced = {"subTotal": subtotal, "taxes": 0, "fees": 0, "total": subtotal}
        if self.path.endswith("/validate"):
            answer = {"amounts": priced}
        elif self.path.endswith("/place"):
            answer = {"partnerOrderId": "soak-" + body["order"]["orderId"], "amounts": priced}
        else:
            self.send_error(404)
            return
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


def sandbox_main(conn) -> None:
    """Run the sandbox until told to stop; place orders on request."""
    from gettcommerce.sandbox import Sandbox

    stub = ThreadingHTTPServer(("127.0.0.1", 0), PartnerStub)
    stub.daemon_threads = True
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    webhook_url = f"http://127.0.0.1:{stub.server_address[1]}/gett"
    # No rate limits (500k calls would hit them by design) and a short request
    # log, so the sandbox's own memory stays flat too.
    with Sandbox(rate_limits=False, max_logged_requests=100) as sandbox:
        status_store = sandbox.create_store(partner_store_id="soak-status", name="Soak Status",
                                            webhook_url=webhook_url)
        order_store = sandbox.create_store(partner_store_id="soak-orders", name="Soak Orders",
                                           webhook_url=webhook_url)
        conn.send({"url": sandbox.url, "api_key": sandbox.api_key, "status_store": status_store,
                   "order_store": order_store})
        while True:
            command = conn.recv()
            if command[0] == "place":
                conn.send([sandbox.place_order(order_store, ["cola"]) for _ in range(command[1])])
            else:
                break
    stub.shutdown()


# --- the client side ---------------------------------------------------------------------

class OrderFeed:
    """Open orders to push through their life, refilled from the sandbox."""

    STEPS = ("confirmed", "preparing", "ready", "completed")

    def __init__(self, conn) -> None:
        self.conn = conn
        self.pending: List[str] = []
        self.current = ""
        self.step = len(self.STEPS)
        self.last_completed = ""

    def next_update(self):
        """(order_id, keyword arguments) of the next status push."""
        if self.step == len(self.STEPS):
            if not self.pending:
                self.conn.send(("place", 100))
                self.pending = self.conn.recv()
            self.current, self.step = self.pending.pop(), 0
        status = self.STEPS[self.step]
        self.step += 1
        if status == "completed":
            self.last_completed = self.current
            return self.current, {"state": "completed"}
        return self.current, {"status": status}


def soak(calls: int, every: int, max_growth: float) -> int:
    import gettcommerce as gett

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=sandbox_main, args=(child,), daemon=True)
    server.start()
    try:
        if not parent.poll(60):
            print("soak: the sandbox did not start within 60 s", file=sys.stderr)
            return 1
        info = parent.recv()
        feed = OrderFeed(parent)
        client = gett.Client(api_key=info["api_key"], base_url=info["url"], max_retries=0)
        status_store, order_store = info["status_store"], info["order_store"]
        stores, orders = client.stores, client.orders
        expected = {"NotFoundError": 0, "ConflictError": 0}
        paused = False
        batches = 0
        checkpoints = []
        started = time.perf_counter()
        print(f"soak: {calls:,} calls against {info['url']}; RSS every {every:,}", flush=True)
        print(f"{'calls':>9} {'seconds':>8} {'calls/s':>8} {'RSS MiB':>8} {'objects':>8}", flush=True)
        for i in range(calls):
            op = i % 10
            if op in (0, 6):
                stores.get_status(status_store)
            elif op == 1:
                stores.get(status_store)
            elif op == 2:
                stores.get_status(order_store)
            elif op in (3, 8):
                order_id, fields = feed.next_update()
                orders.update_status(order_id, **fields)
            elif op == 4:
                stores.list()
            elif op == 5:
                if paused:
                    stores.resume(status_store)
                else:
                    stores.pause(status_store, "too_busy")
                paused = not paused
            elif op == 7:
                stores.update(status_store, description=f"soak call {i}")
            elif i % 1000 == 999:
                # Every 1,000th call is a batch (the curl_multi engine): 20
                # reads and one 404, whose exception must land in its slot.
                with client.batch(concurrency=8) as batch:
                    for _ in range(20):
                        batch.stores.get_status(status_store)
                    batch.stores.get_status("no-such-store")
                results = batch.results
                if len(results) != 21 or not isinstance(results[-1], gett.NotFoundError) \
                        or any(isinstance(r, BaseException) for r in results[:-1]):
                    print(f"soak: batch at call {i} returned {results!r}", file=sys.stderr)
                    return 1
                batches += 1
            else:
                # Error paths build exceptions from problem+json in C: a leak
                # there shows only under many failures.
                try:
                    if (i // 10) % 2 or not feed.last_completed:
                        stores.get_status("no-such-store")
                    else:
                        orders.update_status(feed.last_completed, status="ready")
                    print(f"soak: call {i} should have failed", file=sys.stderr)
                    return 1
                except (gett.NotFoundError, gett.ConflictError) as exc:
                    expected[type(exc).__name__] += 1
            if (i + 1) % every == 0 or i + 1 == calls:
                gc.collect()
                elapsed = time.perf_counter() - started
                rss = rss_mib()
                checkpoints.append(rss)
                print(f"{i + 1:>9,} {elapsed:>8.1f} {(i + 1) / elapsed:>8,.0f} {rss:>8.1f} "
                      f"{len(gc.get_objects()):>8,}", flush=True)
        client.close()
        growth = checkpoints[-1] - checkpoints[0]
        print(f"soak: expected errors seen: {expected}; {batches} batches of 21; RSS {checkpoints[0]:.1f} -> "
              f"{checkpoints[-1]:.1f} MiB (growth {growth:+.1f} MiB, limit {max_growth} MiB)")
        if len(checkpoints) > 1 and growth > max_growth:
            print("soak: FAILED: RSS kept growing after the first checkpoint (a leak?)", file=sys.stderr)
            return 1
        return 0
    finally:
        try:
            parent.send(("stop",))
        except (BrokenPipeError, OSError):
            pass
        server.join(timeout=15)
        if server.is_alive():
            server.terminate()
            server.join(timeout=5)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="gettcommerce soak test against the sandbox")
    parser.add_argument("--calls", type=int, default=500_000)
    parser.add_argument("--every", type=int, default=50_000, help="print RSS every N calls")
    parser.add_argument("--max-growth-mib", type=float, default=8.0,
                        help="fail if RSS grows more than this after the first checkpoint")
    args = parser.parse_args(argv)
    if args.calls < 1 or args.every < 1:
        parser.error("--calls and --every must be >= 1")
    return soak(args.calls, args.every, args.max_growth_mib)


if __name__ == "__main__":
    sys.exit(main())
