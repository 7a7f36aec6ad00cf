"""Failure alerts (``salescast.ops.alerts``) over real SMTP: an aiosmtpd server on loopback receives the mails that
dag.test() runs send through the SMTP provider's notifier, and the test reads them."""

from __future__ import annotations

import email
import json
import re
import time
from datetime import date, timedelta
from email.message import Message
from pathlib import Path

import pytest

from salescast.ingest.pipeline import ingest_day
from salescast.lake import Lake
from salescast.publish import DATA_FILE, read_manifest
from salescast_dev.generate import PanelSpec, write_landing
from tests.support.dags import run
from tests.support.net import free_port

pytestmark = pytest.mark.slow

RECIPIENTS = ["ops@example.com", "planner@example.com"]
UI = "http://airflow.example:8080"


class Inbox:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self) -> list[Message]:
        return [email.message_from_bytes(e.original_content) for e in self.envelopes]


def html_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no HTML part in the alert")


def smtp_connection(port: int) -> str:
    extra = {"disable_tls": True, "disable_ssl": True, "timeout": 5, "retry_limit": 0}
    return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": port, "extra": extra})


@pytest.fixture
def inbox():
    from aiosmtpd.controller import Controller

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@pytest.fixture
def alert_env(home, airflow_db, inbox, monkeypatch):
    handler, port = inbox
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection(port))
    monkeypatch.setenv("SALESCAST_ALERT_EMAILS", ",".join(RECIPIENTS))
    monkeypatch.setenv("SALESCAST_ALERT_FROM", "salescast-alerts@example.com")
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", UI)
    monkeypatch.setenv("SALESCAST_SENSOR_TIMEOUT_SECONDS", "3")
    monkeypatch.setenv("SALESCAST_SENSOR_POKE_SECONDS", "1")
    monkeypatch.setenv("SALESCAST_MAX_BAD_ROW_FRACTION", "0.25")
    from salescast.config import Settings

    return Lake.from_settings(Settings.from_env()), handler


def land_unreadable_file(lake: Lake, day: date) -> None:
    folder = Path(lake.landing_dir(day).path)
    folder.mkdir(parents=True)
    (folder / "good.csv").write_text(f"date,store_id,item_id,units\n{day},S1,I1,3\n")
    (folder / "bad.csv").write_text("sku;qty\nA;1\n")
    (folder / "_READY").write_text("")


def check_alert(message: Message, dag_id: str, task_id: str, day: date, try_number: int) -> str:
    assert message["Subject"] == f"[salescast] {dag_id}.{task_id} failed for {day} (try {try_number})"
    assert message["From"] == "salescast-alerts@example.com"
    assert sorted(a.strip() for a in message["To"].split(",")) == RECIPIENTS
    body = html_of(message)
    for label, value in (("DAG", dag_id), ("Task", task_id), ("Logical date", day.isoformat()),
                         ("Try", str(try_number))):  # fmt: skip
        assert f"<th align='left'>{label}</th><td>{value}</td>" in body
    link = re.search(r"<a href='([^']+)'>Open the task log</a>", body)
    assert link, body
    assert link.group(1).startswith(f"{UI}/dags/{dag_id}/runs/")
    assert f"/tasks/{task_id}" in link.group(1)
    return body


def test_unparseable_landing_file_sends_one_alert(alert_env):
    lake, handler = alert_env
    day = date(2025, 3, 1)
    land_unreadable_file(lake, day)
    assert run("sales_ingest", day).state == "failed"
    (message,) = handler.messages()  # exactly one: validate failed, publish is only upstream_failed
    body = check_alert(message, "sales_ingest", "validate", day, 1)
    assert "AirflowFailException" in body
    assert "bad.csv" in body


def test_sensor_timeout_sends_one_alert(alert_env):
    _, handler = alert_env
    day = date(2025, 4, 1)
    assert run("sales_ingest", day).state == "failed"
    (message,) = handler.messages()
    body = check_alert(message, "sales_ingest", "wait_for_landing", day, 1)
    assert "AirflowSensorTimeout" in body


