"""`salescast backfill`: `airflow backfill create` for a running scheduler, idempotent on retry.

On SQLite a write that races the scheduler's can fail with "database is locked", and Airflow
does not always undo what it wrote before the failure: the backfill row is committed first,
then one run per day (each in a savepoint, which SQLite can commit on its own), so a failure
can leave a backfill with the runs of its first days only. A blind retry then fails with
AlreadyRunningBackfill, and taking the existing backfill as the success it looks like would
silently skip the missing days (seen under load: a 3-day reprocess that re-ran one day).

So after a failed attempt this reads what exists, in Airflow's own environment: the open
backfills of the same DAG, range and reprocess behaviour, with the days they hold runs for,
and the days Airflow would create runs for. All days covered: done. Some missing: the
part-made backfill is closed (its runs still run) and a backfill of the missing days is
created. No matching backfill: another backfill is running, and the user is told what to do.

Each attempt also runs `airflow backfill create` with real SQLite transactions (see
``_ATOMIC_SQLITE``), which removes the cause on this path: the whole backfill is written in
one transaction that holds the write lock from its start, so it is all there or not at all.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date

# Run with Airflow's interpreter and environment (the metadata DB is Airflow's to read):
# `find` prints {"expected": [days], "backfills": [{"id", "days"}]}; `close` marks backfills
# finished, as the scheduler does when their runs are done, then finds.
_STATE_SCRIPT = """
import json, sys
from sqlalchemy import select, update
from airflow._shared.timezones import timezone
from airflow.models.backfill import Backfill, BackfillDagRun
from airflow.models.serialized_dag import SerializedDagModel
from airflow.utils.session import create_session

action, dag_id, first, last, reprocess, close_ids = sys.argv[1:7]
with create_session() as session:  # commits on leaving the block
    if action == "close":
        session.execute(update(Backfill).where(Backfill.id.in_(json.loads(close_ids)))
                        .values(completed_at=timezone.utcnow()))
        session.flush()
    dag = SerializedDagModel.get_dag(dag_id, session=session)
    now = timezone.utcnow()
    infos = dag.iter_dagrun_infos_between(timezone.parse(first), timezone.parse(last)) if dag else []
    expected = sorted({str(i.logical_date.date()) for i in infos if i.data_interval and i.data_interval.end < now})
    found = []
    for b in session.scalars(select(Backfill).where(Backfill.dag_id == dag_id, Backfill.completed_at.is_(None))):
        same = (str(b.from_date.date()), str(b.to_date.date()), getattr(b.reprocess_behavior, "value",
                b.reprocess_behavior)) == (first, last, reprocess)
        if same:
            days = session.scalars(select(BackfillDagRun.logical_date).where(BackfillDagRun.backfill_id == b.id))
            found.append({"id": b.id, "days": sorted({str(d.date()) for d in days if d is not None})})
print(json.dumps({"expected": expected, "backfills": found}))
"""


# `airflow backfill create`, with SQLite transactions that are what they say. pysqlite issues
# no BEGIN before reads and lets a savepoint's RELEASE commit, so Airflow's one-run-per-day
# savepoints commit day by day; in WAL mode a read transaction that later writes fails at once
# with "database is locked" (no busy wait) when the scheduler wrote in between. Airflow then
# deletes the runs it had committed (`_cleanup_partial_backfill`), and a scheduler that had
# just read one of their deadlines dies on it (Airflow 3.3.2: `DAGRunResponse.model_validate
# (None)` in `Deadline.handle_miss`). SQLAlchemy's documented recipe for pysqlite (the driver
# begins nothing; SQLAlchemy begins each transaction) with BEGIN IMMEDIATE makes the backfill
# one transaction holding the write lock from its start: it waits for the lock (the connect
# timeout) instead of failing half-way, and no other process ever sees a part of it.
_ATOMIC_SQLITE = """
import sqlite3, sys
from sqlalchemy import event
from sqlalchemy.engine import Engine

