"""What each ``sales_ingest`` task does, as plain functions of (logical date, run id).

The DAG file only wires these together. Settings are read when a task runs, never when
the DAG is parsed, and rejections become ``AirflowFailException`` so Airflow does not
retry what only a fixed input can cure.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from salescast.config import Settings
from salescast.ingest.pipeline import ArchivedFile, archive_raw, check_landing_ready, publish_day, standardize_day
from salescast.lake import Lake, partition_day


def landing_readiness(ds: str) -> tuple[bool, list[str], str]:
    settings = Settings.from_env()
    readiness = check_landing_ready(Lake.from_settings(settings), partition_day(ds), settings.landing_settle_seconds)
    return readiness.ready, readiness.files, readiness.detail


def archive_landing(ds: str, files: list[str]) -> list[dict[str, Any]]:
    lake = Lake.from_settings(Settings.from_env())
    return [asdict(a) for a in archive_raw(lake, partition_day(ds), files)]


def validate_landing(ds: str, run_id: str, archived: list[dict[str, Any]]) -> dict[str, Any]:
    from airflow.sdk.exceptions import AirflowFailException

    settings = Settings.from_env()
    result = standardize_day(
        Lake.from_settings(settings),
        partition_day(ds),
        run_id,
        [ArchivedFile(**a) for a in archived],
        settings.max_bad_row_fraction,
    )
    if not result.healthy:
        raise AirflowFailException(
            f"sales for {ds} rejected, nothing published: {'; '.join(result.problems)}. "
            f"Quarantine: {result.quarantine}. Report: {result.report}"
        )
    return result.to_dict()


def publish_curated(ds: str, run_id: str, result: dict[str, Any]) -> dict[str, Any]:
    lake = Lake.from_settings(Settings.from_env())
    return publish_day(lake, partition_day(ds), run_id, result)
