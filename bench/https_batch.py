"""HTTPS batch over HTTP/2 against HTTP/1.1: calls/s and connections used (issue 17).

    python3 bench/https_batch.py [--calls 3000] [--concurrency 32] [--rounds 5]

Starts two nginx servers on loopback with a self-signed certificate (TLS 1.3;
one offering h2 via ALPN, one HTTP/1.1 only; tests/tls_nginx.py), runs the
same client.batch of get_status calls against each in interleaved rounds and
prints the medians, their ratio, and how many connections each batch used
(from nginx's access log).  Wall-clock on a shared machine: read the ratio.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import gettcommerce as gett  # noqa: E402
from tls_nginx import TlsNginx  # noqa: E402


def run(server: TlsNginx, calls: int, concurrency: int) -> float:
    with gett.Client("zpka_bench", base_url=server.url, ca_bundle=server.ca_file, proxy="") as client:
        client.stores.get_status("s")
        start = time.perf_counter()
        with client.batch(concurrency=concurrency) as batch:
            for _ in range(calls):
                batch.stores.get_status("s")
        elapsed = time.perf_counter() - start
        if not all(isinstance(r, gett.StoreStatus) for r in batch.results):
            raise SystemExit("a batch call failed")
    return calls / elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    with TlsNginx(http2=True) as h2, TlsNginx(http2=False) as h1:
        rates = {"HTTP/1.1": [], "HTTP/2": []}
        conns = {}
        for _ in range(args.rounds):
            for name, server in (("HTTP/1.1", h1), ("HTTP/2", h2)):
                before = len(server.lines())
                rates[name].append(run(server, args.calls, args.concurrency))
                lines = server.lines(at_least=before + args.calls + 1)[before + 1:]
                conns[name] = len({line.connection for line in lines})
        print(f"HTTPS batch of {args.calls} get_status, {args.concurrency} in flight, "
              f"medians of {args.rounds} interleaved rounds:")
        for name, values in rates.items():
            print(f"  {name:8} {statistics.median(values):9,.0f} calls/s  "
                  f"{conns[name]} connection(s)  rounds {[round(v) for v in values]}")
        ratio = statistics.median(rates["HTTP/2"]) / statistics.median(rates["HTTP/1.1"])
        print(f"  HTTP/2 / HTTP/1.1: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
