"""The README's quickstart runs as written (against the embedded sandbox)."""
from __future__ import annotations

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_readme_quickstart_runs(tmp_path):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    quickstart = re.findall(r"```python\n(.*?)```", readme, re.S)[0]
    script = tmp_path / "quickstart.py"
    script.write_text(quickstart)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "status='paused'" in out.stdout and "reason='too_busy'" in out.stdout
    assert "Pizza Place paused" in out.stdout
