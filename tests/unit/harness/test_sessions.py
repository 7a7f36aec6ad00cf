"""Sessions: a component outlives the thread that started it, and dies with its process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import psutil

from salescast_dev.sessions import Sessions


def test_a_component_started_from_a_short_lived_thread_survives_the_thread(tmp_path):
    """PDEATHSIG fires when the forking *thread* ends: a stack booted from a pool thread (the
    Celery test's fixture) was SIGTERMed as soon as the pool closed."""
    sessions = Sessions()
    with (tmp_path / "sleep.log").open("ab") as log:
        starter = threading.Thread(target=sessions.start, args=("sleeper", ["sleep", "60"], dict(os.environ), log))
        starter.start()
        starter.join()
    try:
        time.sleep(1.0)  # the signal, if any, comes as soon as the thread is gone
        assert sessions.procs["sleeper"].poll() is None, "the component died with the thread that started it"
    finally:
        sessions.stop(grace=5)
    assert sessions.procs["sleeper"].poll() is not None


def test_a_component_dies_with_the_process_that_started_it(tmp_path):
    """Started from the main thread of a process that is then SIGKILLed, nothing is left."""
    code = (
        "import os, sys\n"
        "from salescast_dev.sessions import Sessions\n"
        "s = Sessions()\n"
        "p = s.start('sleeper', ['sleep', '60'], dict(os.environ), open(os.devnull, 'ab'))\n"
        "print(p.pid, flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    pid = int(out.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:  # dead, not reaped yet
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.1)
    os.kill(pid, 9)
    raise AssertionError("the component outlived the process that started it")
