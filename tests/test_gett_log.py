"""GETT_LOG=debug|info: the gettcommerce logger writes to stderr with no logging set-up."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import API_KEY, Reply

CALL = f"""
import logging, gettcommerce as gett
with gett.Client(api_key={API_KEY!r}, base_url=__import__("os").environ["URL"]) as client:
    client.stores.get_status("s1")
logger = logging.getLogger("gettcommerce")
print(logging.getLevelName(logger.level), len(logger.handlers))
"""


def _run(tmp_path, code: str, value: str, url: str = "http://127.0.0.1:9"):
    env = {k: v for k, v in os.environ.items() if k not in ("GETT_LOG", "PYTHONPATH")}
    env.update(GETT_LOG=value, URL=url)
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("value", ["debug", "DEBUG"])
def test_debug_logs_every_attempt_to_stderr(tmp_path, server, value):
    server.add(Reply(200, {"status": "online"}))
    out = _run(tmp_path, CALL, value, server.url)
    assert out.returncode == 0, out.stderr
    assert "GET /v1/commerce/stores/s1/status -> 200" in out.stderr
    assert "gettcommerce DEBUG" in out.stderr and API_KEY not in out.stderr
    assert out.stdout.split() == ["DEBUG", "1"]


def test_info_sets_the_level_without_attempt_lines(tmp_path, server):
    server.add(Reply(200, {"status": "online"}))
    out = _run(tmp_path, CALL, "info", server.url)
    assert out.returncode == 0, out.stderr
    assert "->" not in out.stderr
    assert out.stdout.split() == ["INFO", "1"]


def test_a_logger_with_handlers_keeps_them(tmp_path):
    code = ("import logging; logging.getLogger('gettcommerce').addHandler(logging.NullHandler()); "
            "import gettcommerce; l = logging.getLogger('gettcommerce'); "
            "print(logging.getLevelName(l.level), len(l.handlers))")
    out = _run(tmp_path, code, "debug")
    assert out.stdout.split() == ["DEBUG", "1"]


def test_an_invalid_value_warns_naming_it(tmp_path):
    out = _run(tmp_path, "import logging, gettcommerce; print(len(logging.getLogger('gettcommerce').handlers))",
               "verbose")
    assert out.returncode == 0
    assert "GETT_LOG='verbose'" in out.stderr and "RuntimeWarning" in out.stderr
    assert out.stdout.split() == ["0"]
