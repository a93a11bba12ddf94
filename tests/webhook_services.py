"""Real services for the webhook store and server tests: Redis, PostgreSQL, gunicorn, uvicorn.

Each starts on a free loopback port in a temp dir, is waited on until it
answers, and is stopped by the fixture that started it.  A missing program
or package skips the tests that need it, naming what to install
(``.ci/install-services.sh`` installs them all).
"""
from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

import pytest

from conftest import free_port, native_env, stop_process

HERE = Path(__file__).resolve().parent
INSTALL_HINT = "run .ci/install-services.sh"


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0,
             proc: Optional[subprocess.Popen] = None) -> None:
    """Poll ``condition`` until true; fail naming ``what`` at the deadline or if ``proc`` died."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not ready after {timeout} s")
        time.sleep(0.05)


def need_module(name: str, pip_name: str) -> None:
    try:
        __import__(name)
    except ImportError:
        pytest.skip(f"{name} is not installed (pip install {pip_name}; {INSTALL_HINT})")


def find_program(name: str, *patterns: str) -> str:
    found = shutil.which(name)
    if found is None:
        for pattern in patterns:
            matches = sorted(glob.glob(pattern))
            if matches:
                found = matches[-1]
                break
    if found is None:
        pytest.skip(f"{name} is not installed ({INSTALL_HINT})")
    return found


# ---------------------------------------------------------------- Redis

def start_redis() -> Iterator[str]:
    need_module("redis", "redis")
    import redis
    program = find_program("redis-server")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="gett-redis-") as workdir:
        proc = subprocess.Popen([program, "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir,
                                 "--save", "", "--appendonly", "no", "--daemonize", "no"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=native_env())
        url = f"redis://127.0.0.1:{port}/0"
        try:
            client = redis.Redis.from_url(url)

            def pong() -> bool:
                try:
                    return bool(client.ping())
                except redis.ConnectionError:
                    return False

            wait_for(pong, "redis-server", proc=proc)
            client.close()
            yield url
        finally:
            stop_process(proc)


# ---------------------------------------------------------------- PostgreSQL

def _as_postgres(argv: List[str]) -> List[str]:
    # PostgreSQL refuses to run as root: run its programs as the postgres user.
    if os.geteuid() != 0:
        return argv
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as the postgres user")
    return [runuser, "-u", "postgres", "--"] + argv


def start_postgres() -> Iterator[str]:
    need_module("psycopg", "'psycopg[binary]'")
    import psycopg
    initdb = find_program("initdb", "/usr/lib/postgresql/*/bin/initdb")
    pg_ctl = find_program("pg_ctl", "/usr/lib/postgresql/*/bin/pg_ctl")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="gett-pg-")
    data = os.path.join(workdir, "data")
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    subprocess.run(_as_postgres([initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]),
                   env=native_env(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off " \
              "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    subprocess.run(_as_postgres([pg_ctl, "-D", data, "-o", options, "-l", os.path.join(workdir, "log"),
                                 "-w", "start"]), env=native_env(), check=True, stdout=subprocess.DEVNULL)
    try:
        dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"

        def accepts() -> bool:
            try:
                psycopg.connect(dsn).close()
                return True
            except psycopg.OperationalError:
                return False

        wait_for(accepts, "postgres")
        yield dsn
    finally:
        subprocess.run(_as_postgres([pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"]), env=native_env(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(workdir, ignore_errors=True)


def fresh_database(dsn: str, name: str) -> str:
    import psycopg
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return dsn.rsplit("/", 1)[0] + "/" + name


# ---------------------------------------------------------------- app servers

class AppServer:
    """gunicorn or uvicorn with 4 workers serving tests/webhook_server_app.py."""

    def __init__(self, kind: str, env: Dict[str, str], workers: int = 4) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/gett"
        self.env = dict(os.environ, **env)
        if kind == "gunicorn":
            need_module("gunicorn", "gunicorn")
            argv = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "sync",
                    "--bind", f"127.0.0.1:{self.port}", "--chdir", str(HERE), "--timeout", "120",
                    "--graceful-timeout", "2", "webhook_server_app:application"]
        else:
            need_module("uvicorn", "uvicorn")
            argv = [sys.executable, "-m", "uvicorn", "--workers", str(workers), "--host", "127.0.0.1",
                    "--port", str(self.port), "--app-dir", str(HERE), "--log-level", "warning",
                    "--timeout-graceful-shutdown", "2", "webhook_server_app:application"]
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        try:
            # Ready when a worker answers (a GET is a 405 problem from the app itself).
            wait_for(self._answers, f"{kind} on port {self.port}", timeout=60, proc=self.proc)
        except Exception:
            self.close()
            raise

    def _answers(self) -> bool:
        try:
            urllib.request.urlopen(self.url + "/validate", timeout=5)
        except urllib.error.HTTPError as exc:
            return exc.code == 405
        except OSError:
            return False
        return False

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
