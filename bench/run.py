"""The gettcommerce benchmark suite (issue 7): one run measures gettcommerce
and its peers against the same canned-response nginx on 127.0.0.1 and writes
bench/RESULTS.md.

    python3 bench/run.py            # what `make bench` runs (5-15 minutes on 2 cores, HTTPS included)
    python3 bench/run.py --quick    # a smoke run: fewer calls, 2 runs, RESULTS-quick.md

It installs what it needs when missing (the peer packages with pip, nginx
with apt-get), builds the C floors from bench/*.c, starts nginx as a child
on a free loopback port and stops it at the end, error or not.  Every
measurement runs in its own process, in rounds (each round measures every
contender once, in a rotated order) so that drift of the machine touches
all contenders alike; figures are medians over the rounds, ratios are
between medians of this one run.
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = BENCH / "bin"
PEER_MODULES = ("pycurl", "urllib3", "requests", "httpx", "aiohttp")
STATUS_PATH = "/v1/commerce/stores/0b6f6c2e-5a0e-4b8e-9c1d-3d0c2f1a9b10/status"
MEASURE_TIMEOUT = 300.0   # seconds one measurement process may take


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- set-up ---------------------------------------------------------------------

def run_checked(cmd: Sequence[str], what: str, **kwargs) -> None:
    log(f"[bench] {what}: {' '.join(cmd)}")
    result = subprocess.run(cmd, **kwargs)
    if result.returncode != 0:
        raise SystemExit(f"[bench] {what} failed (exit {result.returncode})")


def apt_install(packages: Sequence[str]) -> None:
    if os.geteuid() != 0:
        raise SystemExit(f"[bench] need the Debian packages {', '.join(packages)}; "
                         f"run as root or: sudo apt-get install -y {' '.join(packages)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run_checked(["apt-get", "update", "-qq"], "apt-get update", env=env)
    run_checked(["apt-get", "install", "-y", "-qq", *packages], "apt-get install", env=env)


def missing_modules(modules: Sequence[str]) -> List[str]:
    code = ("import importlib.util, sys; "
            "print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))")
    out = subprocess.run([sys.executable, "-c", code, *modules], capture_output=True, text=True,
                         check=True).stdout
    return out.split()


def ensure_peers(install: bool) -> None:
    missing = missing_modules(PEER_MODULES)
    if not missing:
        return
    if not install:
        raise SystemExit(f"[bench] missing peer packages: {' '.join(missing)} (drop --no-install)")
    pip = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
           "-r", str(BENCH / "requirements.txt")]
    if subprocess.run(pip).returncode != 0:
        # pycurl builds from source where no wheel fits; it needs these headers.
        apt_install(["libcurl4-openssl-dev", "libssl-dev"])
        run_checked(pip, "pip install (after the libcurl headers)")
    still = missing_modules(PEER_MODULES)
    if still:
        raise SystemExit(f"[bench] still missing after pip install: {' '.join(still)}")


def find_nginx() -> Optional[str]:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin:/sbin")


def ensure_nginx(install: bool) -> str:
    nginx = find_nginx()
    if nginx is None and install:
        apt_install(["nginx-light"])
        nginx = find_nginx()
    if nginx is None:
        raise SystemExit("[bench] nginx not found; apt-get install nginx-light (or drop --no-install)")
    return nginx


def pkg_config(*packages: str) -> List[str]:
    result = subprocess.run(["pkg-config", "--cflags", "--libs", *packages], capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise SystemExit("[bench] pkg-config cannot find libcurl/libcjson: "
                         "apt-get install libcurl4-openssl-dev libcjson-dev pkg-config")
    return result.stdout.split()


def build_floors() -> Dict[str, Path]:
    """Compile bench/floor_*.c into bench/bin/ (only when a source is newer)."""
    BIN.mkdir(exist_ok=True)
    flags = pkg_config("libcurl", "libcjson")
    cc = os.environ.get("CC", "cc")
    built = {}
    shared = (BENCH / "floor.h").stat().st_mtime
    for name in ("floor_seq", "floor_multi"):
        source, binary = BENCH / f"{name}.c", BIN / name
        if not binary.exists() or binary.stat().st_mtime < max(source.stat().st_mtime, shared):
            run_checked([cc, "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(binary), str(source),
                         *flags], f"build {name}")
        built[name] = binary
    return built


def ensure_extension() -> Optional[str]:
    """Build gettcommerce._core in place if this checkout has none; returns
    why gettcommerce cannot be measured, or None."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    probe = [sys.executable, "-c", "import gettcommerce._core"]
    if subprocess.run(probe, cwd=ROOT, env=env, capture_output=True).returncode == 0:
        return None
    log("[bench] gettcommerce._core is not built here; building it in place")
    build = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=ROOT)
    if build.returncode != 0 or subprocess.run(probe, cwd=ROOT, env=env).returncode != 0:
        return "gettcommerce._core does not build in this checkout"
    return None


