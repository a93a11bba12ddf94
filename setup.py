"""Build of the C core, gettcommerce._core; metadata lives in pyproject.toml.

libcurl and cJSON come from the system and are found with pkg-config when
the extension is compiled (never for an sdist, which needs no C headers).
Overrides: GETT_CURL_CFLAGS/GETT_CURL_LIBS, GETT_CJSON_CFLAGS/GETT_CJSON_LIBS;
PKG_CONFIG_PATH picks another libcurl (tools/build-wheels.sh points it at
the lean one from tools/build-libcurl.sh).
Toggles: GETT_WERROR=1 (-Werror), GETT_DEBUG=1 (-O0 -g), GETT_SANITIZE=1
(-fsanitize=address,undefined; run with LD_PRELOAD of libasan, see Makefile).
"""
import glob
import os
import shlex
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

INSTALL_HINT = (
    "gettcommerce needs the libcurl and cJSON development headers to compile its C core: "
    "run `apt-get install libcurl4-openssl-dev libcjson-dev pkg-config` "
    "(or set GETT_CURL_CFLAGS/GETT_CURL_LIBS and GETT_CJSON_CFLAGS/GETT_CJSON_LIBS), "
    "or install a prebuilt wheel, which needs neither."
)


class ConfigurationError(SystemExit):
    pass


def pkg_config(package, env_prefix):
    cflags = os.environ.get(env_prefix + "_CFLAGS")
    libs = os.environ.get(env_prefix + "_LIBS")
    if cflags is not None and libs is not None:
        return shlex.split(cflags), shlex.split(libs)
    try:
        cflags = subprocess.check_output(["pkg-config", "--cflags", package], text=True)
        libs = subprocess.check_output(["pkg-config", "--libs", package], text=True)
    except (OSError, subprocess.CalledProcessError):
        raise ConfigurationError(INSTALL_HINT)
    return shlex.split(cflags), shlex.split(libs)


def header_present(header, cflags):
    dirs = [f[2:] for f in cflags if f.startswith("-I")] + ["/usr/include", "/usr/local/include"]
    return any(os.path.exists(os.path.join(d, header)) for d in dirs)


def compile_flags():
    """(extra_compile_args, extra_link_args) for _core, from pkg-config and the toggles."""
    curl_cflags, curl_libs = pkg_config("libcurl", "GETT_CURL")
    cjson_cflags, cjson_libs = pkg_config("libcjson", "GETT_CJSON")
    if not header_present("curl/curl.h", curl_cflags) or not (
        header_present("cjson/cJSON.h", cjson_cflags) or header_present("cJSON.h", cjson_cflags)
    ):
        raise ConfigurationError(INSTALL_HINT)
    extra_compile = ["-std=c11", "-Wall", "-Wextra", "-Wno-missing-field-initializers"]
    extra_link = []
    if os.environ.get("GETT_WERROR") == "1":
        extra_compile.append("-Werror")
    if os.environ.get("GETT_DEBUG") == "1":
        extra_compile += ["-O0", "-g3"]
    if os.environ.get("GETT_SANITIZE") == "1":
        flags = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined", "-g"]
        extra_compile += flags
        extra_link += flags
    return curl_cflags + cjson_cflags + extra_compile, curl_libs + cjson_libs + extra_link


class BuildCore(build_ext):
    """Looks the libraries up only when there is something to compile."""

    def build_extension(self, ext):
        if ext.name == "gettcommerce._core" and not getattr(ext, "_gett_configured", False):
            compile_args, link_args = compile_flags()
            ext.extra_compile_args = compile_args
            ext.extra_link_args = link_args
            ext._gett_configured = True
        super().build_extension(ext)


setup(
    ext_modules=[
        Extension(
            "gettcommerce._core",
            sources=sorted(glob.glob("csrc/*.c")),
            depends=sorted(glob.glob("csrc/*.h")),
            define_macros=[("_GNU_SOURCE", "1")],
        )
    ],
    cmdclass={"build_ext": BuildCore},
)
