"""`make airflow` (python -m salescast serve): prints where the UI is and how to log in, the
UI answers there, and SIGTERM stops every component it started."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from salescast.config import REPO_ROOT

from ..net import free_port

pytestmark = pytest.mark.slow


def processes_of(home: Path) -> list[int]:
    """Live processes whose environment points at this SALESCAST_HOME."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().split(") ", 1)[1][0]
        except OSError:
            continue
        if f"SALESCAST_HOME={home}".encode() in environ and state != "Z":
            found.append(int(entry.name))
    return found


def test_serve_prints_the_login_and_stops_everything_on_sigterm(tmp_path):
    home, port = tmp_path / "home", free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SALESCAST"))}
    env["SALESCAST_HOME"] = str(home)
    proc = subprocess.Popen(
        [sys.executable, "-m", "salescast", "serve", "--port", str(port)], cwd=REPO_ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 240
        while not any(line.startswith("DAGs start paused") for line in lines):
            line = proc.stdout.readline()
            assert line, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            lines.append(line)
        text = "".join(lines)
        assert f"Airflow UI: http://127.0.0.1:{port}" in text
        password = text.split("password: ", 1)[1].split()[0]
        body = json.dumps({"username": "admin", "password": password}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/auth/token", data=body,
                                         headers={"Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.load(response)["access_token"]
        assert len(processes_of(home)) >= 5  # serve itself and its four components (and their children)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=90) == 0
    deadline = time.monotonic() + 30
    while processes_of(home) and time.monotonic() < deadline:
        time.sleep(1)
    assert processes_of(home) == []
