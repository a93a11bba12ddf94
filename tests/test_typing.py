"""Types, as a user's type checker sees the installed package.

mypy --strict and pyright (strict, from the basedpyright wheel: no npm) check
tests/typing/use_client.py, which exercises the client, models, errors,
batch, webhooks, CatalogSet and the sandbox with assert_type; misuse.py must
be reported line by line; the lazy names of gettcommerce/__init__.py stay
real names for the checkers.  Checkers run from a temporary directory, so
they see the installed package (a wheel, or the editable install), never the
checkout by accident.
"""
from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import gettcommerce

HERE = Path(__file__).resolve().parent
TYPING = HERE / "typing"
PACKAGE = Path(gettcommerce.__file__).resolve().parent

mypy = pytest.importorskip("mypy", reason="mypy is in the test extra")


def run_mypy(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=cwd,
                          env=env or dict(os.environ), timeout=600)


def mypy_strict(tmp_path: Path, *files: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_mypy(tmp_path, "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / ".mypy"),
                    "--python-executable", sys.executable, *map(str, files), env=env)


def pyright_bin() -> Path:
    found = Path(sys.executable).parent / "basedpyright"
    if not found.exists():
        found = Path(shutil.which("basedpyright") or "basedpyright")
    if not found.exists():
        pytest.fail("basedpyright (the test extra) is not installed next to this Python")
    return found


def pyright(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    config = tmp_path / "pyrightconfig.json"
    config.write_text(json.dumps({"typeCheckingMode": "strict", "pythonVersion": "3.11",
                                  "reportMissingModuleSource": False}))
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    env.pop("PYTHONPATH", None)
    return subprocess.run([str(pyright_bin()), "--pythonpath", sys.executable, "-p", str(config), *args],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)


def misuse_lines() -> set[int]:
    lines = (TYPING / "misuse.py").read_text().splitlines()
    return {n for n, line in enumerate(lines, 1) if line.startswith("    ") and "#" in line}


def test_core_stubs_match_the_extension_module(tmp_path):
    out = run_mypy(tmp_path, "mypy.stubtest", "gettcommerce._core", "--ignore-missing-stub")
    assert out.returncode == 0, out.stdout + out.stderr


def test_user_code_passes_mypy_strict(tmp_path):
    out = mypy_strict(tmp_path, TYPING / "use_client.py")
    assert out.returncode == 0, out.stdout + out.stderr


def test_user_code_passes_pyright_strict(tmp_path):
    out = pyright(tmp_path, str(TYPING / "use_client.py"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 errors" in out.stdout, out.stdout


def test_misuse_is_reported_by_mypy(tmp_path):
    out = mypy_strict(tmp_path, TYPING / "misuse.py")
    reported = {int(m) for m in re.findall(r"misuse\.py:(\d+): error", out.stdout)}
    assert misuse_lines() <= reported, out.stdout


def test_misuse_is_reported_by_pyright(tmp_path):
    out = pyright(tmp_path, "--outputjson", str(TYPING / "misuse.py"))
    diagnostics = json.loads(out.stdout)["generalDiagnostics"]
    reported = {d["range"]["start"]["line"] + 1 for d in diagnostics if d["severity"] == "error"}
    assert misuse_lines() <= reported, out.stdout


def test_the_checks_fail_when_gettcommerce_names_are_any_again(tmp_path):
    # A copy of the installed package whose __init__ has no TYPE_CHECKING
    # imports (so gett.Client & co. are Any through __getattr__): the same
    # user file must then fail mypy --strict.
    copy = tmp_path / "site" / "gettcommerce"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    init = copy / "__init__.py"
    tree = ast.parse(init.read_text())
    blocks = [node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"]
    assert len(blocks) == 1
    lines = init.read_text().splitlines()
    del lines[blocks[0].lineno - 1:blocks[0].end_lineno]
    init.write_text("\n".join(lines) + "\n")
    out = run_mypy(tmp_path, "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / ".mypy"),
                   "--no-site-packages", str(TYPING / "use_client.py"),
                   env=dict(os.environ, MYPYPATH=str(copy.parent)))
    assert out.returncode != 0 and 'Expression is of type "Any"' in out.stdout, out.stdout


def test_type_checking_imports_match_the_lazy_names():
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    [block] = [node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"]
    typed = {alias.asname or alias.name for node in block.body if isinstance(node, ast.ImportFrom)
             for alias in node.names}
    assert typed == set(gettcommerce._LAZY) | gettcommerce._SUBMODULES
    errors = {name for name in gettcommerce.__all__ if name.endswith("Error")}
    assert set(gettcommerce.__all__) == set(gettcommerce._LAZY) | errors | {"__version__"}
    for name in gettcommerce.__all__:
        assert getattr(gettcommerce, name) is not None


def test_import_stays_lazy():
    out = subprocess.run([sys.executable, "-c", "import sys, gettcommerce; "
                          "print(sorted(m for m in sys.modules if m.startswith('gettcommerce.')))"],
                         capture_output=True, text=True, cwd=HERE, timeout=60)
    loaded = set(json.loads(out.stdout.replace("'", '"')))
    assert not loaded & {"gettcommerce._client", "gettcommerce.sandbox", "gettcommerce.webhooks",
                         "gettcommerce.catalog", "gettcommerce.cli"}, loaded


@pytest.mark.xfail(strict=True, reason="waits on annotations outside the packaging files: "
                   "Sandbox.client() -> Client (sandbox/core.py), Amounts.total: Decimal (models.py), "
                   "webhooks.sign() -> Dict[str, str] and verify(headers: ...) (webhooks.py); "
                   "remove this mark once they land")
def test_pending_contract(tmp_path):
    out = mypy_strict(tmp_path, TYPING / "use_client_pending.py")
    assert out.returncode == 0, out.stdout + out.stderr
    out = pyright(tmp_path, str(TYPING / "use_client_pending.py"))
    assert out.returncode == 0, out.stdout + out.stderr


def verifytypes(tmp_path: Path) -> tuple[float, str]:
    out = pyright(tmp_path, "--verifytypes", "gettcommerce", "--ignoreexternal")
    found = re.search(r"Type completeness score: ([\d.]+)%", out.stdout)
    assert found and "No py.typed file found" not in out.stdout, out.stdout
    return float(found.group(1)), out.stdout


@pytest.mark.xfail(strict=True, reason="the lead fixes the remaining gaps after merging (see the dist "
                   "report); remove this mark at 100%")
def test_verifytypes_scores_100(tmp_path):
    score, report = verifytypes(tmp_path)
    assert score == 100.0, report