def test_forecast_step_that_raises_alerts_once_after_its_retry(alert_env, monkeypatch):
    lake, handler = alert_env
    monkeypatch.setenv("SALESCAST_TASK_RETRIES", "1")
    monkeypatch.setenv("SALESCAST_RETRY_DELAY_SECONDS", "1")
    day = date(2025, 3, 20)
    write_landing(PanelSpec(stores=1, items=3, seed=2), day - timedelta(days=9), day, Path(lake.root.path) / "landing"
                  / "sales", defects=False)  # fmt: skip
    for offset in range(9, -1, -1):
        ingest_day(lake, day - timedelta(days=offset), "bootstrap", 0.25)
    corrupt = Path(lake.curated_dir(day - timedelta(days=4)).path) / DATA_FILE
    corrupt.write_bytes(b"this is not parquet")  # a damaged partition: planning the run must raise
    dagrun = run("sales_forecast", day)
    assert dagrun.state == "failed"
    plan = next(ti for ti in dagrun.get_task_instances() if ti.task_id == "plan")
    assert plan.state == "failed"
    assert plan.try_number == 2
    (message,) = handler.messages()  # ...and alerted once, on the last try
    body = check_alert(message, "sales_forecast", "plan", day, 2)
    assert "ArrowInvalid" in body or "Parquet" in body


def test_unreachable_smtp_server_changes_no_task_state(alert_env, monkeypatch):
    lake, handler = alert_env
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection(free_port()))  # nothing listens there
    day = date(2025, 3, 2)
    land_unreadable_file(lake, day)
    started = time.monotonic()
    dagrun = run("sales_ingest", day)
    states = {ti.task_id: ti.state for ti in dagrun.get_task_instances()}
    assert dagrun.state == "failed"
    assert states == {"wait_for_landing": "success", "archive_raw": "success", "validate": "failed",
                      "publish": "upstream_failed", "check_deliveries": "upstream_failed"}  # fmt: skip
    assert handler.messages() == []
    assert time.monotonic() - started < 120


def test_a_run_that_fails_without_a_failed_task_alerts_at_dag_level(alert_env):
    from types import SimpleNamespace

    from salescast.ops.alerts import notify_dag_failure

    _, handler = alert_env
    dag, run_id = SimpleNamespace(dag_id="sales_forecast"), "scheduled__2025-03-02T00:00:00+00:00"
    notify_dag_failure({"dag": dag, "run_id": run_id, "reason": "task_failure"})
    assert handler.messages() == []  # the failed task's own alert covers it
    notify_dag_failure({"dag": dag, "run_id": run_id, "reason": "timed_out"})  # dagrun_timeout: no task failed
    (message,) = handler.messages()
    assert message["Subject"] == f"[salescast] sales_forecast run failed for {run_id} (timed_out)"
    assert "timed_out" in html_of(message)


def land_fortnight(lake: Lake, day: date, absent_on_day: tuple[str, ...] = ()) -> None:
    """Stores S1 and S2 deliver one file each for 14 days (ingested directly), then ``day``'s
    files land without the ``absent_on_day`` stores, for the DAG run to ingest."""
    for offset in range(14, -1, -1):
        current = day - timedelta(days=offset)
        folder = Path(lake.landing_dir(current).path)
        folder.mkdir(parents=True)
        for store in ("S1", "S2"):
            if offset or store not in absent_on_day:
                (folder / f"{store}.csv").write_text(f"date,store_id,item_id,units\n{current},{store},I1,3\n")
        (folder / "_READY").write_text("")
        if offset:
            ingest_day(lake, current, "bootstrap", 0.25)


def test_a_store_missing_past_the_settle_time_sends_one_alert(alert_env, monkeypatch):
    """The day is published (with the warning) and check_deliveries mails once: past dates are
    past their settle time at once."""
    lake, handler = alert_env
    monkeypatch.setenv("SALESCAST_DELIVERY_SETTLE_SECONDS", "0")
    day = date(2025, 3, 20)
    land_fortnight(lake, day, absent_on_day=("S2",))
    dagrun = run("sales_ingest", day)
    assert dagrun.state == "success"  # published: the forecast imputes S2, it does not wait for it
    assert read_manifest(lake, lake.curated_dir(day))["missing_stores"] == ["S2"]
    (message,) = handler.messages()
    assert message["Subject"] == f"[salescast] 1 store(s) sent no sales for {day}"
    assert "sent nothing for 2025-03-20: S2" in html_of(message)


def test_every_store_delivered_sends_nothing(alert_env):
    lake, handler = alert_env
    day = date(2025, 3, 20)
    land_fortnight(lake, day)
    assert run("sales_ingest", day).state == "success"
    assert handler.messages() == []
