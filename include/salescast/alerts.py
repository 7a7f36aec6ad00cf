"""Failure alerts: an email per failed task to ``SALESCAST_ALERT_EMAILS``.

Sending goes through the SMTP provider's notifier on the ``smtp_default`` connection
(``SALESCAST_SMTP_CONN_ID`` to change it). An alert that cannot be sent is logged and
swallowed: a broken mail server must never change a task's state.
"""

from __future__ import annotations

import html
import logging
import os
import traceback
from typing import Any

log = logging.getLogger(__name__)


def _first_lines(exception: BaseException | None, limit: int = 12) -> str:
    if exception is None:
        return "(no exception recorded)"
    text = "".join(traceback.format_exception_only(type(exception), exception)).strip()
    return "\n".join(text.splitlines()[:limit])


def alert_subject(context: dict[str, Any]) -> str:
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    try_number = getattr(ti, "try_number", "?")
    return f"[salescast] {dag_id}.{task_id} failed for {context.get('ds', '?')} (try {try_number})"


def alert_body(context: dict[str, Any]) -> str:
    ti = context.get("ti") or context.get("task_instance")
    fields = {
        "DAG": getattr(ti, "dag_id", "?"),
        "Task": getattr(ti, "task_id", "?"),
        "Logical date": context.get("ds", "?"),
        "Run": getattr(ti, "run_id", "?"),
        "Try": getattr(ti, "try_number", "?"),
        "Log": getattr(ti, "log_url", None) or "(no log URL)",
    }
    rows = "".join(f"<tr><th align='left'>{k}</th><td>{html.escape(str(v))}</td></tr>" for k, v in fields.items())
    error = html.escape(_first_lines(context.get("exception")))
    return f"<h3>salescast task failed</h3><table>{rows}</table><pre>{error}</pre>"


def notify_failure(context: dict[str, Any]) -> None:
    """``on_failure_callback`` for every salescast DAG and task."""
    from salescast.config import Settings

    try:
        recipients = list(Settings.from_env().alert_emails)
    except Exception:  # a bad setting must not hide the original failure
        log.exception("alert settings are invalid; no alert sent")
        return
    if not recipients:
        log.warning("SALESCAST_ALERT_EMAILS is empty; no alert sent for %s", alert_subject(context))
        return
    try:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        SmtpNotifier(
            to=recipients,
            subject=alert_subject(context),
            html_content=alert_body(context),
            smtp_conn_id=os.environ.get("SALESCAST_SMTP_CONN_ID", "smtp_default"),
        ).notify(context)
        log.info("alert sent to %s", ", ".join(recipients))
    except Exception:
        log.exception("could not send the failure alert to %s", ", ".join(recipients))
