"""The DAG-run tab: what one run of ``sales_ingest`` or ``sales_forecast`` left in the lake.

A run is found in Airflow's metadata DB (its logical date is the day every task keyed its
outputs on); its outputs are then read from the lake: for ingest the validation result, the
day's quarantined rows of this run and the archived raw files; for forecast the run report
and summary. A re-run of the same day replaces the day's outputs: the answers say so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date
from typing import TYPE_CHECKING, Any

from salescast.csv_safe import csv_chunks
from salescast.dashboard.jsonable import clean
from salescast.dashboard.params import NotFound
from salescast.lake import FINAL_FORECASTS, RUN_DATASETS, Lake, fit_name, is_data_file_name, safe_run_id
from salescast.publish import read_manifest

if TYPE_CHECKING:
    import pandas as pd
    from airflow.sdk import ObjectStoragePath

INGEST, FORECAST = "sales_ingest", "sales_forecast"
MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".png": "image/png", ".json": "application/json"}
CSV_CHUNK = 1000


@dataclass(frozen=True)
class RunRef:
    dag_id: str
    run_id: str
    day: date
    state: str


def find_run(dag_id: str, run_id: str) -> RunRef:
    """The run in Airflow's metadata DB, and the day (UTC logical date) its tasks wrote for."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session(scoped=False) as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        if run is None:
            raise NotFound(f"DAG {dag_id!r} has no run {run_id!r}")
        if run.logical_date is None:
            raise NotFound(f"run {run_id!r} has no logical date, so salescast wrote nothing for it")
        return RunRef(dag_id, run_id, run.logical_date.astimezone(UTC).date(), str(run.state))


def _json(lake: Lake, path: ObjectStoragePath) -> Any:
    return lake.read_json(path) if path.exists() else None


def report_folder(lake: Lake, ref: RunRef) -> ObjectStoragePath:
    if ref.dag_id == INGEST:
        return lake.ingest_report_dir(ref.day, ref.run_id)
    return lake.reports_dir(ref.day)


def report_files(lake: Lake, ref: RunRef) -> list[str]:
    return [p.name for p in lake.list_files(report_folder(lake, ref)) if is_data_file_name(p.name)]


def raw_files(lake: Lake, ref: RunRef) -> list[ObjectStoragePath]:
    return [p for p in lake.list_files(lake.raw_dir(ref.day)) if is_data_file_name(p.name)]


def _suite(result: dict[str, Any]) -> dict[str, Any]:
    """A GX suite result, condensed to what failed and why."""
    failed = []
    for item in result.get("results", []):
        if item.get("success"):
            continue
        config = item.get("expectation_config", {})
        outcome = item.get("result", {})
        failed.append(
            {
                "expectation": config.get("type"),
                "column": config.get("kwargs", {}).get("column"),
                "reason": config.get("meta", {}).get("reason"),
                "unexpected_count": outcome.get("unexpected_count"),
                "unexpected_percent": outcome.get("unexpected_percent"),
            }
        )
    return {
        "suite": result.get("suite_name"),
        "success": result.get("success"),
        "statistics": result.get("statistics"),
        "failed": failed,
    }


def ingest_overview(lake: Lake, ref: RunRef) -> dict[str, Any]:
    validation = _json(lake, lake.ingest_report_dir(ref.day, ref.run_id) / "validation.json") or {}
    summary = validation.get("summary")
    read_by_run = set(summary.get("files", [])) if summary else set()
    manifest = read_manifest(lake, lake.curated_dir(ref.day))
    rows, written_by = quarantine_rows(lake, ref)
    return {
        "validation": summary,
        "suites": [_suite(s) for s in validation.get("suites", [])],
        "quarantine": {"rows": len(rows), "file_written_by": written_by},
        "raw_files": [
            {"name": p.name, "bytes": p.stat().get("size"), "read_by_this_run": p.name in read_by_run}
            for p in raw_files(lake, ref)
        ],
        "published": _published(manifest, ref),
    }


