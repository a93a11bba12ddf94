"""Where a sequential gettcommerce call spends its instructions (issue 7).

    python3 bench/profile.py            # writes bench/PROFILE.md (about a minute)

Runs the sequential contender under ``valgrind --tool=callgrind`` twice, with
LONG and SHORT call counts and the same warm-up, and subtracts: start-up,
imports and warm-up cancel out, leaving the cost of (LONG - SHORT) calls.
The same is done for the C floor (bench/floor_seq.c), so the report shows
how many user-space instructions per call gettcommerce spends over plain
libcurl + cJSON, split by where they run: the Python interpreter, our C core
(gettcommerce._core), libcurl, cJSON, libc.  Callgrind counts user-space
instructions only: the kernel's loopback TCP work, which dominates the C
floor's wall time, is not in these figures.
"""
from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402  (bench/run.py: nginx, floors, extension build)

HISTORY = "## History and what is left"
LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?)\s+\[(.+)\]\s*$")


def category(obj: str) -> str:
    name = Path(obj).name
    if name.startswith("_core"):
        return "gettcommerce C core (_core)"
    if name.startswith("libpython") or name.startswith("python3"):
        return "Python interpreter"
    if name.startswith("libcurl"):
        return "libcurl"
    if name.startswith("libcjson"):
        return "cJSON"
    if name.startswith("libc.so") or name.startswith("libm.so"):
        return "libc (malloc, memcpy, syscall stubs)"
    if name.startswith(("libssl", "libcrypto", "libz", "libnghttp", "libidn", "libpsl", "libbrotli",
                        "libzstd", "libssh", "libgss", "libkrb", "libk5", "libldap", "librtmp")):
        return "libcurl's dependencies"
    if name.startswith("ld-linux"):
        return "dynamic linker"
    if name.startswith("floor_seq"):
        return "C floor program"
    if name.endswith(".so") or ".so." in name:
        return f"other: {name.split('.')[0]}"
    return "other"


def callgrind(argv: List[str], out: Path) -> Dict[Tuple[str, str], int]:
    """Instructions per (function, object) for one run of ``argv`` (a fixed hash
    seed: dict probing, and so the Python figures, would vary from run to run)."""
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv]
    result = subprocess.run(cmd, cwd=bench.ROOT, capture_output=True, text=True,
                            env=dict(bench.os.environ, PYTHONPATH=str(bench.ROOT), PYTHONHASHSEED="0",
                                     **bench.MEASURE_ENV),
                            timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"[profile] {' '.join(argv)} failed under valgrind:\n{result.stderr[-2000:]}")
    annotated = subprocess.run(["callgrind_annotate", "--threshold=100", "--inclusive=no", str(out)],
                               capture_output=True, text=True, check=True).stdout
    costs: Dict[Tuple[str, str], int] = collections.Counter()
    for line in annotated.splitlines():
        match = LINE.match(line)
        if not match or "PROGRAM TOTALS" in line:
            continue
        where = match.group(2)
        function = where.split(":", 1)[1] if ":" in where else where
        function = re.sub(r"'\d+$", "", function)  # merge recursion levels
        costs[(function, match.group(3))] += int(match.group(1).replace(",", ""))
    return costs


def per_call(argv_for, long_calls: int, short_calls: int, work: Path, tag: str):
    long_costs = callgrind(argv_for(long_calls), work / f"{tag}.long.out")
    short_costs = callgrind(argv_for(short_calls), work / f"{tag}.short.out")
    calls = long_calls - short_calls
    diff = {key: (long_costs.get(key, 0) - short_costs.get(key, 0)) / calls
            for key in set(long_costs) | set(short_costs)}
    return {key: value for key, value in diff.items() if value > 0.5}


def summarise(costs: Dict[Tuple[str, str], float]) -> Tuple[float, Dict[str, float]]:
    by_category: Dict[str, float] = collections.Counter()
    for (_, obj), value in costs.items():
        by_category[category(obj)] += value
    return sum(by_category.values()), by_category


def report(op: str, gett: dict, floor: dict, top: int) -> List[str]:
    gett_total, gett_cat = summarise(gett)
    floor_total, floor_cat = summarise(floor)
    call = ("client.stores.get_status(store_id)" if op == "get"
            else 'client.orders.update_status(order_id, status="confirmed")')
    lines = [f"## {op.upper()}: `{call}`",
             "",
             f"User-space instructions per call: **gettcommerce {gett_total:,.0f}**, C floor "
             f"{floor_total:,.0f} ({gett_total / floor_total:.2f}x).", "",
             "| where | gettcommerce Ir/call | share | C floor Ir/call |", "|---|---:|---:|---:|"]
    for name in sorted(set(gett_cat) | set(floor_cat), key=lambda n: -gett_cat.get(n, 0)):
        lines.append(f"| {name} | {gett_cat.get(name, 0):,.0f} | "
                     f"{100 * gett_cat.get(name, 0) / gett_total:.1f}% | {floor_cat.get(name, 0):,.0f} |")
    lines += ["", f"Top {top} functions of the gettcommerce call (self cost):", "",
              "| Ir/call | share | function | where |", "|---:|---:|---|---|"]
    for (function, obj), value in sorted(gett.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"| {value:,.0f} | {100 * value / gett_total:.1f}% | `{function}` | {category(obj)} |")
    return lines + [""]


