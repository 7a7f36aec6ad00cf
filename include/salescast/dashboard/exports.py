"""The Forecasts page's download: one run's planner export (``exports/run_date=D/forecast.csv.gz``,
written by :mod:`salescast.forecast.export`) cut to the page's search filters, streamed as CSV.

It reads the export file, not the Parquet tables, so the button gives a planner the same rows,
columns and numbers that QuickSight and the spreadsheets get from that file, only fewer. The
gzip is decompressed and parsed a chunk of rows at a time (from the local disk or by ranged S3
reads): a 10,000-series run is never held in memory whole. Each chunk goes out through
:mod:`salescast.csv_safe`; the export was written that way, so its escaped cells pass unchanged
(``'=x`` stays ``'=x``) and a file put there by other means still opens safely. The filters
compare the ids as they were (escape dropped), by :mod:`salescast.dashboard.search`'s rule.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import IO, TYPE_CHECKING, Any

import pandas as pd

from salescast.csv_safe import csv_header, csv_rows, original_cell
from salescast.dashboard import search
from salescast.dashboard.params import NotFound
from salescast.forecast.export import EXPORT_FILE, FINAL, STATISTICAL
from salescast.lake import EXPORTS, FORECASTS, Lake, fit_name
from salescast.publish import is_published

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

CHUNK_ROWS = 5000
NUMBERS = {"horizon_step": "int64", **dict.fromkeys(STATISTICAL + FINAL, "float64")}  # every other column is text
NEEDED = ("store_id", "item_id")


def export_file(lake: Lake, run_date: str) -> ObjectStoragePath:
    """The run's published export, or NotFound saying why there is none."""
    day = date.fromisoformat(run_date)
    partition = lake.partition_dir(EXPORTS, day)
    if is_published(partition) and (partition / EXPORT_FILE).exists():
        return partition / EXPORT_FILE
    if not is_published(lake.partition_dir(FORECASTS, day)):
        raise NotFound(f"no forecast run of {run_date} is published")
    raise NotFound(
        f"forecast run {run_date} has no export ({EXPORTS.folder}/{EXPORTS.key}={run_date}/{EXPORT_FILE}): "
        "it was published before runs wrote exports; re-run sales_forecast for that day to write one"
    )


def export_csv(lake: Lake, run_date: str, chosen: Mapping[str, str | None]) -> Iterator[str]:
    """The export's header, then its rows that match ``chosen`` (search filters), as CSV text.

    The file is opened and its header read here, before the response starts, so a missing or
    unreadable export is a 404 with a reason, not a stream cut short."""
    path = export_file(lake, run_date)
    try:
        handle = path.open("rb")
    except FileNotFoundError:  # unpublished between the check and the read
        raise NotFound(f"the export of {run_date} was replaced while it was read: try again") from None
    text = io.TextIOWrapper(gzip.GzipFile(fileobj=handle), encoding="utf-8", newline="")
    try:
        columns = next(csv.reader([text.readline()]), [])
    except (OSError, EOFError, UnicodeDecodeError):
        columns = []
    if any(name not in columns for name in NEEDED):
        text.close()
        handle.close()
        raise NotFound(f"the export of {run_date} is not a readable forecast export (no store_id, item_id header)")
    return _rows(handle, text, columns, chosen)


def _rows(handle: IO[bytes], text: IO[str], columns: list[str], chosen: Mapping[str, str | None]) -> Iterator[str]:
    """The header and the matching rows; closes the file when done or abandoned."""
    try:
        yield csv_header(columns)
        types: dict[str, Any] = {c: NUMBERS.get(c, str) for c in columns}
        with pd.read_csv(
            text, names=columns, header=None, dtype=types, keep_default_na=False,
            na_values={c: [""] for c in NUMBERS if c in columns}, chunksize=CHUNK_ROWS,
        ) as chunks:  # fmt: skip
            for chunk in chunks:
                ids = {name: chunk[name].map(original_cell) for name in NEEDED}
                yield from csv_rows(chunk[search.series_mask(ids["store_id"], ids["item_id"], chosen)], CHUNK_ROWS)
    except pd.errors.EmptyDataError:  # a header and no rows
        return
    finally:
        text.close()
        handle.close()  # GzipFile leaves a file it was given open


def download_name(run_date: str, chosen: Mapping[str, str | None]) -> str:
    """``forecast_<run date>[_store-<text>][_item-<text>][_q-<text>].csv``, safe on every system."""
    parts = [f"{name}-{_slug(str(chosen[name]))}" for name in search.FIELDS if chosen.get(name)]
    return fit_name("_".join([f"forecast_{run_date}", *parts]) + ".csv")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "-"
