"""``airflow dags test`` whose runs record the time they really took.

Airflow 3.3's ``DAG.test()`` creates its run with ``start_date=logical_date or run_after``
(``airflow/sdk/definitions/dag.py``, the ``get_or_create_dagrun`` call; apache/airflow#66127,
open), so a run for a past day "starts" on that day and the UI shows it lasting from then
until now: 613 days for a run of March 2025 made in late 2026. This module runs the same CLI
in its own process with a SQLAlchemy ``before_insert`` hook that stamps such a run's
``start_date`` with the wall clock when the row is written; ``end_date`` is already real, so
the duration is the seconds the run took. Nothing else about the run changes.

``python -m salescast_dev.dag_test dags test DAG DATE`` is ``make run``: one run, Airflow's
output on the terminal. ``python -m salescast_dev.dag_test --batch`` is the demo's: it reads
``DAG DATE LOG`` lines on stdin and answers ``success|failed SECONDS`` for each, Airflow's
output going to LOG; one process for every run, so Airflow is imported and its in-process
execution API started once, not once per run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import traceback
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.models.dagrun import DagRun


def _stamp_start(mapper: object, connection: object, run: DagRun) -> None:
    """``before_insert`` hook on DagRun: a ``DAG.test()`` run starts now, not at its logical date."""
    from airflow.utils import timezone
    from airflow.utils.types import DagRunTriggeredByType

    if run.triggered_by == DagRunTriggeredByType.TEST:
        run.start_date = timezone.utcnow()


def stamp_real_start_dates() -> None:
    """Make every ``DAG.test()`` run written from this process start at the wall clock."""
    from airflow.models.dagrun import DagRun
    from sqlalchemy import event

    if not event.contains(DagRun, "before_insert", _stamp_start):
        event.listen(DagRun, "before_insert", _stamp_start)


def run_cli(argv: list[str]) -> None:
    """The Airflow CLI on ``argv`` in this process, with real start dates and one line, not
    one a second, while a sensor waits (``run_guard.QuietWait``)."""
    from salescast_dev.run_guard import quiet_sensor_waits

    stamp_real_start_dates()
    quiet_sensor_waits(argv)
    from airflow.__main__ import main

    sys.argv = ["airflow", *argv]
    main()


def _send_output_to(log_path: Path) -> None:
    """Point this process's stdout and stderr (the file descriptors, so Airflow's loggers and
    task subprocesses follow) at ``log_path``; they stay there until the next run."""
    sys.stdout.flush()
    sys.stderr.flush()
    with log_path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)


def _dags_test(dag_id: str, day: str) -> bool:
    """``airflow dags test DAG DAY`` in this process; a failure is printed, not raised."""
    from airflow.cli import cli_parser

    try:
        args = cli_parser.get_parser().parse_args(["dags", "test", dag_id, day])
        args.func(args)
        return True
    except (Exception, SystemExit):  # SystemExit("DagRun failed") is how the CLI says it failed
        traceback.print_exc()
        return False
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def serve_batch(requests: IO[str]) -> None:
    """Run each ``DAG DATE LOG`` line of ``requests``; answer ``success|failed SECONDS`` on the
    original stdout, which nothing else writes to once the first run starts."""
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # what Airflow prints before the first run (import warnings) goes to stderr
    stamp_real_start_dates()
    from airflow.configuration import write_default_airflow_configuration_if_needed

    write_default_airflow_configuration_if_needed()
    for line in requests:
        dag_id, day, log_path = line.rstrip("\n").split(" ", 2)
        _send_output_to(Path(log_path))
        started = time.perf_counter()
        ok = _dags_test(dag_id, day)
        answers.write(f"{'success' if ok else 'failed'} {time.perf_counter() - started:.1f}\n")
        answers.flush()


class DagTester:
    """The demo's side of ``--batch``: one child process runs every ``dags test`` in turn."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:  # Airflow's output before the first run
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "salescast_dev.dag_test", "--batch"], env=env, text=True,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
            )  # fmt: skip

    def run(self, dag_id: str, day: date, log_path: Path) -> tuple[bool, float]:
        """(succeeded, seconds) of one run; its output goes to ``log_path``."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(f"{dag_id} {day.isoformat()} {log_path}\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().split()
        if not answer:
            raise RuntimeError(f"the dags test process exited ({self.proc.wait()}); see {log_path}")
        return answer[0] == "success", float(answer[1])

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait()

    def __enter__(self) -> DagTester:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main(argv: list[str]) -> int:
    if argv == ["--batch"]:
        serve_batch(sys.stdin)
    else:
        run_cli(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
