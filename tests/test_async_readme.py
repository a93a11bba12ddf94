"""README.md's "asyncio" section runs as written, in a process of its own (it owns an event loop)."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_fastapi_example_runs(tmp_path):
    pytest.importorskip("fastapi", reason="the asyncio README example needs fastapi and httpx")
    pytest.importorskip("httpx")
    path = os.path.join(ROOT, "README.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    section = re.search(r"^## asyncio\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert section, f"no '## asyncio' section in {path}"
    blocks = re.findall(r"```python\n(.*?)```", section.group(1), re.S)
    assert len(blocks) == 1
    script = tmp_path / "example.py"
    script.write_text(blocks[0])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    env.pop("GETT_API_KEY", None)
    env.pop("GETT_BASE_URL", None)
    out = subprocess.run([sys.executable, "-W", "error::ResourceWarning", str(script)],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0] == "{'store': 'Pizza Place', 'status': 'paused', 'reason': 'too_busy'}"
    assert lines[1] == "{'Pizza Place': 'paused', 'Noodle Bar': 'online'}"
