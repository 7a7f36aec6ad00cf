"""`make airflow` stops cleanly however it is stopped, and refuses a busy port (issue 26).

Each test starts `make airflow` on a home of its own, as a user does, checks that the login it
prints works, and stops it one way: SIGINT, SIGTERM or SIGHUP to the
`python -m salescast_dev serve` process
or to the whole process group (Ctrl-C, `timeout`, a CI runner; then a second one while it
stops), a closed terminal (a real pty, with and without a shell to pass the SIGHUP on), or the
serve process killed outright. Then, within 30 s: no process of the stack is left (found by
the home in their environment, so workers and task runners count too), the port is free and
the output has no traceback.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import termios
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from salescast.config import REPO_ROOT
from salescast_dev import ports
from tests.support.net import free_port, isolated_env

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

STOP_BUDGET = 30.0  # seconds from the signal to nothing left (issue 26)
START_BUDGET = 240.0
READY = "Ctrl-C stops everything"
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGHUP": signal.SIGHUP}


class Output:
    """Everything a file descriptor yields, read by a thread that can be stopped (a thread
    blocked in read() would keep a pty open after the test closes it)."""

    def __init__(self, fd: int) -> None:
        self.fd, self.text, self._stop = fd, "", threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            if not select.select([self.fd], [], [], 0.2)[0]:
                continue
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:  # EIO: the pty's other side is gone
                return
            if not chunk:
                return
            self.text += chunk.decode(errors="replace")

    def wait_for(self, needle: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            assert self._thread.is_alive() or needle in self.text, f"output ended without {needle!r}:\n{self.text}"
            assert time.monotonic() < deadline, f"no {needle!r} within {timeout:.0f} s:\n{self.text}"
            time.sleep(0.2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def stack_processes(home: Path) -> dict[int, str]:
    """Live (not zombie) processes whose environment names this home: pid -> command line."""
    found = {}
    for proc in psutil.process_iter():
        try:
            if proc.pid == os.getpid() or proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if proc.environ().get("SALESCAST_HOME") == str(home):
                found[proc.pid] = " ".join(proc.cmdline())[:120]
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


@pytest.fixture(scope="module")
def migrated_db(tmp_path_factory) -> Path:
    """One migrated metadata DB copied into each test's home: `make airflow` still runs
    `airflow db migrate`, which then has nothing to do (saves ~10 s per test)."""
    home = tmp_path_factory.mktemp("template")
    subprocess.run([sys.executable, "-m", "salescast_dev", "airflow", "db", "migrate"], cwd=REPO_ROOT,
                   env=isolated_env(home), check=True, capture_output=True)  # fmt: skip
    return home / "airflow" / "airflow.db"


@pytest.fixture
def home(tmp_path, migrated_db) -> Iterator[Path]:
    """A home with a migrated DB; whatever of its stack a failed test leaves running is killed."""
    home = tmp_path / "home"
    (home / "airflow").mkdir(parents=True)
    shutil.copy(migrated_db, home / "airflow" / "airflow.db")
    yield home
    for pid in stack_processes(home):
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(pid).kill()


def logs_in(home: Path, port: int, text: str) -> None:
    """The printed URL and password log in: the UI is this stack's."""
    assert f"Airflow UI: http://127.0.0.1:{port}" in text, text
    password = text.split("password: ", 1)[1].split()[0]
    assert (
        password == json.loads((home / "airflow" / "simple_auth_manager_passwords.json.generated").read_text())["admin"]
    )
    body = json.dumps({"username": "admin", "password": password}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/auth/token", data=body,
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.load(response)["access_token"]


def start_make_airflow(home: Path, port: int) -> tuple[subprocess.Popen, Output]:
    """`make airflow` in a process group (and session) of its own, once it says it is ready."""
    proc = subprocess.Popen(
        ["make", "-s", "airflow", f"PORT={port}"], cwd=REPO_ROOT, env=isolated_env(home),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    out = Output(proc.stdout.fileno())
    out.wait_for(READY, START_BUDGET)
    logs_in(home, port, out.text)
    return proc, out


def serve_process(make: subprocess.Popen) -> psutil.Process:
    return next(p for p in psutil.Process(make.pid).children() if "serve" in p.cmdline())


def assert_stopped(home: Path, port: int, out: Output, since: float, how: str) -> None:
    """Within the budget from ``since``: nothing of the stack left, the port free, no traceback."""
    while stack_processes(home) and time.monotonic() - since < STOP_BUDGET:
        time.sleep(0.2)
    seconds = time.monotonic() - since
    left = stack_processes(home)
    out.stop()
    assert not left, f"{how}: still running {STOP_BUDGET:.0f} s later: {left}\n{out.text}"
    assert not ports.in_use("127.0.0.1", port), f"{how}: port {port} still held: {ports.holders(port)}"
    assert "Traceback" not in out.text, out.text
    print(f"\n{how}: everything stopped in {seconds:.1f} s")


@pytest.mark.parametrize("name", SIGNALS)
def test_a_signal_to_the_serve_process_stops_everything(home, name):
    port = free_port()
    make, out = start_make_airflow(home, port)
    since = time.monotonic()
    serve_process(make).send_signal(SIGNALS[name])
    assert_stopped(home, port, out, since, f"{name} to the serve process")
    assert make.wait(timeout=5) == 0, out.text  # stopped on request: success, and make says nothing
    assert "Airflow stopped" in out.text


@pytest.mark.parametrize("name", SIGNALS)
def test_a_signal_to_the_process_group_stops_everything_even_sent_twice(home, name):
    port = free_port()
    make, out = start_make_airflow(home, port)
    since = time.monotonic()
    os.killpg(make.pid, SIGNALS[name])  # Ctrl-C, `timeout`, a CI runner: make and serve get it
    out.wait_for("stopping Airflow", 10)
    assert "Airflow stopped" not in out.text
    os.killpg(make.pid, SIGNALS[name])  # again, while it stops (make dies of it: serve must not)
    assert_stopped(home, port, out, since, f"{name} twice to the process group")
    assert "Airflow stopped" in out.text


def _take_terminal() -> None:
    """In the child, after setsid: make the pty on stdin its controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@pytest.mark.parametrize("shell", [True, False], ids=["in-bash", "make-leads-the-session"])
def test_closing_the_terminal_stops_everything(home, shell):
    """With a shell, bash passes the terminal's SIGHUP on to its jobs; without one, only make
    (the session leader) gets it and waits for its child, and serve notices the terminal is gone."""
    port = free_port()
    master, slave = pty.openpty()
    argv = ["bash", "--norc", "--noprofile", "-i"] if shell else ["make", "-s", "airflow", f"PORT={port}"]
    subprocess.Popen(
        argv, cwd=REPO_ROOT, env=isolated_env(home, HISTFILE=os.devnull), stdin=slave, stdout=slave, stderr=slave,
        start_new_session=True, preexec_fn=_take_terminal,
    )  # fmt: skip
    os.close(slave)
    out = Output(master)
    if shell:
        os.write(master, f"make -s airflow PORT={port}\n".encode())
    out.wait_for(READY, START_BUDGET)
    logs_in(home, port, out.text)
    out.stop()
    since = time.monotonic()
    os.close(master)  # the window closes
    assert_stopped(home, port, out, since, "terminal closed " + ("(bash)" if shell else "(no shell)"))


def test_the_stack_does_not_outlive_a_serve_process_killed_outright(home):
    port = free_port()
    make, out = start_make_airflow(home, port)
    since = time.monotonic()
    serve_process(make).kill()  # SIGKILL: no handler runs; the kernel tells the components
    assert_stopped(home, port, out, since, "serve killed with SIGKILL")


def test_a_busy_port_is_named_before_anything_starts(tmp_path):
    home = tmp_path / "home"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run(["make", "-s", "airflow", f"PORT={port}"], cwd=REPO_ROOT, env=isolated_env(home),
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    text = done.stdout + done.stderr
    assert done.returncode != 0, text
    assert f"port {port} is in use by another program" in text, text
    assert f"PID {os.getpid()}: " in text, text  # this test holds it, and /proc says so
    assert re.search(r"use another port: PORT=\d+ make airflow", text), text
    assert "Airflow UI" not in text, text  # nothing about a UI that is not ours
    assert "password" not in text, text
    assert "Traceback" not in text, text
    assert not (home / "airflow").exists()  # refused before anything started: not even the DB
