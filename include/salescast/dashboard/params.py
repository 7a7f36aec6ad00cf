"""Checks of what a request names (series, run dates, run ids, file names), with messages a
user can act on. Nothing here builds a path: names are looked up among what the lake lists."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from salescast import ids

_ISO_DAY = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
_DAG_ID = re.compile(r"\A[A-Za-z0-9_.-]{1,250}\Z")  # Airflow's KEY_REGEX for dag ids
# Airflow's generated run ids (airflow.models.dagrun.RUN_ID_REGEX); others must match
# [scheduler] allowed_run_id_pattern, which the app passes in.
_GENERATED_RUN_ID = re.compile(r"\A(?:manual|scheduled|asset_triggered)__\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00\Z")
MAX_ID = 200


class BadRequest(ValueError):
    """A parameter is malformed (HTTP 400)."""


class NotFound(LookupError):
    """A well-formed parameter names nothing the lake or Airflow holds (HTTP 404)."""


def _printable(value: str) -> bool:
    return not any(unicodedata.category(ch).startswith("C") for ch in value)


def series_id(name: str, value: str | None) -> str:
    """A store or item id by the rule ingest applies (:mod:`salescast.ids`), normalised the
    same way: whatever ingest published is accepted, and only that can be."""
    if value is None or not value.strip():
        raise BadRequest(f"{name} is required")
    value = ids.normalise(value)
    problem = ids.problem(name, value)
    if problem:
        raise BadRequest(f"{name} is not a valid id: {problem}")
    return value


def search_text(name: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > MAX_ID or not _printable(value):
        raise BadRequest(f"{name} must be at most {MAX_ID} printable characters")
    return value


def run_date(value: str | None) -> str | None:
    """``YYYY-MM-DD`` and a real day, or None."""
    if value is None or value == "":
        return None
    try:
        if not _ISO_DAY.match(value):
            raise ValueError(value)
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise BadRequest(f"run_date {value[:40]!r} is not a date (YYYY-MM-DD)") from None


def dag_id(value: str) -> str:
    if not _DAG_ID.match(value):
        raise BadRequest("dag_id is malformed (letters, digits, '_', '.', '-')")
    return value


def run_id(value: str, allowed_pattern: str) -> str:
    """What Airflow accepts as a run id: a generated one, or one matching the configured pattern."""
    if len(value) > 250 or not _printable(value):
        raise BadRequest("run_id is malformed")
    if _GENERATED_RUN_ID.match(value) or re.match(allowed_pattern, value):
        return value
    raise BadRequest(f"run_id is malformed: it must match {allowed_pattern!r}")


def file_name(value: str, available: list[str]) -> str:
    """One of the names the lake listed for that folder (so ``..``, ``/``, NUL cannot name
    anything else); the error says which names exist."""
    if value in available:
        return value
    if not value or len(value) > 255 or not _printable(value) or "/" in value or "\\" in value or value in (".", ".."):
        raise BadRequest("file name is malformed")
    listed = ", ".join(available[:20]) or "none"
    raise NotFound(f"no file {value[:80]!r} here; available: {listed}")
