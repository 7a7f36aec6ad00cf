"""Operational defaults every salescast DAG shares: owner, retries, timeouts, alerts, sensors.

Light on purpose (imported at DAG-parse time): no pandas, no Airflow operators.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum

from salescast.config import Settings
from salescast.ops.alerts import notify_failure


def default_args(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """Transient failures (storage, network) retry with exponential back-off, from
    ``SALESCAST_RETRY_DELAY_SECONDS`` up to 15 minutes; rejections of bad data raise
    AirflowFailException in the task and skip the retries. Only the last failed try alerts
    (``on_failure_callback``), so one failed task means one mail."""
    return {
        "owner": "salescast",
        "retries": settings.task_retries,
        "retry_delay": timedelta(seconds=settings.retry_delay_seconds),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=15),
        "execution_timeout": timedelta(minutes=30),
        "on_failure_callback": notify_failure,
    } | overrides


def start_date(settings: Settings) -> pendulum.DateTime:
    """``SALESCAST_START_DATE`` (midnight UTC): the first logical date a DAG runs for. Every
    DAG uses it, so ``make run`` can refuse an earlier date that Airflow would run no task for."""
    day = settings.start_date
    return pendulum.datetime(day.year, day.month, day.day, tz="UTC")


def sensor_kwargs(settings: Settings) -> dict[str, Any]:
    """Reschedule mode frees the worker slot between looks; a timeout fails (and alerts), no retry."""
    return {
        "mode": "reschedule",
        "poke_interval": settings.sensor_poke_seconds,
        "timeout": settings.sensor_timeout_seconds,
        "retries": 0,
    }
