"""Loopback helpers for tests that start real servers (moto, SMTP, Airflow)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment without the test session's AIRFLOW_* and SALESCAST_* settings,
    with ``SALESCAST_HOME=home``: a command run with it (``make airflow``, ``make demo``) gets
    an Airflow home, DB and lake of its own, and its processes carry ``home`` in their environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SALESCAST"))}
    return env | {"SALESCAST_HOME": str(home)} | extra


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A real ``moto_server`` (S3, Glue, Athena over HTTP) on a free loopback port; yields its URL."""
    port = free_port()
    server = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def point_aws_at(monkeypatch, endpoint: str) -> None:
    """Test credentials and an ``aws_default`` connection whose endpoint is the moto_server."""
    import json

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    extra = {"region_name": "us-east-1", "endpoint_url": endpoint}
    connection = {"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(connection))
