"""The shipped stubs (_core.pyi) match the C module, and type-check user code."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(__file__)
ROOT = os.path.dirname(HERE)

mypy = pytest.importorskip("mypy", reason="mypy is in the test extra")


def run_mypy(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=300)


def test_core_stubs_match_the_extension_module():
    out = run_mypy("mypy.stubtest", "gettcommerce._core", "--ignore-missing-stub")
    assert out.returncode == 0, out.stdout + out.stderr


def test_user_code_type_checks_against_the_package():
    out = run_mypy("mypy", "--no-incremental", "--ignore-missing-imports", "--follow-imports=silent",
                   os.path.join(HERE, "typing", "use_client.py"))
    assert out.returncode == 0, out.stdout + out.stderr
