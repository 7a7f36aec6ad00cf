"""``make airflow``: a local Airflow until Ctrl-C, SIGTERM, SIGHUP or a closed terminal.

Signals only set a flag (:class:`StopRequest`): no exception can land in the middle of
starting or stopping, so every path out goes through one ``AirflowStack.stop()`` and prints
no traceback. A terminal that goes away (its window closed while ``make`` ran the command
with no shell to pass the SIGHUP on) is noticed too: ``/dev/tty`` can no longer be opened.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType

from salescast.config import Settings
from salescast_dev import ports
from salescast_dev.airflow_stack import USER, AirflowStack, StackError
from salescast_dev.sessions import STOP_SIGNALS


class StopRequest:
    """The first stop signal received, as a flag the main loop polls."""

    def __init__(self) -> None:
        self.signum: int | None = None
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._note)

    def _note(self, signum: int, frame: FrameType | None) -> None:
        self.signum = self.signum or signum

    def __call__(self) -> bool:
        return self.signum is not None


def _has_terminal() -> bool:
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
    except OSError:
        return False
    return True


def say(text: str, error: bool = False) -> None:
    """Print, unless the terminal is gone (a closed window): then print nothing from now on
    (writes would fail with EIO, and the stop must go on)."""
    try:
        print(text, file=sys.stderr if error else sys.stdout, flush=True)
    except OSError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)


def _watch(stack: AirflowStack, stop: StopRequest) -> None:
    """Until a stop signal, a component's exit (StackError) or the terminal going away."""
    terminal = _has_terminal()
    while not stop():
        stack.check_alive()
        if terminal and not _has_terminal():
            return
        time.sleep(0.5)


def serve(port: int, host: str) -> int:
    """Run the stack; 0 when stopped on request, 1 when it could not start or a component died."""
    stop = StopRequest()
    problem = ports.busy_message(host, port)
    if problem:
        say(problem, error=True)
        return 1
    settings = Settings.from_env()
    stack = AirflowStack(settings, port, settings.airflow_home / "logs" / "components", host=host)
    say(f"starting Airflow under {settings.airflow_home} (component logs: {stack.log_dir}) ...")
    code = 0
    try:
        stack.start(stopping=stop)
        if not stop():
            say(f"\nAirflow UI: {stack.url}\n  user: {USER}\n  password: {stack.password()}"
                f"\n  (kept in {settings.airflow_home}/simple_auth_manager_passwords.json.generated)"
                "\nDAGs start paused: unpause them in the UI. Ctrl-C stops everything.\n")  # fmt: skip
            _watch(stack, stop)
    except StackError as error:
        say(f"error: {error}", error=True)
        code = 1
    except subprocess.CalledProcessError as error:  # airflow db migrate
        say(f"error: {' '.join(error.cmd)} failed with code {error.returncode}", error=True)
        code = 1
    finally:
        say("stopping Airflow ...")
        seconds = stack.stop()
        say(f"Airflow stopped ({seconds:.0f} s)")
    return code
