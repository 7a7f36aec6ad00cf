"""PostgreSQL and Redis from Debian's packages, started on loopback in temporary folders.

The Celery test needs what a distributed Airflow needs: a metadata DB every component shares
(SQLite cannot serve several machines) and a broker. Each server runs in its own process
group on a free port and is stopped (and its folder removed) when the context ends, also
when the test fails. PostgreSQL refuses to run as root, so as root it runs as ``postgres``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.support.net import free_port

PG_USER = "postgres"  # the Debian package's system user, and the cluster's superuser


def postgres_bin(name: str) -> str:
    """``initdb``/``postgres`` of the newest PostgreSQL Debian installed (not on PATH there)."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if found:
        return str(found[-1])
    on_path = shutil.which(name)
    if on_path is None:
        raise RuntimeError(f"{name} not found: install PostgreSQL (make test-celery installs Debian's postgresql)")
    return on_path


def _as_postgres() -> dict:
    """Popen arguments that drop root to the ``postgres`` user; none when not root."""
    return {"user": PG_USER, "group": PG_USER, "extra_groups": []} if os.geteuid() == 0 else {}


def _wait(what: str, ready: Callable[[], bool], proc: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{what} did not start (exit {proc.returncode}):\n{tail}")
        time.sleep(0.2)


def _stop(proc: subprocess.Popen, sig: signal.Signals, grace: float = 20) -> None:
    """Signal the server's process group, then SIGKILL it if it has not exited within ``grace``."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def postgres(database: str = "airflow") -> Iterator[str]:
    """A fresh PostgreSQL cluster (trust auth, loopback only) with one database; yields its
    SQLAlchemy URL for Airflow (``postgresql+psycopg2://postgres@127.0.0.1:PORT/airflow``)."""
    import psycopg2

    # not under pytest's tmp_path: its parents are private to root, the postgres user must get in
    folder = Path(tempfile.mkdtemp(prefix="salescast-pg-"))
    data, log = folder / "data", folder / "postgres.log"
    if os.geteuid() == 0:
        shutil.chown(folder, PG_USER, PG_USER)
    port = free_port()
    proc = None
    try:
        subprocess.run(
            [postgres_bin("initdb"), "-D", str(data), "-U", PG_USER, "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True, **_as_postgres(),
        )  # fmt: skip
        with open(log, "ab") as out:  # the child keeps its own descriptor
            proc = subprocess.Popen(
                [postgres_bin("postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1", "-k", str(folder),
                 "-c", "fsync=off", "-c", "max_connections=200"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **_as_postgres(),
            )  # fmt: skip

        def ready() -> bool:
            try:
                psycopg2.connect(host="127.0.0.1", port=port, user=PG_USER, dbname="postgres").close()
                return True
            except psycopg2.OperationalError:
                return False

        _wait("postgres", ready, proc, 60, log)
        connection = psycopg2.connect(host="127.0.0.1", port=port, user=PG_USER, dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{database}"')
        connection.close()
        yield f"postgresql+psycopg2://{PG_USER}@127.0.0.1:{port}/{database}"
    finally:
        if proc is not None:
            _stop(proc, signal.SIGINT)  # SIGINT: PostgreSQL's fast shutdown (ends open sessions)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A Redis on a free loopback port, nothing persisted; yields ``redis://127.0.0.1:PORT/0``."""
    import redis

    server = shutil.which("redis-server")
    if server is None:
        raise RuntimeError("redis-server not found (make test-celery installs Debian's redis-server)")
    folder = Path(tempfile.mkdtemp(prefix="salescast-redis-"))
    log, port = folder / "redis.log", free_port()
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(folder), "--daemonize", "no"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)

        def ready() -> bool:
            try:
                return bool(client.ping())
            except redis.exceptions.ConnectionError:
                return False

        _wait("redis-server", ready, proc, 30, log)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(proc, signal.SIGTERM)
        shutil.rmtree(folder, ignore_errors=True)