# --- the loopback server ------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def echo_module(binary: str) -> Dict[str, str]:
    """nginx.conf.in's @LOAD_ECHO@/@READ_BODY@: read a POST body before answering
    (the echo module, part of Debian's nginx-light), or answer at once without it."""
    found = [Path(d) / "ngx_http_echo_module.so"
             for d in ("/usr/lib/nginx/modules", Path(binary).resolve().parent.parent / "lib/nginx/modules")
             if (Path(d) / "ngx_http_echo_module.so").exists()]
    if not found:
        log("[bench] nginx has no echo module: HTTPS POSTs are answered before their body is read")
        return {"@LOAD_ECHO@": "", "@READ_BODY@": "return 200 '';"}
    return {"@LOAD_ECHO@": f"load_module {found[0]};", "@READ_BODY@": 'echo_read_request_body; echo -n "";'}


class Nginx:
    """nginx in the foreground as our child, with a throw-away prefix: one
    server answering on two free 127.0.0.1 ports, plain HTTP (``url``) and
    HTTPS (``tls_url``: TLS 1.3, HTTP/2 offered via ALPN, a self-signed
    certificate in ``ca_file``).  A context manager that always stops it."""

    def __init__(self, binary: str, workers: int = 1) -> None:
        self.binary = binary
        self.workers = workers
        self.proc: Optional[subprocess.Popen] = None
        self.prefix = Path(tempfile.mkdtemp(prefix="gett-bench-nginx-"))
        self.ca_file = str(self.prefix / "cert.pem")
        self.url = self.tls_url = ""

    def _make_certificate(self) -> None:
        # EC P-256, valid for 127.0.0.1; it is its own CA (clients get it as ca_file).
        run_checked(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                     "-keyout", str(self.prefix / "key.pem"), "-out", self.ca_file,
                     "-addext", "subjectAltName=IP:127.0.0.1",
                     "-addext", "basicConstraints=critical,CA:TRUE"],
                    "self-signed certificate", capture_output=True)

    def __enter__(self) -> "Nginx":
        self._make_certificate()
        template = (BENCH / "nginx.conf.in").read_text()
        err = ""
        for _ in range(5):  # another process may grab a port between probe and bind
            ports = {"@PORT@": free_port(), "@TLS_PORT@": free_port()}
            conf = template.replace("@PREFIX@", str(self.prefix)).replace("@WORKERS@", str(self.workers))
            for key, value in echo_module(self.binary).items():
                conf = conf.replace(key, value)
            for key, port in ports.items():
                conf = conf.replace(key, str(port))
            conf_file = self.prefix / "nginx.conf"
            conf_file.write_text(conf)
            command = [self.binary, "-p", str(self.prefix), "-c", str(conf_file),
                       "-e", str(self.prefix / "error.log")]
            self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            self.url = f"http://127.0.0.1:{ports['@PORT@']}"
            self.tls_url = f"https://127.0.0.1:{ports['@TLS_PORT@']}"
            if self._wait_ready(10.0):
                log(f"[bench] nginx {self.url} and {self.tls_url} (pid {self.proc.pid}, "
                    f"{self.workers} worker)")
                return self
            err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
            self._stop()
            if "Address already in use" not in err:
                break
        raise SystemExit(f"[bench] nginx did not start: {err.strip() or 'no free port in 5 tries'}")

    def _get(self, path: str, tls: bool) -> Tuple[int, bytes]:
        host, port = (self.tls_url if tls else self.url).rsplit("/", 1)[1].split(":")
        if tls:
            context = ssl.create_default_context(cafile=self.ca_file)
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                host, int(port), timeout=2.0, context=context)
        else:
            conn = http.client.HTTPConnection(host, int(port), timeout=2.0)
        try:
            conn.request("GET", path, headers={"Authorization": "Bearer zpka_bench"})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if all(self._get(STATUS_PATH, tls)[0] == 200 for tls in (False, True)):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def accepted(self) -> int:
        """Connections nginx has accepted so far (stub_status; this probe's own included)."""
        status, body = self._get("/nginx_status", False)
        match = re.search(rb"\n\s*(\d+)\s+\d+\s+\d+", body)
        if status != 200 or match is None:
            raise RuntimeError(f"nginx status page: {status} {body[:200]!r}")
        return int(match.group(1))

    def _stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()   # SIGTERM: nginx's fast shutdown, workers included
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()

    def __exit__(self, *exc) -> None:
        self._stop()
        shutil.rmtree(self.prefix, ignore_errors=True)


