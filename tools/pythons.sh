#!/usr/bin/env bash
# Print the path of every supported CPython (3.11 and later) on this machine,
# one a line, oldest first: pyenv's builds, else python3.X on PATH.  Each is
# checked to run (a pyenv shim for a version not selected does not).
set -uo pipefail
for minor in 11 12 13 14; do
    found=""
    if command -v pyenv >/dev/null 2>&1; then
        for dir in $(ls -d "$(pyenv root)/versions/3.$minor."* 2>/dev/null | sort -V); do
            [ -x "$dir/bin/python3.$minor" ] && found="$dir/bin/python3.$minor"
        done
    fi
    if [ -z "$found" ]; then
        found=$(command -v "python3.$minor" 2>/dev/null || true)
    fi
    if [ -n "$found" ] && "$found" -c 'import sys, venv' >/dev/null 2>&1; then
        echo "$found"
    fi
done
