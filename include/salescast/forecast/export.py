"""The planners' export of one forecast run: ``exports/run_date=D/forecast.csv.gz`` and a
QuickSight manifest beside it, staged here and published by ``publish_forecasts`` in the same
commit as the run's tables (so the export and ``forecasts/run_date=D`` are always one run).

The CSV has a stable shape a QuickSight dataset can be built on once: the statistical
quantiles, the final ones (after planners' overrides, :mod:`salescast.forecast.overrides`;
equal to the statistical ones where none applies), the override that made each final row, and
the item's ``category`` from the item master as of the run date (empty without one). It is
written by :mod:`salescast.csv_safe`, so a text cell a spreadsheet would run as a formula gets
a leading ``'``. The manifest follows QuickSight's S3 manifest format (``fileLocations`` /
``globalUploadSettings``) and names the export's own location: an ``s3://`` URI on S3; on a
``file://`` lake a ``file://`` URI, which QuickSight cannot read (it reads from S3 only).
docs/data-contracts.md, "Planner export".
"""

from __future__ import annotations

import gzip
import io
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from salescast.contracts import CATALOG_QUANTILE_COLUMNS
from salescast.csv_safe import csv_chunks
from salescast.lake import EXPORTS, Lake
from salescast.publish import Staged

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

EXPORT_FILE = "forecast.csv.gz"
QUICKSIGHT_MANIFEST = "quicksight-manifest.json"  # QuickSight wants a .json name for its own format
KEYS = ["run_date", "store_id", "item_id", "category", "date", "horizon_step", "model"]
STATISTICAL = [f"statistical_{q}" for q in CATALOG_QUANTILE_COLUMNS]  # the engine's quantiles
FINAL = [f"final_{q}" for q in CATALOG_QUANTILE_COLUMNS]  # after overrides
TRACE = ["override_id", "override_author", "override_reason"]
COLUMNS = KEYS + STATISTICAL + FINAL + TRACE


def export_frame(forecasts: pd.DataFrame, final: pd.DataFrame, categories: pd.Series | None = None) -> pd.DataFrame:
    """The export's rows: one per row of the published ``forecasts`` table, in its order, with
    the ``final`` table's quantiles and trace (the same rows, same order) and the category of
    each item (``categories``: item_id -> category; None or a missing item: empty)."""
    out = forecasts[["run_date", "store_id", "item_id"]].copy()
    mapped = forecasts["item_id"].map(categories) if categories is not None else None
    out["category"] = mapped if mapped is not None else pd.Series([None] * len(out), index=out.index, dtype=object)
    for column in ("date", "horizon_step", "model"):
        out[column] = forecasts[column]
    for quantile, statistical, after in zip(CATALOG_QUANTILE_COLUMNS, STATISTICAL, FINAL, strict=True):
        out[statistical] = forecasts[quantile].astype(float)
        out[after] = final[quantile].to_numpy(dtype=float)
    for column in TRACE:
        out[column] = final[column].to_numpy()
    return out[COLUMNS].reset_index(drop=True)


def csv_gz_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as gzip-compressed UTF-8 CSV (no BOM, header first, text cells quoted with ``"``)
    through :func:`salescast.csv_safe.csv_chunks`; no timestamp in the gzip header, so the same
    rows give the same bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as handle:
        for chunk in csv_chunks(frame):
            handle.write(chunk.encode("utf-8"))
    return buffer.getvalue()


def quicksight_manifest(uri: str) -> dict[str, Any]:
    """A QuickSight S3 manifest naming exactly one file (``URIs``, not a prefix: the partition
    also holds ``_SUCCESS`` and the manifest itself)."""
    return {
        "fileLocations": [{"URIs": [uri]}],
        "globalUploadSettings": {"format": "CSV", "delimiter": ",", "textqualifier": '"', "containsHeader": "true"},
    }


def export_uri(lake: Lake, day: date, name: str = EXPORT_FILE) -> str:
    """Where ``name`` of the export of ``day`` lives, as a URI (``s3://bucket/...`` or ``file:///...``)."""
    base = Path(lake.root.path).as_uri() if lake.is_local else lake.uri
    return f"{base}/{EXPORTS.folder}/{EXPORTS.key}={day.isoformat()}/{name}"


def stage_export(
    lake: Lake,
    day: date,
    run_id: str,
    forecasts: pd.DataFrame,
    final: pd.DataFrame,
    categories: pd.Series | None,
    staging: ObjectStoragePath,
) -> list[Staged]:
    """Write the export and its manifest under ``staging``; the two files of the commit that
    publishes them in ``exports/run_date=D/`` (the CSV carries the partition's ``_SUCCESS``)."""
    frame = export_frame(forecasts, final, categories)
    partition = lake.partition_dir(EXPORTS, day)
    lake.write_bytes(staging / EXPORT_FILE, csv_gz_bytes(frame))
    lake.write_json(staging / QUICKSIGHT_MANIFEST, quicksight_manifest(export_uri(lake, day)))
    marker = {"dataset": EXPORTS.folder, "run_date": day.isoformat(), "run_id": run_id, "rows": len(frame)}
    marker["files"] = [EXPORT_FILE, QUICKSIGHT_MANIFEST]
    return [
        Staged(str(staging / QUICKSIGHT_MANIFEST), str(partition / QUICKSIGHT_MANIFEST)),
        Staged(str(staging / EXPORT_FILE), str(partition / EXPORT_FILE), marker),
    ]
