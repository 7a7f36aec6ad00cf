"""``make run DAG=... DATE=...``: one DAG for one day through ``airflow dags test``, run safely.

Two things ``airflow dags test`` does not do by itself:

* **One run per DAG and day.** A second ``dags test`` of the same DAG and logical date clears
  the first one's DagRun from under it (the first then ends in ``IntegrityError`` tracebacks).
  :func:`hold_run_lock` takes an exclusive ``flock`` on a file per DAG and day under the
  Airflow home; the lock is inherited across ``exec`` and released by the kernel when the run
  ends, however it ends, so a crashed run never leaves a stale lock. A second run is refused
  with a message naming the first.
* **Say once what it waits for.** While a sensor waits, ``DAG.test()`` logs "No tasks to run.
  unrunnable tasks: {...}" every second, for up to ``SALESCAST_SENSOR_TIMEOUT_SECONDS`` (12 h).
  :class:`QuietWait` replaces it by one line saying what the run waits for and until when,
  and a new line only when what it waits for changes.

``salescast_dev.dag_test`` runs the Airflow CLI with that filter.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from salescast.config import Settings

DAG_TEST_LOGGER = "airflow.sdk.definitions.dag"  # where DAG.test() logs "No tasks to run"
NO_TASKS = "No tasks to run"
WAITING_STATES = {"up_for_reschedule": "a sensor looking again later", "deferred": "deferred to the triggerer"}


class RunInProgress(RuntimeError):
    """The same DAG is already being run for the same day by another ``make run``."""


def lock_path(settings: Settings, dag_id: str, day: date) -> Path:
    return settings.airflow_home / "run-locks" / f"{dag_id}__{day.isoformat()}.lock"


def hold_run_lock(settings: Settings, dag_id: str, day: date, command: str) -> int:
    """Take the lock of (``dag_id``, ``day``) for this process and the program it ``exec``s
    (the descriptor is inheritable and never closed: the kernel releases the lock when the
    run ends). Raises :class:`RunInProgress` naming the holder if another run has it."""
    path = lock_path(settings, dag_id, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(fd)
        os.close(fd)
        raise RunInProgress(
            f"{dag_id} for {day} is already being run by {holder.get('command', 'another run')} "
            f"(PID {holder.get('pid', '?')}, since {holder.get('started', '?')}): a second run of the same DAG "
            f"and day would replace the first one's DagRun. Wait for it to end (or stop it), then run "
            f"again (lock: {path})"
        ) from None
    os.ftruncate(fd, 0)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    os.write(fd, json.dumps({"pid": os.getpid(), "started": started, "command": command}).encode())
    os.set_inheritable(fd, True)
    return fd


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        return json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}


def sensor_wait(settings: Settings, dag_id: str, task_id: str, ds: str) -> str | None:
    """What a salescast sensor waits for, in the operator's terms (None: not one of ours)."""
    from salescast.lake import READY_MARKER, SUCCESS_MARKER, Lake

    lake = Lake.from_settings(settings)
    day = date.fromisoformat(ds[:10])
    if (dag_id, task_id) == ("sales_forecast", "wait_for_curated"):
        return (
            f"the curated sales of {day}, {lake.curated_dir(day)}/{SUCCESS_MARKER} (ingest the day first: "
            f"make run DAG=sales_ingest DATE={day})"
        )
    if dag_id == "sales_ingest" and task_id.startswith("wait_for_landing"):
        return (
            f"the day's files in {lake.landing_dir(day)}/ (complete when {READY_MARKER} is there or no file "
            f"changed for {settings.landing_settle_seconds} s)"
        )
    return None


class QuietWait(logging.Filter):
    """Turns DAG.test()'s "No tasks to run" (every second while a sensor waits) into one line
    saying what the run waits for and until when, repeated only when that changes."""

    def __init__(self, settings: Settings, dag_id: str, ds: str) -> None:
        super().__init__()
        self.settings, self.dag_id, self.ds = settings, dag_id, ds
        self.started = datetime.now(UTC)
        self.last: frozenset | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith(NO_TASKS) or not record.args:
            return True
        tis: Any = record.args[0] if isinstance(record.args, tuple) else record.args  # the task instances
        key = frozenset((getattr(t, "task_id", "?"), str(getattr(t, "state", None))) for t in tis)
        if key == self.last:
            return False
        self.last = key
        record.msg, record.args = self.describe(tis), ()
        return True

    def describe(self, tis: Any) -> str:
        """One line: each waiting task and what it waits for, or the tasks left."""
        parts = []
        for ti in sorted(tis, key=lambda t: t.task_id):
            state = str(getattr(ti.state, "value", ti.state))
            if state in WAITING_STATES:
                parts.append(self._waiting(ti, state))
            elif state == "up_for_retry":
                parts.append(f"{ti.task_id} failed and waits to retry (try {ti.try_number}; see its log above)")
        if not parts:
            parts.append(f"tasks not runnable yet: {', '.join(sorted({t.task_id for t in tis}))}")
        return f"{self.dag_id} {self.ds[:10]}: " + "; ".join(parts)

    def _waiting(self, ti: Any, state: str) -> str:
        timeout = self.settings.sensor_timeout_seconds
        start = getattr(ti, "start_date", None) or self.started
        until = (start + timedelta(seconds=timeout)).astimezone(UTC)
        what = sensor_wait(self.settings, self.dag_id, ti.task_id, self.ds) or WAITING_STATES[state]
        return (
            f"{ti.task_id} waits for {what}; it looks every {self.settings.sensor_poke_seconds} s until "
            f"{until:%Y-%m-%d %H:%M:%S} UTC (SALESCAST_SENSOR_TIMEOUT_SECONDS={timeout}), then fails"
        )


def quiet_sensor_waits(argv: list[str]) -> None:
    """Install :class:`QuietWait` on DAG.test()'s logger when ``argv`` is ``dags test DAG DATE``."""
    positional = [a for a in argv if not a.startswith("-")]
    if positional[:2] == ["dags", "test"] and len(positional) >= 4:
        logging.getLogger(DAG_TEST_LOGGER).addFilter(QuietWait(Settings.from_env(), positional[2], positional[3]))
