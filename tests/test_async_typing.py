"""mypy --strict infers the async types a user relies on (tests/typing/use_async_client.py)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(__file__)
ROOT = os.path.dirname(HERE)

pytest.importorskip("mypy", reason="mypy is in the test extra")


def test_mypy_strict_infers_async_models_and_statuses():
    out = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                          "--follow-imports=silent", os.path.join(HERE, "typing", "use_async_client.py")],
                         capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT),
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_async_module_itself_passes_mypy_strict():
    out = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                          "--follow-imports=silent", "-m", "gettcommerce._async"],
                         capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT),
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
