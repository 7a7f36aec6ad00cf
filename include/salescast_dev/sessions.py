"""The components of a local stack, each in a session of its own, and one way to stop them all.

A component started in a session of its own (``setsid``) gets no signal meant for the
terminal or for its caller's process group: Ctrl-C, ``timeout``'s SIGTERM or a closed terminal
reach only the salescast process, which then stops every component completely. Stopping
sends SIGTERM to every process group of those sessions (a component, and everything it
started: Airflow puts each task runner in a process group of its own, in the same session),
then SIGKILL to whatever is left after ``GRACE`` seconds. SIGINT, SIGTERM and SIGHUP are
ignored meanwhile, so a second Ctrl-C cannot cut the stop short or print a traceback. And
each component gets SIGTERM from the kernel when the process that started it dies
(``PR_SET_PDEATHSIG``, for components started from the main thread), so a parent killed with
SIGKILL leaves nothing running either.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

GRACE = 20.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> Callable[[], None]:
    """A ``preexec_fn``: SIGTERM this child when ``parent`` dies (also if it already has)."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork: the child only calls it

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def processes() -> Iterator[tuple[int, int, int, str]]:
    """(pid, process group, session, state) of every process this user can see."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (command name)"
        yield int(entry.name), int(fields[2]), int(fields[3]), fields[0]


@contextmanager
def signals_held() -> Iterator[None]:
    """Ignore the stop signals inside the block (only the main thread can set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {signum: signal.signal(signum, signal.SIG_IGN) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


class Sessions:
    """Processes started each in a session of its own, stopped all together."""

    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str], log: IO[bytes]) -> subprocess.Popen:
        # The kernel sends PDEATHSIG when the *thread* that forked the child ends, not the
        # process: a component started from a short-lived thread (a pool booting a stack)
        # would be killed with it. Only the main thread lives as long as the process.
        on_main_thread = threading.current_thread() is threading.main_thread()
        self.procs[name] = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_die_with(os.getpid()) if on_main_thread else None,
        )  # fmt: skip
        return self.procs[name]

    def exited(self) -> dict[str, int]:
        """Components that have exited, with their exit codes."""
        return {name: proc.returncode for name, proc in self.procs.items() if proc.poll() is not None}

    def members(self) -> dict[int, set[int]]:
        """Live (not zombie) processes of these sessions, by process group."""
        sessions = {proc.pid for proc in self.procs.values()}
        groups: dict[int, set[int]] = {}
        for pid, group, session, state in processes():
            if session in sessions and state != "Z":
                groups.setdefault(group, set()).add(pid)
        return groups

    def _signal(self, signum: int) -> None:
        for group in self.members():
            with suppress(ProcessLookupError):  # gone meanwhile
                os.killpg(group, signum)

    def _wait(self, seconds: float) -> bool:
        """Reap the components and wait until nothing of the sessions is left; False on time-out."""
        deadline = time.monotonic() + seconds
        while True:
            self.exited()  # reaps our direct children, so they do not linger as zombies
            if not self.members():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)

    def stop(self, grace: float = GRACE) -> float:
        """SIGTERM everything in the sessions, SIGKILL what is left after ``grace`` seconds;
        the seconds it took. Stop signals are ignored meanwhile."""
        started = time.monotonic()
        with signals_held():
            self._signal(signal.SIGTERM)
            if not self._wait(grace):
                self._signal(signal.SIGKILL)
                self._wait(10)
            for proc in self.procs.values():  # reap: a zombie component would outlive us, parented to init
                with suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=1)
        return time.monotonic() - started