# --- measurements ---------------------------------------------------------------------

@dataclass
class Spec:
    section: str          # seq-get, seq-post, batch, threads; "-tls" appended over HTTPS
    label: str
    argv: List[str]
    calls: int
    env: Dict[str, str] = field(default_factory=dict)
    rates: List[float] = field(default_factory=list)
    rss_kib: List[int] = field(default_factory=list)
    connections: List[int] = field(default_factory=list)   # batch sections: opened per run
    unavailable: Optional[str] = None
    failure: Optional[str] = None

    @property
    def median(self) -> Optional[float]:
        return statistics.median(self.rates) if self.rates and not self.failure else None


# What every measured process gets in its environment (see main()): the
# User-Agent text gettcommerce sends, so that the floors and peers send a
# request of the same length (bench/floor.h).
MEASURE_ENV: Dict[str, str] = {}


def sdk_user_agent() -> str:
    """The User-Agent gettcommerce sends (bench-floor/1 when it cannot be imported)."""
    code = "from gettcommerce._client import _user_agent; print(_user_agent())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return result.stdout.strip() if result.returncode == 0 else "bench-floor/1"


def run_measured(argv: Sequence[str], timeout: float = MEASURE_TIMEOUT,
                 env: Optional[Dict[str, str]] = None):
    """Run ``argv``; returns (exit code, stdout, stderr, peak RSS in KiB).

    os.wait4 gives this child's own ru_maxrss, which RUSAGE_CHILDREN cannot
    (that one is a maximum over every child so far).
    """
    env = dict(os.environ, PYTHONPATH=str(ROOT), **MEASURE_ENV, **(env or {}))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=ROOT, env=env)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (proc.returncode, out.read().decode(errors="replace"),
                err.read().decode(errors="replace"), usage.ru_maxrss)


def measure(spec: Spec, server: Nginx) -> None:
    if spec.unavailable or spec.failure:
        return
    counting = spec.section.startswith("batch")
    before = server.accepted() if counting else 0
    code, out, err, rss = run_measured(spec.argv, env=spec.env)
    try:
        answer = json.loads(out.strip().splitlines()[-1])
    except (IndexError, ValueError):
        answer = {}
    if "unavailable" in answer:
        spec.unavailable = answer["unavailable"]
        log(f"[bench]   {spec.section:12} {spec.label:28} unavailable: {spec.unavailable}")
        return
    if code != 0 or "seconds" not in answer or answer.get("errors"):
        tail = (err.strip().splitlines() or [f"exit {code}"])[-1]
        spec.failure = f"{answer.get('errors', '?')} errors; {tail}" if answer else tail
        log(f"[bench]   {spec.section:12} {spec.label:28} FAILED: {spec.failure}")
        return
    rate = answer["calls"] / answer["seconds"]
    spec.rates.append(rate)
    spec.rss_kib.append(rss)
    if counting:  # minus the status probe's own connection
        spec.connections.append(server.accepted() - before - 1)
    log(f"[bench]   {spec.section:12} {spec.label:28} {rate:10,.0f} calls/s  {rss / 1024:6.1f} MiB")


