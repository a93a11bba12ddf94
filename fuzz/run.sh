#!/usr/bin/env bash
# Build the libFuzzer harnesses over the Python-free C core and run each for
# an equal share of SECONDS (default 60).  Exits non-zero when any harness
# finds a crash, leak, UBSan report or slow input; the input is saved as
# fuzz/crashers/<harness>-<kind>-<sha1> and must become a regression test
# (tests/test_fuzz_regressions.py picks up every file there).
#
#   bash fuzz/run.sh 60                 # what `make fuzz` and .ci/run do
#   FUZZ_SEED=0 bash fuzz/run.sh 600    # explore: 0 = a new random seed each run
#
# The default seed is fixed (FUZZ_SEED=1), so CI's run from the committed
# seeds is reproducible: a CI failure replays exactly, and does not depend
# on luck.  Explore with other seeds and longer runs by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

total=${1:-60}
if ! [[ "$total" =~ ^[0-9]+$ ]] || [ "$total" -lt 2 ]; then
    echo "usage: fuzz/run.sh SECONDS   (an integer >= 2)" >&2
    exit 2
fi

# A fresh CI machine may lack clang (libFuzzer ships with it) or the headers.
if ! command -v clang >/dev/null 2>&1 || ! pkg-config --exists libcjson 2>/dev/null; then
    echo "fuzz: installing clang libcjson-dev pkg-config"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libcjson-dev pkg-config >/dev/null
fi

# The harnesses are plain C: never run them under the Python suite's preload.
unset LD_PRELOAD PYTHONMALLOC

CFLAGS=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
        -fno-omit-frame-pointer -D_GNU_SOURCE -Wall -Wextra -Werror)
read -r -a CJSON <<<"$(pkg-config --cflags --libs libcjson)"
mkdir -p fuzz/bin fuzz/crashers

build() {
    local name=$1; shift
    clang "${CFLAGS[@]}" "$@" "${CJSON[@]}" -lm -o "fuzz/bin/${name}_fuzz"
}
build catalog fuzz/catalog_fuzz.c csrc/catalog.c csrc/buf.c
build response fuzz/response_fuzz.c csrc/buf.c csrc/retry.c csrc/endpoints.c csrc/headers.c

share=$(( total / 2 ))
status=0
run() {
    local name=$1 max_len=$2 dict=$3
    local work="fuzz/corpus-work/$name"
    mkdir -p "$work"
    echo "fuzz: $name for ${share}s"
    # First directory: where new inputs go (ignored by git); second: seeds.
    # -timeout: one input taking over 10 s is a hang and counts as a failure.
    if ! "./fuzz/bin/${name}_fuzz" -max_total_time="$share" -timeout=10 -rss_limit_mb=2048 \
            -seed="${FUZZ_SEED:-1}" \
            -max_len="$max_len" -dict="$dict" -print_final_stats=1 \
            -artifact_prefix="fuzz/crashers/${name}-" "$work" "fuzz/corpus/$name" \
            >"fuzz/bin/${name}.log" 2>&1; then
        echo "fuzz: $name FAILED; see fuzz/bin/${name}.log and fuzz/crashers/" >&2
        tail -n 40 "fuzz/bin/${name}.log" >&2
        status=1
    else
        grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "fuzz/bin/${name}.log" \
            | sed "s/^/fuzz: $name /"
    fi
}
run catalog 20000 fuzz/catalog.dict
run response 70000 fuzz/response.dict
exit $status