PY_PROFILE = """
import cProfile, pstats, sys
sys.path.insert(0, {bench!r})
import contenders
prof = cProfile.Profile()
calls = {calls}
prof.runcall(contenders.SEQUENTIAL["gettcommerce"], {url!r}, {op!r}, calls, 50)
stats = pstats.Stats(prof)
rows = []
for (file, line, func), (cc, nc, tt, ct, callers) in stats.stats.items():
    rows.append((tt, nc, ct, file, line, func))
rows.sort(reverse=True)
for tt, nc, ct, file, line, func in rows[:{top}]:
    print(f"{{tt / calls * 1e6:.2f}}\t{{nc / calls:.2f}}\t{{ct / calls * 1e6:.2f}}\t{{file}}:{{line}}\t{{func}}")
"""


def python_layer(python: str, url: str, op: str, calls: int, top: int) -> List[str]:
    """cProfile's view of the Python functions a call runs (cProfile adds its
    own overhead per function, so read the ranking, not the absolute figures)."""
    code = PY_PROFILE.format(bench=str(bench.BENCH), calls=calls, url=url, op=op, top=top)
    result = subprocess.run([python, "-c", code], cwd=bench.ROOT, capture_output=True, text=True,
                            env=dict(bench.os.environ, PYTHONPATH=str(bench.ROOT)), timeout=300)
    if result.returncode != 0:
        return [f"(cProfile run failed: {result.stderr.strip()[-300:]})", ""]
    lines = [f"Python functions of the same call by own time (cProfile, {calls:,} calls; "
             "profiler overhead inflates small functions):", "",
             "| own µs/call | calls/call | cumulative µs/call | function |", "|---:|---:|---:|---|"]
    for row in result.stdout.strip().splitlines():
        own, count, cumulative, where, func = row.split("\t")
        where = where.replace(str(bench.ROOT) + "/", "")
        lines.append(f"| {own} | {count} | {cumulative} | `{func}` ({where}) |")
    return lines + [""]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="callgrind profile of a sequential call")
    parser.add_argument("--long", type=int, default=2000, help="calls in the long run")
    parser.add_argument("--short", type=int, default=200, help="calls in the short run")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--ops", default="get,post")
    parser.add_argument("--output", type=Path, default=bench.BENCH / "PROFILE.md")
    parser.add_argument("--libcurl", type=Path,
                        help="a directory holding another libcurl.so.4 (e.g. one built with -g, so "
                             "its functions show by name) for both the floor and gettcommerce")
    args = parser.parse_args(argv)
    if args.libcurl:
        bench.MEASURE_ENV["LD_LIBRARY_PATH"] = str(args.libcurl.resolve())
    if not 0 < args.short < args.long:
        parser.error("need 0 < --short < --long")
    if shutil.which("valgrind") is None:
        bench.apt_install(["valgrind"])
    nginx = bench.ensure_nginx(True)
    floors = bench.build_floors()
    missing = bench.ensure_extension()
    if missing:
        raise SystemExit(f"[profile] {missing}")
    # The real interpreter, not a pyenv shim script: valgrind must see python itself.
    python = subprocess.run([sys.executable, "-c", "import sys; print(sys.executable)"],
                            capture_output=True, text=True, check=True).stdout.strip()
    # The floor sends gettcommerce's own User-Agent (bench/floor.h).
    bench.MEASURE_ENV["BENCH_USER_AGENT"] = bench.sdk_user_agent()
    sections: List[str] = []
    with bench.Nginx(nginx) as server, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for op in args.ops.split(","):
            bench.log(f"[profile] {op}: gettcommerce and C floor under callgrind")
            gett = per_call(lambda n: [python, str(bench.BENCH / "contenders.py"), "seq", "gettcommerce",
                                       "--url", server.url, "--op", op, "--calls", str(n),
                                       "--warmup", str(args.warmup)],
                            args.long, args.short, work, f"gett-{op}")
            floor = per_call(lambda n: [str(floors["floor_seq"]), server.url, op, str(n),
                                        str(args.warmup)], args.long, args.short, work, f"floor-{op}")
            sections += report(op, gett, floor, args.top)
            sections += python_layer(python, server.url, op, 20000, 15)
    commit = subprocess.run(["git", "-C", str(bench.ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    text = "\n".join([
        "# Profile of the sequential call path", "",
        f"`python3 bench/profile.py` at commit {commit}: callgrind runs of {args.long:,} and "
        f"{args.short:,} calls (same {args.warmup} warm-up calls) against the bench nginx, "
        "subtracted, divided by the difference: per-call user-space instructions (Ir) with "
        "start-up and imports cancelled out. Kernel time (loopback TCP, epoll) is not counted; "
        "libcurl has no debug symbols here, so some of its functions show as addresses "
        "(`--libcurl DIR` runs both with another libcurl). The C floor sends the same request "
        "headers as gettcommerce, its User-Agent text included (bench/floor.h).", "",
        *sections])
    # The hand-written history at the end of the report survives a rewrite.
    kept = args.output.read_text() if args.output.exists() else ""
    if HISTORY in kept:
        text += "\n" + kept[kept.index(HISTORY):]
    args.output.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