SEQ_PEERS = ("gettcommerce", "gettcommerce.AsyncClient", "pycurl", "urllib3", "requests", "httpx")
BATCH_PEERS = ("gettcommerce", "gettcommerce.AsyncClient", "aiohttp", "httpx.AsyncClient",
               "requests+threads")


def build_specs(args, server: Nginx, floors: Dict[str, Path], gett_missing: Optional[str]) -> List[Spec]:
    py = [sys.executable, str(BENCH / "contenders.py")]
    specs: List[Spec] = []
    # The fast contenders finish 5,000 calls in well under 0.1 s here, too
    # short to time well, so they make 4x the calls (a rate is a rate).
    fast_calls = args.seq_calls * 4
    batch_warmup = str(max(args.concurrency * 4, args.warmup))
    transports = [("", server.url, {})]
    if not args.no_https:
        transports.append(("-tls", server.tls_url, {"BENCH_CA_FILE": server.ca_file}))
    for suffix, url, env in transports:
        for op in ("get", "post"):
            section = f"seq-{op}{suffix}"
            specs.append(Spec(section, "C floor (libcurl + cJSON)",
                              [str(floors["floor_seq"]), url, op, str(fast_calls), str(args.warmup)],
                              fast_calls, env))
            for name in SEQ_PEERS:
                calls = fast_calls if name.startswith("gettcommerce") or name == "pycurl" else args.seq_calls
                specs.append(Spec(section, name, [*py, "seq", name, "--url", url, "--op", op,
                                                  "--calls", str(calls), "--warmup", str(args.warmup)],
                                  calls, env))
        specs.append(Spec(f"batch{suffix}", "C floor (curl_multi)",
                          [str(floors["floor_multi"]), url, str(args.batch_calls), str(args.concurrency),
                           batch_warmup], args.batch_calls, env))
        for name in BATCH_PEERS:
            calls = (args.batch_calls if name.startswith("gettcommerce")
                     else args.peer_batch_calls or args.batch_calls)
            specs.append(Spec(f"batch{suffix}", name,
                              [*py, "batch", name, "--url", url, "--calls", str(calls),
                               "--warmup", batch_warmup, "--concurrency", str(args.concurrency)],
                              calls, env))
    for name in ("gettcommerce", "pycurl"):
        for threads in (1, args.threads):
            specs.append(Spec("threads", f"{name} x{threads}",
                              [*py, "threads", name, "--url", server.url, "--calls", str(args.thread_calls),
                               "--warmup", str(args.warmup // 4 or 1), "--threads", str(threads)],
                              args.thread_calls))
    for spec in specs:
        if spec.label.startswith("gettcommerce") and gett_missing:
            spec.unavailable = gett_missing
    return specs


IMPORT_SNIPPET = ("import sys, time; name = sys.argv[1]; t = time.perf_counter(); "
                  "__import__(name); print(time.perf_counter() - t)")


def measure_imports(modules: Sequence[str], runs: int) -> Dict[str, List[float]]:
    """Seconds to import each module in a fresh interpreter (interpreter
    start-up excluded), interleaved so drift touches all alike."""
    times: Dict[str, List[float]] = {m: [] for m in modules}
    failed: Dict[str, str] = {}
    for _ in range(runs):
        for module in modules:
            if module in failed:
                continue
            code, out, err, _ = run_measured([sys.executable, "-c", IMPORT_SNIPPET, module], 60)
            if code != 0:
                failed[module] = (err.strip().splitlines() or ["?"])[-1]
                continue
            times[module].append(float(out.strip()))
    for module, why in failed.items():
        log(f"[bench]   import {module} failed: {why}")
        times[module] = []
    return times


# --- the report ----------------------------------------------------------------------------

def version_of(cmd: Sequence[str], pattern: str = r"(\d+\.\d+[\w.\-]*)") -> str:
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    match = re.search(pattern, result.stdout + result.stderr)
    return match.group(1) if match else "?"


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine_description(nginx: str, load_before: str) -> List[tuple]:
    cpu = "?"
    mem = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    peers = subprocess.run(
        [sys.executable, "-c",
         "import importlib.metadata as m, sys\n"
         "for n in sys.argv[1:]:\n"
         "    try: print(n, m.version(n))\n"
         "    except Exception: print(n, '?')",
         *PEER_MODULES], capture_output=True, text=True).stdout.split("\n")
    pycurl_curl = subprocess.run([sys.executable, "-c", "import pycurl; print(pycurl.version)"],
                                 capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "?"
    nproc = version_of(["nproc"], r"(\d+)")
    return [
        ("CPU", f"{cpu} (nproc {nproc})"),
        ("memory", mem),
        ("kernel", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("libcurl (C floors, gettcommerce)", version_of(["curl-config", "--version"])),
        ("cJSON", version_of(["pkg-config", "--modversion", "libcjson"])),
        ("nginx", version_of([nginx, "-v"], r"nginx/(\S+)")),
        ("peers", ", ".join(p for p in peers if p)),
        ("pycurl's libcurl", re.sub(r"^PycURL/\S+ ", "", pycurl_curl) or "?"),
        ("gettcommerce commit", commit),
        ("load average (1/5/15 min) before / after", f"{load_before} / {load_average()}"),
    ]


def fmt_rate(value: Optional[float]) -> str:
    return f"{value:,.0f}" if value else "-"


def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return a / b if a and b else None


def fmt_ratio(value: Optional[float]) -> str:
    return f"{value:.2f}x" if value else "-"


def status_cell(spec: Spec) -> Optional[str]:
    if spec.unavailable:
        return f"not measured: {spec.unavailable}"
    if spec.failure:
        return f"FAILED: {spec.failure}"
    return None


def rate_table(specs: List[Spec], floor_label: str) -> List[str]:
    floor = next((s.median for s in specs if s.label == floor_label), None)
    gett = next((s.median for s in specs if s.label == "gettcommerce"), None)
    conns = any(s.connections for s in specs)
    lines = ["| contender | calls/s (median) | min - max | µs/call | vs C floor | gettcommerce / this "
             "| peak RSS MiB |" + (" connections |" if conns else ""),
             "|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if conns else "")]
    for s in specs:
        note = status_cell(s)
        if note:
            lines.append(f"| {s.label} | {note} | | | | | |" + (" |" if conns else ""))
            continue
        cells = [s.label, f"{fmt_rate(s.median)}", f"{fmt_rate(min(s.rates))} - {fmt_rate(max(s.rates))}",
                 f"{1e6 / s.median:.1f}", fmt_ratio(ratio(s.median, floor)),
                 fmt_ratio(ratio(gett, s.median)) if s.label != "gettcommerce" else "",
                 f"{max(s.rss_kib) / 1024:.1f}"]
        if conns:
            cells.append(f"{min(s.connections)} - {max(s.connections)}" if s.connections else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def target_rows(by: Dict[tuple, Spec], imports: Dict[str, List[float]], threads: int) -> List[tuple]:
    def med(section: str, label: str) -> Optional[float]:
        spec = by.get((section, label))
        return spec.median if spec else None

    def row(name: str, value: Optional[float], goal: float, cmp: str = ">=") -> tuple:
        if value is None:
            return name, "-", "not measured"
        met = value >= goal if cmp == ">=" else value <= goal
        shown = f"{value:.2f}x"
        if round(value, 2) == goal:  # e.g. 0.7996 shows as 0.80 but misses 0.80
            shown = f"{value:.4f}x"
        return name, shown, "met" if met else "**not met**"

    rows = []
    for section, what in (("seq-get", "GET status"), ("seq-post", "POST order status")):
        gett = med(section, "gettcommerce")
        rows.append(row(f"sequential {what}: gettcommerce >= 0.80x C floor",
                        ratio(gett, med(section, "C floor (libcurl + cJSON)")), 0.80))
        for peer in ("requests", "httpx"):
            rows.append(row(f"sequential {what}: gettcommerce >= 6x {peer}",
                            ratio(gett, med(section, peer)), 6.0))
    gett = med("batch", "gettcommerce")
    rows.append(row("batch of 10,000 at 32: gettcommerce >= 0.60x C curl_multi floor",
                    ratio(gett, med("batch", "C floor (curl_multi)")), 0.60))
    rows.append(row("batch of 10,000 at 32: gettcommerce >= 5x aiohttp",
                    ratio(gett, med("batch", "aiohttp")), 5.0))
    rows.append(row(f"{threads} threads on one Client >= 1.6x one thread",
                    ratio(med("threads", f"gettcommerce x{threads}"), med("threads", "gettcommerce x1")),
                    1.6))
    # Issue 12: the AsyncClient.
    agett = med("batch", "gettcommerce.AsyncClient")
    rows.append(row("async: gather of 10,000 at 32 on one AsyncClient >= 0.80x C curl_multi floor",
                    ratio(agett, med("batch", "C floor (curl_multi)")), 0.80))
    rows.append(row("async: gather of 10,000 at 32 on one AsyncClient >= 5x aiohttp",
                    ratio(agett, med("batch", "aiohttp")), 5.0))
    rows.append(row("async: sequential awaited get_status >= 0.70x the sync Client",
                    ratio(med("seq-get", "gettcommerce.AsyncClient"), med("seq-get", "gettcommerce")),
                    0.70))
    # Issue 17: the same over HTTPS (TLS 1.3, HTTP/2 via ALPN).
    for section, what in (("seq-get-tls", "GET status"), ("seq-post-tls", "POST order status")):
        rows.append(row(f"HTTPS sequential {what}: gettcommerce >= 0.90x C floor",
                        ratio(med(section, "gettcommerce"), med(section, "C floor (libcurl + cJSON)")),
                        0.90))
    rows.append(row("HTTPS batch of 10,000 at 32: gettcommerce >= 0.85x C curl_multi floor",
                    ratio(med("batch-tls", "gettcommerce"), med("batch-tls", "C floor (curl_multi)")),
                    0.85))
    gi, ri = imports.get("gettcommerce"), imports.get("requests")
    rows.append(row("import gettcommerce <= 0.5x import requests",
                    ratio(statistics.median(gi), statistics.median(ri)) if gi and ri else None,
                    0.5, "<="))
    return rows


def https_sections(args, specs: List[Spec], by: Dict[tuple, Spec]) -> List[str]:
    """Sections 1c-1d and 2b: the same measurements over HTTPS, and the ratios side by side."""
    out = ["", "## HTTPS: the same calls over TLS 1.3, HTTP/2 via ALPN", "",
           "The same nginx answers on a second port with a self-signed certificate (EC P-256, "
           "TLS 1.3 only, `http2` on the listener): every contender is given the certificate as its "
           "CA file (the C floors via `BENCH_CA_FILE`, gettcommerce via `ca_bundle=`, pycurl `CAINFO`, "
           "requests/urllib3/httpx/aiohttp their `verify`/`ssl` argument). libcurl (floors, "
           "gettcommerce, pycurl) negotiates HTTP/2 via ALPN; the pure-Python peers speak HTTP/1.1 "
           "(none enables HTTP/2 by default). Connections are warmed up before timing, so the "
           "sequential figures are the steady state of one TLS connection.", "",
           "| measurement | gettcommerce / C floor over HTTP | over HTTPS |", "|---|---:|---:|"]
    for section, floor_label, what in (("seq-get", "C floor (libcurl + cJSON)", "sequential GET status"),
                                       ("seq-post", "C floor (libcurl + cJSON)", "sequential POST order status"),
                                       ("batch", "C floor (curl_multi)", f"batch of {args.batch_calls:,} at "
                                                                         f"{args.concurrency}")):
        cells = []
        for suffix in ("", "-tls"):
            gett, floor = by.get((section + suffix, "gettcommerce")), by.get((section + suffix, floor_label))
            cells.append(fmt_ratio(ratio(gett.median if gett else None, floor.median if floor else None)))
        out.append(f"| {what} | {cells[0]} | {cells[1]} |")
    for section, title in (("seq-get-tls", "1c. HTTPS sequential GET store status"),
                           ("seq-post-tls", "1d. HTTPS sequential POST order status")):
        out += ["", f"## {title}", ""]
        out += rate_table([s for s in specs if s.section == section], "C floor (libcurl + cJSON)")
    out += ["", f"## 2b. HTTPS batch: {args.batch_calls:,} order-status POSTs, {args.concurrency} in flight",
            "", "connections: how many TCP+TLS connections nginx accepted during one run (warm-up batch "
            "and timed batch; min - max over the runs), from its `stub_status` counter. Over HTTP/2 "
            "libcurl multiplexes the transfers on few connections; HTTP/1.1 clients need one per "
            "call in flight.", ""]
    out += rate_table([s for s in specs if s.section == "batch-tls"], "C floor (curl_multi)")
    return out


def render(args, specs: List[Spec], imports: Dict[str, List[float]], machine: List[tuple],
           elapsed: float) -> str:
    by = {(s.section, s.label): s for s in specs}
    out = ["# gettcommerce benchmark results", "",
           f"Written by `make bench` (`bench/run.py`) on "
           f"{dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} in {elapsed:.0f} s. "
           f"Medians over {args.runs} runs (rounds, each measuring every contender once in its own "
           f"process); ratios are between medians of this one run. Server: nginx with canned "
           f"answers on 127.0.0.1, {args.nginx_workers} worker, keep-alive.", "",
           "## Machine", "", "| | |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in machine]
    out += ["", "## Targets (issues 7, 12, 17)", "", "| target | measured | status |", "|---|---:|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in target_rows(by, imports, args.threads)]
    seq_note = (f"{args.seq_calls:,} calls per run ({args.seq_calls * 4:,} for the C floor, "
                f"pycurl and gettcommerce), after {args.warmup} warm-up calls on the same "
                "connection. GET includes parsing the JSON answer (cJSON in C, json.loads for "
                "peers, StoreStatus for gettcommerce); POST includes serialising the body.")
    for section, title, what in (("seq-get", "1a. Sequential GET store status", "get_status(store_id)"),
                                 ("seq-post", "1b. Sequential POST order status",
                                  'update_status(order_id, status="confirmed")')):
        out += ["", f"## {title}", "", f"`client.stores.{what}`" if "get" in section
                else f"`client.orders.{what}`", "", seq_note, ""]
        out += rate_table([s for s in specs if s.section == section], "C floor (libcurl + cJSON)")
    peer_note = (f" The Python peers made {args.peer_batch_calls:,} calls per run (a rate is a rate)."
                 if args.peer_batch_calls and args.peer_batch_calls != args.batch_calls else "")
    out += ["", f"## 2. Batch: {args.batch_calls:,} order-status POSTs, {args.concurrency} in flight", "",
            "`with client.batch(concurrency=32) as b: b.orders.update_status(oid, status=\"ready\")` "
            "vs curl_multi in C, aiohttp and httpx.AsyncClient (32 worker tasks, connection limit "
            "32), requests in a 32-thread pool (a Session per thread). The time includes queueing "
            "the calls and collecting the results." + peer_note, ""]
    out += rate_table([s for s in specs if s.section == "batch"], "C floor (curl_multi)")
    if any(s.section.endswith("-tls") for s in specs):
        out += https_sections(args, specs, by)
    out += ["", f"## 3. Threads sharing one Client ({args.thread_calls:,} GET status calls per run)", "",
            "gettcommerce: N threads share one `Client` (it releases the GIL during transfers). "
            "pycurl (one handle per thread) shows what these cores allow a GIL-releasing client "
            "while nginx runs on the same cores.", "",
            "| client | calls/s (median) | min - max | vs 1 thread | peak RSS MiB |",
            "|---|---:|---:|---:|---:|"]
    for s in (s for s in specs if s.section == "threads"):
        note = status_cell(s)
        if note:
            out.append(f"| {s.label} | {note} | | | |")
            continue
        one = by.get(("threads", s.label.rsplit(" x", 1)[0] + " x1"))
        out.append(f"| {s.label} | {fmt_rate(s.median)} | {fmt_rate(min(s.rates))} - "
                   f"{fmt_rate(max(s.rates))} | {fmt_ratio(ratio(s.median, one.median if one else None))} "
                   f"| {max(s.rss_kib) / 1024:.1f} |")
    out += ["", f"## 4. Import time (fresh interpreter each time, median of {args.import_runs})", "",
            "| module | median ms | min ms | vs requests |", "|---|---:|---:|---:|"]
    req = statistics.median(imports["requests"]) if imports.get("requests") else None
    for module, times in imports.items():
        if not times:
            out.append(f"| {module} | failed | | |")
            continue
        median = statistics.median(times)
        out.append(f"| {module} | {median * 1e3:.1f} | {min(times) * 1e3:.1f} | "
                   f"{fmt_ratio(ratio(median, req))} |")
    out += ["", "## 5. Peak RSS", "",
            "The peak RSS column of each table is the largest `ru_maxrss` of the measuring process "
            "over its runs (`os.wait4`), interpreter and imports included.", "",
            "## Raw rates (calls/s per run)", ""]
    for s in specs:
        if s.rates:
            out.append(f"- {s.section} {s.label}: " + ", ".join(f"{r:,.0f}" for r in s.rates))
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="gettcommerce benchmark suite (issue 7)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seq-calls", type=int, default=5000)
    parser.add_argument("--batch-calls", type=int, default=10000)
    parser.add_argument("--peer-batch-calls", type=int, default=0,
                        help="calls per batch run for the Python peers (default: --batch-calls); "
                             "httpx.AsyncClient makes ~100-900 calls/s, a rate is a rate")
    parser.add_argument("--thread-calls", type=int, default=16000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--import-runs", type=int, default=15)
    parser.add_argument("--nginx-workers", type=int, default=1,
                        help="1 leaves the most CPU to the clients on a 2-core machine")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 runs, fewer calls, writes RESULTS-quick.md")
    parser.add_argument("--no-install", action="store_true",
                        help="fail instead of installing peer packages or nginx")
    parser.add_argument("--no-https", action="store_true",
                        help="skip the HTTPS sections (TLS 1.3 + HTTP/2 on the same nginx)")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.seq_calls, args.batch_calls = 2, 1000, 2000
        args.thread_calls, args.import_runs = 4000, 5
    for name in ("runs", "seq_calls", "batch_calls", "thread_calls", "concurrency", "threads",
                 "import_runs", "nginx_workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    output = args.output or BENCH / ("RESULTS-quick.md" if args.quick else "RESULTS.md")

    # SIGTERM (e.g. a CI time-out) must still stop nginx: turn it into SystemExit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    load_before = load_average()
    ensure_peers(not args.no_install)
    nginx_bin = ensure_nginx(not args.no_install)
    floors = build_floors()
    gett_missing = ensure_extension()
    MEASURE_ENV["BENCH_USER_AGENT"] = sdk_user_agent()
    with Nginx(nginx_bin, workers=args.nginx_workers) as server:
        specs = build_specs(args, server, floors, gett_missing)
        for round_no in range(args.runs):
            log(f"[bench] round {round_no + 1}/{args.runs}")
            shift = round_no % len(specs)
            for spec in specs[shift:] + specs[:shift]:
                measure(spec, server)
        log("[bench] import times")
        imports = measure_imports(["gettcommerce", "requests", "httpx", "urllib3", "aiohttp",
                                   "pycurl"], args.import_runs)
    report = render(args, specs, imports, machine_description(nginx_bin, load_before), time.monotonic() - started)
    output.write_text(report)
    print(report)
    log(f"[bench] wrote {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    return 1 if any(s.failure for s in specs) else 0


if __name__ == "__main__":
    sys.exit(main())
