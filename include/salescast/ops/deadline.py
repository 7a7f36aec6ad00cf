"""Deadline alert: one mail when the forecast for day D is not published by
``SALESCAST_FORECAST_DEADLINE`` (a UTC time on D+1), even if no task failed.

Built on Airflow 3 Deadline Alerts: the ``sales_forecast`` DAG carries a ``DeadlineAlert``
whose reference is the run's logical date (D 00:00 UTC: ``CronDataIntervalTimetable`` dates a
run by the start of its data interval) plus one day and the configured time. Airflow writes a
deadline row when the run is created, the scheduler marks it missed once the time has passed
(unless the run succeeded first: success prunes it), and the triggerer awaits the callback in
``plugins/salescast_deadline.py`` once. That callback asks the lake, not the run: a day that
another run has published meanwhile sends nothing, and a run queued after its deadline had
passed (a backfill or a re-run of an old day) is late by construction and sends nothing either.
"""

from __future__ import annotations

import html
import logging
from datetime import UTC, date, datetime
from typing import Any

log = logging.getLogger(__name__)

CALLBACK_PATH = "salescast_deadline.forecast_deadline_missed"  # plugins/: on the triggerer's sys.path


def forecast_deadline_alerts(settings: Any) -> list[Any]:
    """The ``deadline=`` of ``sales_forecast``: empty when ``SALESCAST_FORECAST_DEADLINE=off``."""
    if settings.forecast_deadline is None:
        return []
    # airflow.sdk exports these lazily (module __getattr__), which type checkers cannot see
    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference  # type: ignore[attr-defined]

    # the callback is named by its import path: the DAG processor need not import it
    callback = AsyncCallback(CALLBACK_PATH)
    return [DeadlineAlert(DeadlineReference.DAGRUN_LOGICAL_DATE, settings.forecast_deadline, callback, "published")]


def _when(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def forecast_day(dag_run: dict[str, Any]) -> date | None:
    """D: the run's logical date (None for a manual run triggered without one)."""
    logical = _when(dag_run.get("logical_date"))
    return logical.astimezone(UTC).date() if logical else None


def deadline_mail(dag_run: dict[str, Any], day: date, deadline: datetime) -> tuple[str, str]:
    """Subject and HTML body: which day, which run, in which state, and where to look."""
    from salescast.ops.alerts import ui_url

    run_id = str(dag_run.get("dag_run_id") or dag_run.get("run_id") or "?")
    link = ui_url(f"dags/{dag_run.get('dag_id', 'sales_forecast')}/runs/{run_id}")
    subject = f"[salescast] forecast for {day} not published by {deadline:%Y-%m-%d %H:%M} UTC"
    fields = {
        "Forecast day": day.isoformat(),
        "Deadline": f"{deadline:%Y-%m-%d %H:%M} UTC",
        "Run": run_id,
        "Run state": dag_run.get("state", "?"),
        "Run link": link or "(set AIRFLOW__API__BASE_URL for a link)",
    }
    rows = "".join(f"<tr><th align='left'>{k}</th><td>{html.escape(str(v))}</td></tr>" for k, v in fields.items())
    anchor = f"<p><a href='{html.escape(link)}'>Open the run</a></p>" if link else ""
    hint = (
        "<p>No task has to have failed: the run may still wait for the day's curated sales "
        "(ingest late or rejected), or still be training. docs/operations.md, 'Deadline alert'.</p>"
    )
    return subject, f"<h3>salescast forecast is late</h3><table>{rows}</table>{anchor}{hint}"


def handle_missed_deadline(context: dict[str, Any]) -> str:
    """What the callback does (blocking: the plugin runs it in a thread). Returns the outcome."""
    from salescast.config import Settings
    from salescast.lake import Lake
    from salescast.ops.alerts import send_mail
    from salescast.publish import is_published

    dag_run = context.get("dag_run") or {}
    deadline = _when((context.get("deadline") or {}).get("deadline_time")) or datetime.now(UTC)
    day = forecast_day(dag_run)
    if day is None:
        log.warning("deadline missed by run %s, which has no logical date; no mail", dag_run.get("dag_run_id"))
        return "no logical date"
    queued = _when(dag_run.get("queued_at"))
    if queued is not None and queued >= deadline:
        log.info(
            "run %s was queued after its deadline %s (backfill or re-run); no mail", dag_run.get("dag_run_id"), deadline
        )
        return "queued after the deadline"
    settings = Settings.from_env()  # a callback: an entry point of its own (the triggerer)
    if is_published(Lake.from_settings(settings).run_dir("forecasts", day)):
        log.info("the forecast for %s is published (by another run); no mail", day)
        return "published"
    subject, body = deadline_mail(dag_run, day, deadline)
    return "sent" if send_mail(subject, body, what="deadline alert") else "not sent"
