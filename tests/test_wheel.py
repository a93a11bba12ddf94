"""The self-contained wheel: its C core loads the libcurl bundled with it,
that libcurl is the lean one, and a fresh venv runs the README quickstart.

These run when the suite runs against a repaired wheel (`make test`, which
sets GETT_TEST_INSTALLED to the wheel's path, once per supported Python);
against an editable install there is no bundled copy to check.
"""
from __future__ import annotations

import ctypes
import os
import pathlib
import re
import subprocess
import sys

import pytest

from conftest import CHECKOUT, INSTALLED_WHEEL
from gettcommerce import _core

pytestmark = pytest.mark.skipif(not INSTALLED_WHEEL, reason="needs GETT_TEST_INSTALLED (make test)")

CORE = pathlib.Path(_core.__file__).resolve()
LIBS = CORE.parent.parent / "gettcommerce.libs"


def ldd(path: pathlib.Path) -> dict:
    out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=True, timeout=60,
                         env={k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}).stdout
    found = {}
    for line in out.splitlines():
        match = re.match(r"\s*(\S+) => (\S+)", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def test_the_core_resolves_libcurl_and_cjson_from_the_wheel():
    resolved = ldd(CORE)
    curl = [path for name, path in resolved.items() if name.startswith("libcurl")]
    cjson = [path for name, path in resolved.items() if name.startswith("libcjson")]
    assert curl and cjson, resolved
    for path in curl + cjson:
        assert pathlib.Path(path).resolve().parent == LIBS, resolved
    # And so for everything libcurl needs: nothing but glibc comes from the system.
    for name, path in resolved.items():
        if not pathlib.Path(path).resolve().parent == LIBS:
            assert re.match(r"lib(c|m|pthread|dl|rt)\.so", name), (name, path)


def test_the_bundled_libcurl_is_lean():
    [bundled] = LIBS.glob("libcurl*.so*")
    lib = ctypes.CDLL(str(bundled))
    lib.curl_version.restype = ctypes.c_char_p
    version = lib.curl_version().decode()
    assert "OpenSSL/" in version and "nghttp2/" in version, version
    for unwanted in ("GnuTLS", "NSS", "libssh", "librtmp", "OpenLDAP", "libidn2", "libpsl", "zlib", "brotli"):
        assert unwanted not in version, version
    assert _core.curl_version in version


def test_auditwheel_calls_the_wheel_manylinux_with_its_libraries_grafted():
    auditwheel = pathlib.Path(sys.executable).parent / "auditwheel"
    if not auditwheel.exists():
        pytest.fail("auditwheel is installed in make test's venvs (tools/wheels.sh)")
    out = subprocess.run([str(auditwheel), "show", INSTALLED_WHEEL], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    assert re.search(r'consistent with the following platform tag: "manylinux_2_\d+_x86_64"', text), text
    names = {p.name.split("-")[0] for p in LIBS.iterdir()}
    assert {"libcurl", "libcjson", "libnghttp2", "libssl", "libcrypto"} <= names, names


def test_a_fresh_venv_installs_the_wheel_without_building_and_runs_the_quickstart(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # --no-index --only-binary: nothing fetched, nothing compiled; with no
    # compiler on PATH either, a build attempt would fail the install.
    env = dict(os.environ, PATH=str(venv / "bin"), CC="/nonexistent/cc")
    env.pop("PYTHONPATH", None)
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                              "--no-index", "--only-binary", ":all:", "--no-deps", INSTALLED_WHEEL],
                             capture_output=True, text=True, timeout=300, env=env)
    assert install.returncode == 0, install.stderr
    with open(os.path.join(CHECKOUT, "README.md"), encoding="utf-8") as f:
        quickstart = re.findall(r"```python\n(.*?)```", f.read(), re.S)[0]
    (tmp_path / "quickstart.py").write_text(quickstart)
    run = subprocess.run([str(python), "quickstart.py"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    assert "Pizza Place" in run.stdout
    where = subprocess.run([str(python), "-c", "import gettcommerce._core as c; print(c.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    assert where.stdout.strip().startswith(str(venv)), where
    core = pathlib.Path(where.stdout.strip())
    curl = [path for name, path in ldd(core).items() if name.startswith("libcurl")]
    assert curl and pathlib.Path(curl[0]).resolve().parent == core.parent.parent / "gettcommerce.libs"
