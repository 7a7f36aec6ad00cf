"""Failure alerts: one email per failed task to ``SALESCAST_ALERT_EMAILS``.

Sending goes through the SMTP provider's notifier on the ``smtp_default`` connection
(``SALESCAST_SMTP_CONN_ID`` to change it). Task callbacks fire on the last failed try only
(retries call ``on_retry_callback``, which we leave unset), so a task that fails after its
retries sends one mail. The DAG-level callback mails only when a run fails without a failed
task (``dagrun_timeout``, deadlock), so no failure is reported twice. An alert that cannot be
sent is logged and swallowed: a broken mail server must never change a task's state.
"""

from __future__ import annotations

import html
import logging
import traceback
from typing import Any

log = logging.getLogger(__name__)


def _first_lines(exception: BaseException | str | None, limit: int = 12) -> str:
    if exception is None:
        return "(no exception recorded)"
    if isinstance(exception, str):
        text = exception
    else:
        text = "".join(traceback.format_exception_only(type(exception), exception)).strip()
    return "\n".join(text.splitlines()[:limit])


def _ti(context: dict[str, Any]) -> Any:
    return context.get("ti") or context.get("task_instance")


def _dag_id(context: dict[str, Any]) -> str:
    ti, dag = _ti(context), context.get("dag")
    return getattr(ti, "dag_id", None) or getattr(dag, "dag_id", None) or "?"


def _logical_date(context: dict[str, Any]) -> str:
    return str(context.get("ds") or context.get("run_id") or "?")


def alert_subject(context: dict[str, Any]) -> str:
    ti = _ti(context)
    if ti is None:
        return f"[salescast] {_dag_id(context)} run failed for {_logical_date(context)} ({context.get('reason', '?')})"
    return (
        f"[salescast] {_dag_id(context)}.{getattr(ti, 'task_id', '?')} failed for {_logical_date(context)} "
        f"(try {getattr(ti, 'try_number', '?')})"
    )


def alert_body(context: dict[str, Any]) -> str:
    ti = _ti(context)
    fields = {
        "DAG": _dag_id(context),
        "Task": getattr(ti, "task_id", "(the whole run)"),
        "Logical date": _logical_date(context),
        "Run": getattr(ti, "run_id", None) or context.get("run_id", "?"),
        "Try": getattr(ti, "try_number", "?"),
        "Log": _log_url(ti),
    }
    rows = "".join(f"<tr><th align='left'>{k}</th><td>{html.escape(str(v))}</td></tr>" for k, v in fields.items())
    link = fields["Log"]
    anchor = f"<p><a href='{html.escape(link)}'>Open the task log</a></p>" if link.startswith("http") else ""
    error = html.escape(_first_lines(context.get("exception") or context.get("reason")))
    return f"<h3>salescast task failed</h3><table>{rows}</table>{anchor}<pre>{error}</pre>"


def ui_url(path: str) -> str:
    """``path`` under the UI's ``[api] base_url`` (``AIRFLOW__API__BASE_URL``), or "" when unset."""
    try:
        from airflow.configuration import conf

        base = conf.get("api", "base_url", fallback="") or ""
    except Exception:  # no Airflow config here: a mail without a link beats no mail
        return ""
    return f"{base.rstrip('/')}/{path.lstrip('/')}" if base.startswith("http") else ""


def _log_url(ti: Any) -> str:
    """The task's page in the UI; its base is Airflow's ``[api] base_url``
    (``AIRFLOW__API__BASE_URL``), so mails link to the UI users actually open."""
    try:
        return str(ti.log_url) if ti is not None else "(no task)"
    except Exception:  # an incomplete context must not stop the alert
        return "(no log URL)"


def send_mail(subject: str, body: str, what: str = "failure alert") -> bool:
    """One HTML mail to ``SALESCAST_ALERT_EMAILS``; False (logged) when none could be sent."""
    from salescast.config import Settings

    try:
        settings = Settings.from_env()
    except Exception:  # a bad setting must not hide the original failure
        log.exception("alert settings are invalid; no alert sent")
        return False
    recipients = list(settings.alert_emails)
    if not recipients:
        log.warning("SALESCAST_ALERT_EMAILS is empty; no alert sent for %s", subject)
        return False
    try:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        SmtpNotifier(
            to=recipients,
            from_email=settings.alert_from,
            subject=subject,  # .notify() sends these as written (no Jinja)
            html_content=body,
            smtp_conn_id=settings.smtp_conn_id,
        ).notify({})
        log.info("%s sent to %s", what, ", ".join(recipients))
        return True
    except Exception:
        log.exception("could not send the %s to %s", what, ", ".join(recipients))
        return False


def _send(context: dict[str, Any]) -> None:
    send_mail(alert_subject(context), alert_body(context))


def notify_failure(context: dict[str, Any]) -> None:
    """Task ``on_failure_callback`` (in every DAG's default_args): one mail per failed task."""
    _send(context)


def notify_dag_failure(context: dict[str, Any]) -> None:
    """DAG ``on_failure_callback``: mails only when no task alert already covers the failure."""
    if context.get("reason") == "task_failure":
        log.info("run failed because a task failed; that task's alert covers it")
        return
    _send(context)
