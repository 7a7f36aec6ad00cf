"""`make backfill` (`make backfill`) is idempotent, on a real SQLite Airflow metadata DB.

On SQLite, `airflow backfill create` can fail with "database is locked" after Airflow has
already committed the backfill, with runs for none or only some of its days; a blind retry
then fails with AlreadyRunningBackfill. So a retry first looks for an open backfill of the
same DAG, range and reprocess behaviour: one with runs for every day is the success it looks
like; one with days missing is closed (its runs still run) and the missing days are created.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from salescast.config import REPO_ROOT

pytestmark = pytest.mark.slow

DAG = "sales_ingest"
FIRST, LAST = "2019-06-01", "2019-06-03"  # days no other test runs


def backfill(first: str = FIRST, last: str = LAST) -> subprocess.CompletedProcess:
    """What `make backfill DAG=sales_ingest START=... END=...` runs."""
    return subprocess.run(
        [sys.executable, "-m", "salescast_dev", "backfill", "--dag-id", DAG, "--from-date", first, "--to-date", last,
         "--attempts", "2"],
        cwd=REPO_ROOT, env=os.environ.copy(), capture_output=True, text=True, check=False,
    )  # fmt: skip


def backfills() -> list[tuple[int, str, str, bool, int]]:
    """(id, from, to, completed, runs) of every backfill of DAG in the metadata DB."""
    from airflow.models.backfill import Backfill, BackfillDagRun
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        rows = session.execute(
            select(Backfill.id, Backfill.from_date, Backfill.to_date, Backfill.completed_at)
            .where(Backfill.dag_id == DAG)
            .order_by(Backfill.id)
        ).all()
        return [
            (
                row.id,
                f"{row.from_date:%Y-%m-%d}",
                f"{row.to_date:%Y-%m-%d}",
                row.completed_at is not None,
                session.scalar(select(func.count()).where(BackfillDagRun.backfill_id == row.id)),
            )
            for row in rows
        ]


@pytest.fixture
def metadata_db(airflow_db):
    """The session's SQLite DB with the DAGs serialized (backfills need them), emptied of backfills after."""
    from airflow.models.backfill import Backfill, BackfillDagRun
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    from salescast.config import Settings
    from salescast_dev import airflow_env

    env = airflow_env.airflow_environ(Settings.from_env())
    subprocess.run([airflow_env.airflow_bin(), "dags", "reserialize"], env=env, check=True, capture_output=True)

    def clean() -> None:
        with create_session() as session:
            session.execute(delete(BackfillDagRun))
            session.execute(delete(DagRun).where(DagRun.dag_id == DAG, DagRun.backfill_id.is_not(None)))
            session.execute(delete(Backfill).where(Backfill.dag_id == DAG))

    clean()
    yield
    clean()


def test_a_retry_after_the_backfill_was_created_reports_success(metadata_db):
    first = backfill()
    assert first.returncode == 0, first.stdout + first.stderr
    assert [b[1:] for b in backfills()] == [(FIRST, LAST, False, 3)]

    again = backfill()  # the retry path: Airflow answers AlreadyRunningBackfill, as after a lock error
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already exists" in again.stdout
    assert "3 runs" in again.stdout
    assert "AlreadyRunningBackfill" not in again.stdout + again.stderr
    assert [b[1:] for b in backfills()] == [(FIRST, LAST, False, 3)]  # still one backfill, nothing doubled


def test_a_backfill_left_without_runs_is_closed_and_created_again(metadata_db):
    from airflow.models.backfill import Backfill
    from airflow.utils.session import create_session

    with create_session() as session:  # what a failed final commit of `backfill create` leaves behind
        session.add(
            Backfill(
                dag_id=DAG,
                from_date=datetime(2019, 6, 1, tzinfo=UTC),
                to_date=datetime(2019, 6, 3, tzinfo=UTC),
                reprocess_behavior="none",
                dag_run_conf={},
            )
        )
    done = backfill()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "left with runs for 0 of 3 days" in done.stderr
    (orphan, *_), (created, *_) = backfills()
    assert [b[1:] for b in backfills()] == [(FIRST, LAST, True, 0), (FIRST, LAST, False, 3)]
    assert created > orphan


def test_a_backfill_made_in_part_gets_its_missing_days(metadata_db):
    """Seen under load: a lock error after the first day's run left a backfill of one day in
    three; the retry took it for done and two days were never re-run."""
    from airflow.models.backfill import Backfill, BackfillDagRun
    from airflow.utils.session import create_session

    with create_session() as session:  # what a commit in the middle of `backfill create` leaves
        part = Backfill(
            dag_id=DAG,
            from_date=datetime(2019, 6, 1, tzinfo=UTC),
            to_date=datetime(2019, 6, 3, tzinfo=UTC),
            reprocess_behavior="none",
            dag_run_conf={},
        )
        session.add(part)
        session.flush()
        session.add(
            BackfillDagRun(
                backfill_id=part.id, logical_date=datetime(2019, 6, 1, tzinfo=UTC), sort_ordinal=1, dag_run_id=None
            )
        )
    done = backfill()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "left with runs for 1 of 3 days" in done.stderr
    assert "2019-06-02..2019-06-03" in done.stdout
    assert [b[1:] for b in backfills()] == [(FIRST, LAST, True, 1), ("2019-06-02", LAST, False, 2)]

    again = backfill("2019-06-02", LAST)  # the same command run twice: one backfill, nothing doubled
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already exists" in again.stdout
    assert [b[1:] for b in backfills()] == [(FIRST, LAST, True, 1), ("2019-06-02", LAST, False, 2)]


def test_another_running_backfill_is_still_refused_with_the_next_step(metadata_db):
    assert backfill().returncode == 0
    other = backfill("2019-06-10", "2019-06-11")
    assert other.returncode != 0
    assert "AlreadyRunningBackfill" in other.stderr
    assert "another backfill of sales_ingest is still running" in other.stderr
    assert [b[1:] for b in backfills()] == [(FIRST, LAST, False, 3)]
