"""The deadline alert (``salescast.ops.deadline``; plugins/salescast_deadline.py is its callback):
one mail when the forecast for D is not published by SALESCAST_FORECAST_DEADLINE on D+1, even
though no task failed.

Real Airflow machinery short of running processes: the DAG file parsed and serialized to the
SQLite metadata DB, a scheduled run created by the serialized DAG (which writes the deadline
row), the scheduler's own missed-deadline query and ``Deadline.handle_miss`` (which queues the
callback as a trigger), then that trigger row instantiated and run the way the triggerer runs
it, against a real SMTP server (aiosmtpd). Waiting for a real scheduler and triggerer would
need a deadline minutes in the future; the e2e stack checks the same path there.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from salescast.config import DAGS_DIR, Settings

from .test_alerts import RECIPIENTS, UI, alert_env, html_of, inbox  # noqa: F401 (fixtures)

DAY = date(2025, 3, 10)


def sync_forecast_dag():
    """sales_forecast parsed from dags/ and written to the DB, as the DAG processor does."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.models.serialized_dag import SerializedDagModel
    from airflow.utils.session import create_session

    with create_session() as session:
        DagBundlesManager().sync_bundles_to_db(session=session)
    bag = BundleDagBag(dag_folder=str(DAGS_DIR), bundle_path=DAGS_DIR, bundle_name="dags-folder")
    assert not bag.import_errors, bag.import_errors
    sync_bag_to_db(bag, "dags-folder", None)
    return bag.get_dag("sales_forecast"), SerializedDagModel.get_dag("sales_forecast")


def create_scheduled_run(scheduler_dag, day: date) -> int:
    """The run the scheduler creates at D+1 00:00 for logical date D; queued then."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    with create_session() as session:
        old = session.query(DagRun).filter_by(dag_id="sales_forecast", logical_date=start).one_or_none()
        if old is not None:
            session.delete(old)
            session.flush()
        run = scheduler_dag.create_dagrun(
            run_id=f"scheduled__{start.isoformat()}",
            logical_date=start,
            data_interval=(start, end),
            run_after=end,
            conf=None,
            run_type=DagRunType.SCHEDULED,
            state=DagRunState.QUEUED,
            triggered_by=DagRunTriggeredByType.TIMETABLE,
            triggering_user_name=None,
            session=session,
        )
        run.queued_at = end  # created here years late; the scheduler queues it at D+1 00:00
        session.flush()
        return run.id


def scheduler_marks_missed() -> list:
    """The scheduler loop's deadline step (scheduler_job_runner.py, 3.3.2), verbatim in effect."""
    from airflow.models.deadline import Deadline
    from airflow.utils.session import create_session
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    with create_session() as session:
        query = (
            select(Deadline)
            .where(Deadline.deadline_time < datetime.now(UTC))
            .where(~Deadline.missed)
            .options(selectinload(Deadline.callback), selectinload(Deadline.dagrun))
        )
        missed = list(session.scalars(query))
        for deadline in missed:
            deadline.handle_miss(session)
        return [d.id for d in missed]


def run_queued_callback_triggers(deadline_ids: list) -> list[dict]:
    """Each missed deadline's trigger row, instantiated and run as the triggerer does;
    returns the last event's payload of each."""
    from airflow._shared.module_loading import import_string
    from airflow.models.deadline import Deadline
    from airflow.utils.session import create_session

    async def drain(trigger) -> dict:
        events = [event async for event in trigger.run()]
        return events[-1].payload

    payloads = []
    for deadline_id in deadline_ids:
        with create_session() as session:
            row = session.get(Deadline, deadline_id).callback.trigger
            classpath, kwargs = row.classpath, row.kwargs
        payloads.append(asyncio.run(drain(import_string(classpath)(**kwargs))))
    return payloads


@pytest.fixture
def deadline_env(alert_env, monkeypatch):  # noqa: F811 (the imported fixture)
    monkeypatch.setenv("SALESCAST_FORECAST_DEADLINE", "06:00")
    # Airflow skips writing a DAG serialized less than 30 s ago: an earlier test's sync without
    # the deadline would then stay in the DB and the run would get no deadline (seen in CI)
    monkeypatch.setenv("AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL", "0")
    lake, handler = alert_env
    return lake, handler


def test_the_dag_carries_the_deadline_and_off_removes_it(deadline_env, monkeypatch):
    from airflow.sdk import DeadlineReference

    alert = Settings.from_env().forecast_deadline
    assert alert == timedelta(days=1, hours=6)
    dag, _ = sync_forecast_dag()
    (deadline,) = dag.deadline
    assert deadline.reference == DeadlineReference.DAGRUN_LOGICAL_DATE
    assert deadline.interval == alert
    assert deadline.callback.path == "salescast_deadline.forecast_deadline_missed"
    monkeypatch.setenv("SALESCAST_FORECAST_DEADLINE", "off")
    assert Settings.from_env().forecast_deadline is None


def test_a_missed_deadline_sends_exactly_one_mail(deadline_env):
    _lake, handler = deadline_env
    _, scheduler_dag = sync_forecast_dag()
    run_id = create_scheduled_run(scheduler_dag, DAY)
    from airflow.models.deadline import Deadline
    from airflow.utils.session import create_session

    with create_session() as session:
        (deadline,) = session.query(Deadline).filter_by(dagrun_id=run_id).all()
        assert deadline.deadline_time == datetime(2025, 3, 11, 6, 0, tzinfo=UTC)  # D+1 06:00 UTC
    missed = scheduler_marks_missed()
    assert deadline.id in missed
    payloads = run_queued_callback_triggers([deadline.id])
    assert payloads[-1]["state"] == "success", payloads
    assert payloads[-1]["body"] == "sent"
    assert scheduler_marks_missed() == []  # marked missed: never a second mail

    (message,) = handler.messages()
    assert message["Subject"] == "[salescast] forecast for 2025-03-10 not published by 2025-03-11 06:00 UTC"
    assert sorted(a.strip() for a in message["To"].split(",")) == RECIPIENTS
    body = html_of(message)
    assert "<th align='left'>Run</th><td>scheduled__2025-03-10T00:00:00+00:00</td>" in body
    assert f"<a href='{UI}/dags/sales_forecast/runs/scheduled__2025-03-10T00:00:00+00:00'>" in body


def test_no_mail_when_published_or_queued_after_the_deadline(deadline_env):
    """The callback asks the lake: a day published by another run, or a run that was queued
    after its deadline had passed (a backfill, a re-run of an old day), sends nothing."""
    from salescast.lake import FORECASTS
    from salescast.ops.deadline import handle_missed_deadline
    from salescast.publish import publish_partition

    lake, handler = deadline_env
    deadline = {"deadline_time": "2025-03-11T06:00:00+00:00"}
    run = {"dag_run_id": "r", "dag_id": "sales_forecast", "logical_date": "2025-03-10T00:00:00Z"}
    late = run | {"queued_at": "2025-04-02T10:00:00Z", "run_type": "backfill"}
    assert handle_missed_deadline({"dag_run": late, "deadline": deadline}) == "queued after the deadline"
    assert handle_missed_deadline({"dag_run": run | {"logical_date": None}, "deadline": deadline}) == "no logical date"
    staged = lake.staging_dir(FORECASTS, DAY) / "run=other" / "part-0.parquet"
    lake.write_bytes(staged, b"PAR1")
    publish_partition(lake, staged, lake.run_dir("forecasts", DAY), {"dataset": "forecasts", "run_id": "other"})
    assert handle_missed_deadline({"dag_run": run, "deadline": deadline}) == "published"
    assert handler.messages() == []