def _published(manifest: dict[str, Any] | None, ref: RunRef) -> dict[str, Any] | None:
    if not manifest:
        return None
    return {
        "rows": manifest.get("rows"),
        "run_id": manifest.get("run_id"),
        "by_this_run": manifest.get("run_id") == ref.run_id,
    }


def forecast_overview(lake: Lake, ref: RunRef) -> dict[str, Any]:
    folder = lake.reports_dir(ref.day)
    summary = _json(lake, folder / "forecast_summary.json")
    validation = _json(lake, folder / "forecast_validation.json")
    backtest = (summary or {}).get("backtest", {})
    keep = (
        "series", "model_mix", "fallbacks", "skipped_models", "imputed_days", "imputed_store_days",
        "missing_stores", "safety_stock", "horizon", "freq", "overrides", "cold_start",
    )  # fmt: skip
    return {
        "summary": None
        if summary is None
        else {k: summary.get(k) for k in keep}
        | {
            "run_id": summary.get("run_id"),
            "bake_off": backtest.get("bake_off"),
            "per_model": backtest.get("per_model"),
        },
        "outputs_of_this_run": bool(summary) and summary.get("run_id") == ref.run_id,
        "validation": None if validation is None else {k: validation.get(k) for k in ("success", "statistics")},
        "published": {
            name: _published(read_manifest(lake, lake.partition_dir(dataset, ref.day)), ref)
            for name, dataset in (*RUN_DATASETS.items(), (FINAL_FORECASTS.folder, FINAL_FORECASTS))
        },
        "report": "index.html" if (folder / "index.html").exists() else None,
    }


def overview(lake: Lake, ref: RunRef) -> dict[str, Any]:
    base = {"dag_id": ref.dag_id, "run_id": ref.run_id, "day": ref.day.isoformat(), "state": ref.state}
    if ref.dag_id == INGEST:
        details = ingest_overview(lake, ref)
    elif ref.dag_id == FORECAST:
        details = forecast_overview(lake, ref)
    else:
        raise NotFound(f"salescast shows runs of {INGEST} and {FORECAST}, not {ref.dag_id}")
    return clean(base | {"kind": ref.dag_id, "files": report_files(lake, ref)} | details)


def quarantine_rows(lake: Lake, ref: RunRef) -> tuple[pd.DataFrame, str | None]:
    """This run's quarantined records, and the run that wrote the day's file (a later re-run
    replaces it, so an older run's rows are then gone from the lake)."""
    import pandas as pd

    path = lake.quarantine_file(ref.day)
    if not path.exists():
        return pd.DataFrame(columns=["dt", "run_id", "source_file", "line_number", "kind", "reason", "raw"]), None
    frame = lake.read_parquet(path)
    writers = sorted(set(frame["run_id"].astype(str)))
    return frame[frame["run_id"] == ref.run_id].reset_index(drop=True), ", ".join(writers) or None


def _jsonable(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.astype(object).where(frame.notna(), None)
    if "dt" in out.columns:
        out["dt"] = out["dt"].map(lambda d: None if d is None else str(d)[:10])
    return clean(out.to_dict("records"))


def quarantine_page(lake: Lake, ref: RunRef, limit: int, offset: int) -> dict[str, Any]:
    rows, written_by = quarantine_rows(lake, ref)
    return {
        "total": len(rows),
        "offset": offset,
        "limit": limit,
        "file_written_by": written_by,
        "rows": _jsonable(rows.iloc[offset : offset + limit]),
    }


def quarantine_csv(lake: Lake, ref: RunRef) -> Iterator[str]:
    """The run's quarantined records as CSV, a chunk of rows at a time. Records and file names
    come from sources: :mod:`salescast.csv_safe` keeps their cells from running as formulas."""
    rows, _ = quarantine_rows(lake, ref)
    return csv_chunks(rows, CSV_CHUNK)


def csv_name(ref: RunRef) -> str:
    return fit_name(f"quarantine_{ref.day.isoformat()}_{safe_run_id(ref.run_id)}.csv")


def read_chunks(path: ObjectStoragePath, size: int = 1 << 20) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            yield chunk


def media_type(name: str) -> str | None:
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return MEDIA_TYPES.get(suffix)