@event.listens_for(Engine, "connect")
def _driver_begins_nothing(dbapi_connection, record):
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None

@event.listens_for(Engine, "begin")
def _begin_immediate(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")

from airflow.__main__ import main
sys.argv = ["airflow", *sys.argv[1:]]
sys.exit(main())
"""


@dataclass(frozen=True)
class Request:
    """One `backfill create`: a DAG, a range of logical dates (both included), what to re-run."""

    dag_id: str
    first: date
    last: date
    reprocess: str

    def describe(self) -> str:
        return f"backfill of {self.dag_id} {self.first}..{self.last} (reprocess {self.reprocess})"

    def narrowed(self, days: list[str]) -> Request:
        """The same request over the span of ``days`` (ISO dates)."""
        return Request(self.dag_id, date.fromisoformat(min(days)), date.fromisoformat(max(days)), self.reprocess)


def backfill_state(env: dict[str, str], request: Request, close: list[int] | None = None) -> dict | None:
    """What the metadata DB holds for ``request`` (closing ``close`` first), or None when it
    could not be read (busy, too)."""
    action = "close" if close else "find"
    command = [sys.executable, "-c", _STATE_SCRIPT, action, request.dag_id, request.first.isoformat(),
               request.last.isoformat(), request.reprocess, json.dumps(close or [])]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return None
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def _after_failure(env: dict[str, str], request: Request) -> tuple[str, Request | None]:
    """Reconcile a failed attempt with what it left: ("done" | "retry" | "other", next request)."""
    state = backfill_state(env, request)
    if state is None:
        return "retry", request
    if not state["backfills"]:
        return "other", request  # nothing of ours: a lock before the commit, or another backfill
    covered = {day for found in state["backfills"] for day in found["days"]}
    missing = sorted(set(state["expected"]) - covered)
    ids = [found["id"] for found in state["backfills"]]
    if not missing:
        print(f"{request.describe()} already exists (backfill {', '.join(map(str, ids))}, {len(covered)} runs), "
              "created by an earlier attempt or command; the scheduler runs it")  # fmt: skip
        return "done", None
    if backfill_state(env, request, close=ids) is None:
        return "retry", request
    print(f"backfill {', '.join(map(str, ids))} was left with runs for {len(covered)} of {len(state['expected'])} "
          f"days by a failed attempt: closed it (its runs still run), creating the backfill of the missing "
          f"{len(missing)} days", file=sys.stderr)  # fmt: skip
    return "retry", request.narrowed(missing)


def create_backfill(env: dict[str, str], request: Request, attempts: int) -> int:
    """Create ``request``'s backfill, retrying while SQLite is busy; exit code 0 once every day
    of the range has a run in an open backfill."""
    output, code = "", 1
    for attempt in range(1, attempts + 1):
        command = [sys.executable, "-c", _ATOMIC_SQLITE, "backfill", "create", "--dag-id", request.dag_id,
                   "--from-date", request.first.isoformat(), "--to-date", request.last.isoformat(),
                   "--reprocess-behavior", request.reprocess]  # fmt: skip
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            print(f"{request.describe()} created; the scheduler runs it")
            return 0
        output, code = done.stdout + done.stderr, done.returncode or 1
        busy, refused = "database is locked" in output, "AlreadyRunningBackfill" in output
        if not (busy or refused):
            break
        verdict, following = _after_failure(env, request)
        if verdict == "done":
            return 0
        if verdict == "other" and refused:
            print(output[-4000:], file=sys.stderr)
            print(f"error: another backfill of {request.dag_id} is still running (Browse -> Backfills in the UI): "
                  "wait until it completes, or cancel it there, then run this again", file=sys.stderr)  # fmt: skip
            return code
        request = following or request
        if attempt < attempts:
            print(f"metadata DB busy or backfill part-made, retrying ({attempt}/{attempts}) ...", file=sys.stderr)
            time.sleep(2 * attempt)
    print(output[-4000:], file=sys.stderr)
    return code
