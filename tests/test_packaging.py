"""Packaging hygiene: the sdist builds with no C headers and holds what it
takes to build and test; metadata is honest; twine accepts both
distributions; the README links nothing outside the repository."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import gettcommerce
from conftest import CHECKOUT, INSTALLED_WHEEL

ROOT = Path(CHECKOUT)
pytest.importorskip("build", reason="build is in the test extra")


def tool_env(tmp_path: Path) -> dict:
    """No pkg-config and no C compiler on PATH: only this Python's own tools."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{Path(sys.executable).parent}")
    for key in ("GETT_CURL_CFLAGS", "GETT_CURL_LIBS", "GETT_CJSON_CFLAGS", "GETT_CJSON_LIBS", "PKG_CONFIG_PATH"):
        env.pop(key, None)
    return env


@pytest.fixture(scope="module")
def sdist(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("sdist")
    src = tmp / "src"
    # A copy, so building never writes into the checkout (egg-info, build/).
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", "build", "dist", "wheelhouse", "*.egg-info",
                                                             "__pycache__", "*.so", ".mypy_cache", "fuzz/bin"))
    out = subprocess.run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(tmp / "dist"),
                          str(src)], capture_output=True, text=True, timeout=600, env=tool_env(tmp), cwd=tmp)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    [found] = (tmp / "dist").glob("gettcommerce-*.tar.gz")
    return found


def test_the_sdist_builds_without_pkg_config_or_headers(sdist, tmp_path):
    # The environment the sdist was built in cannot compile the C core.
    probe = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--build-temp", str(tmp_path / "t"),
                            "--build-lib", str(tmp_path / "l")], cwd=sdist.parent.parent / "src",
                           capture_output=True, text=True, timeout=300, env=tool_env(tmp_path))
    assert probe.returncode != 0, probe.stdout + probe.stderr
    assert "libcurl4-openssl-dev" in probe.stdout + probe.stderr, probe.stdout + probe.stderr


def test_the_sdist_holds_everything_to_build_and_test(sdist):
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    top = sdist.name[: -len(".tar.gz")]
    assert top == f"gettcommerce-{gettcommerce.__version__}"
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    needed = [p for p in tracked if p.startswith(("csrc/", "tests/", "gettcommerce/", "fuzz/corpus/", "examples/"))
              or p in ("setup.py", "pyproject.toml", "LICENSE", "README.md", "MANIFEST.in")]
    if not tracked:  # not a git checkout (an unpacked sdist): its own files are the list
        needed = [str(p.relative_to(ROOT)) for d in ("csrc", "tests", "gettcommerce") for p in (ROOT / d).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".so"]
    missing = sorted(set(needed) - names)
    assert not missing, missing
    assert "tests/conftest.py" in names and "csrc/gc.h" in names and "gettcommerce/py.typed" in names
    assert not [n for n in names if n.endswith((".so", ".pyc"))]


def test_metadata_is_honest(sdist):
    with tarfile.open(sdist) as tar:
        pkg_info = tar.extractfile(f"{sdist.name[:-len('.tar.gz')]}/PKG-INFO").read().decode()
    assert "Requires-Python: >=3.11" in pkg_info
    assert "License-Expression: MIT" in pkg_info and "License-File: LICENSE" in pkg_info
    assert f"Version: {gettcommerce.__version__}" in pkg_info
    for minor in ("3.11", "3.12", "3.13"):
        assert f"Classifier: Programming Language :: Python :: {minor}" in pkg_info
    assert "Classifier: Operating System :: POSIX :: Linux" in pkg_info
    assert "Classifier: Typing :: Typed" in pkg_info


def test_the_version_is_written_in_one_place():
    hits = []
    for path in list((ROOT / "gettcommerce").rglob("*.py")) + [ROOT / "setup.py", ROOT / "pyproject.toml"]:
        if re.search(r"""^\s*(__version__|version)\s*=\s*["']\d""", path.read_text(), re.M):
            hits.append(path.relative_to(ROOT))
    assert hits == [Path("gettcommerce/_version.py")], hits


def test_twine_accepts_the_sdist_and_the_wheel(sdist):
    pytest.importorskip("twine", reason="twine is in the test extra")
    dists = [str(sdist)]
    if INSTALLED_WHEEL:
        dists.append(INSTALLED_WHEEL)
    out = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *dists], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("PASSED") == len(dists), out.stdout


def test_the_wheel_ships_types_and_the_license():
    if not INSTALLED_WHEEL:
        pytest.skip("needs GETT_TEST_INSTALLED (make test)")
    with zipfile.ZipFile(INSTALLED_WHEEL) as whl:
        names = set(whl.namelist())
    assert {"gettcommerce/py.typed", "gettcommerce/_core.pyi"} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), sorted(names)


def test_package_data_names_only_files_that_exist():
    text = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"\[tool\.setuptools\.package-data\]\n(.*?)(\n\[|\Z)", text, re.S).group(1)
    for pattern in re.findall(r'"([^"]+)"', block):
        assert list((ROOT / "gettcommerce").glob(pattern)), pattern


def test_the_readme_links_nothing_outside_the_repository():
    text = (ROOT / "README.md").read_text()
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    prose = re.sub(r"`[^`\n]*`", "", prose)
    targets = re.findall(r"\]\(([^)\s]+)", prose) + re.findall(r"<(https?://[^>]+)>", prose)
    bare = re.findall(r"https?://\S+", re.sub(r"\]\([^)]*\)", "", prose))
    assert not bare, bare
    for target in targets:
        assert not re.match(r"[a-z]+:", target), target
        assert (ROOT / target.split("#")[0]).exists(), target
