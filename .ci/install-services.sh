#!/usr/bin/env bash
# Programs the webhook deployment tests start themselves (tests/webhook_services.py):
# redis-server, and PostgreSQL's initdb/pg_ctl (run as the postgres user when root);
# nginx for the TLS/HTTP/2 connection tests (tests/tls_nginx.py); Chromium for
# the notebook screenshot (tests/test_notebook.py, tools/notebook_screenshot.py).
# Idempotent: apt-get installs only what is missing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    missing+=(postgresql)
fi
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    missing+=(nginx-light)
fi
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    missing+=(chromium)
fi
if [ "$(id -u)" = 0 ] && ! command -v runuser >/dev/null 2>&1; then
    missing+=(util-linux)
fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-services: redis-server, PostgreSQL, nginx and Chromium are installed"
    exit 0
fi
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
echo "install-services: installing ${missing[*]}"
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
