"""One as-of day of demand drivers: archive, read, validate, quarantine, publish.

Sources drop drivers files into ``landing/drivers/D/``, D being the day the values were known
(their *as-of* day): a promotion calendar, planned prices, a weather forecast, yesterday's
stock levels. The files are wide (``date, store_id, item_id`` and one column per driver) and
are read with the sales files' rules (CSV, CSV.gz or Parquet; UTF-8, UTF-16 or Windows-1252;
any of , ; tab |). Each non-empty cell becomes one long row ``(date, store_id, item_id,
driver, value)``, and the ``drivers`` Great Expectations suite checks every row against the
reviewed mapping (:mod:`salescast.driver_mapping`): a driver not declared, a value outside
its range, a flag other than 0/1, an unreadable date or number, two values for one key in
the delivery: each such row goes to ``quarantine/drivers/dt=D/rows.parquet`` with its reason.
An empty cell says nothing (no row). The good rows are published to
``curated/drivers/asof=D/`` atomically; the forecast for a day reads the latest as-of value
of every key on or before it (:mod:`salescast.forecast.drivers_asof`).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salescast.driver_mapping import DriverMapping
from salescast.ingest.daytable import QUARANTINE_COLUMNS
from salescast.ingest.parsing import LINE, UnreadableFile, read_rows
from salescast.ingest.pipeline import ArchivedFile, archive_raw, replace_quarantine
from salescast.lake import DATA_FILE, DRIVERS, Lake, parquet_bytes
from salescast.publish import publish_partition
from salescast.validation import parameters_for, validate

log = logging.getLogger(__name__)

FEED = "drivers"
SUITE = "drivers"
KEYS = ("date", "store_id", "item_id")
COLUMNS = ["date", "store_id", "item_id", "driver", "value"]  # the curated table (plus asof)


class DriversRejected(Exception):
    """The delivery cannot be published; nothing was (the reasons are in the message)."""


@dataclass
class DriversResult:
    day: str
    files: list[str] = field(default_factory=list)
    cells: int = 0  # non-empty driver cells read, plus malformed records and unreadable files
    published_rows: int = 0
    quarantined: int = 0
    drivers: dict[str, int] = field(default_factory=dict)  # published rows per driver
    quarantine: str | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ingest_drivers_day(
    lake: Lake, day: date, run_id: str, mapping: DriverMapping, max_bad_fraction: float, names: list[str] | None = None
) -> DriversResult:
    """Archive, read, validate and publish the drivers delivered as of ``day``. Raises
    :class:`DriversRejected` (after writing the quarantine) when a file is unreadable or more
    than ``max_bad_fraction`` of the cells are bad; a re-run replaces the day's partition."""
    archived = archive_raw(lake, day, names, feed=FEED)
    result = DriversResult(day.isoformat(), files=[a.raw for a in archived])
    with tempfile.TemporaryDirectory(prefix="salescast-drivers-") as work:
        good, bad = read_delivery(lake, day, archived, mapping, Path(work), result)
        local = None
        if not bad.empty:
            local = Path(work) / "quarantine.parquet"
            bad = bad.assign(dt=day.isoformat(), run_id=run_id, **{LINE: bad[LINE].astype("int64")})
            local.write_bytes(parquet_bytes(bad[QUARANTINE_COLUMNS]))
        result.quarantine = replace_quarantine(lake, day, run_id, local, feed=FEED)
    result.quarantined = len(bad)
    if result.cells and len(bad) / result.cells > max_bad_fraction:
        result.problems.append(
            f"{len(bad)} of {result.cells} driver values bad ({len(bad) / result.cells:.1%}), above the "
            f"{max_bad_fraction:.1%} allowed by SALESCAST_MAX_BAD_ROW_FRACTION"
        )
    if result.problems:
        raise DriversRejected(
            f"drivers as of {day} rejected, nothing published: {'; '.join(result.problems)}. "
            f"Quarantine: {result.quarantine}. Fix the files in {lake.landing_dir(day, FEED)}/ and re-run the day"
        )
    good = good.assign(asof=day)
    result.published_rows = len(good)
    result.drivers = {str(k): int(v) for k, v in good["driver"].value_counts().sort_index().items()}
    staged = lake.staging_dir(DRIVERS, day) / DATA_FILE
    lake.write_bytes(staged, parquet_bytes(good.reset_index(drop=True)))
    manifest = {"dataset": "drivers", "asof": day.isoformat(), "run_id": run_id} | {
        k: v for k, v in result.to_dict().items() if k not in ("day", "problems")
    }
    publish_partition(lake, staged, lake.partition_dir(DRIVERS, day), manifest)
    lake.remove_tree(lake.staging_dir(DRIVERS, day))
    for warning in result.warnings:
        log.warning("drivers %s: %s", day, warning)
    return result


def read_delivery(
    lake: Lake, day: date, archived: list[ArchivedFile], mapping: DriverMapping, work: Path, result: DriversResult
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(good long rows, quarantined records) of the archived files; counts into ``result``."""
    copies = lake.local_copies([lake.raw_dir(day, FEED) / a.raw for a in archived], work / "raw")
    cells, bad = [], []
    for item, local in zip(archived, copies, strict=True):
        try:
            long, malformed = read_cells(item.raw, local.read_bytes())
        except UnreadableFile as error:
            result.problems.append(f"unreadable file {item.raw}: {error.reason}")
            bad.append(_quarantine(item.raw, [0], "file", [error.reason], [""]))
            result.cells += 1
            continue
        if long.empty and malformed.empty:
            result.warnings.append(f"{item.raw}: no driver values (header only, or every cell empty)")
        cells.append(long)
        bad.append(malformed)
        result.cells += len(long) + len(malformed)
    long = pd.concat(cells, ignore_index=True) if cells else _cells_frame([])
    good, invalid = validate_cells(long, mapping)
    return good, pd.concat([*bad, invalid], ignore_index=True) if bad or not invalid.empty else invalid


def read_cells(name: str, data: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One file as long rows (one per non-empty driver cell, as text), and its malformed records."""
    table, rows, malformed = read_rows(name, data)
    header = [h for h in table.header if h != LINE]
    lowered = {h.strip().lower(): h for h in header}
    missing = [k for k in KEYS if k not in lowered]
    if missing:
        raise UnreadableFile(name, f"no {', '.join(missing)} column: a drivers file has date, store_id, item_id "
                                   "and one column per driver")  # fmt: skip
    drivers = [h for h in header if h.strip().lower() not in KEYS]
    if not drivers:
        raise UnreadableFile(name, "no driver column besides date, store_id, item_id")
    keys = {k: rows[lowered[k]] for k in KEYS}
    parts = []
    for column in drivers:
        text = rows[column]
        given = text.notna() & (text.astype(str).str.strip() != "")
        parts.append(
            pd.DataFrame(
                {
                    "source_file": name,
                    LINE: rows.loc[given, LINE],
                    **{k: v[given] for k, v in keys.items()},
                    "driver": column.strip(),
                    "raw_value": text[given],
                }
            )
        )
    bad = _quarantine(name, [m.line_number for m in malformed], "record", [m.reason for m in malformed],
                      [m.raw for m in malformed])  # fmt: skip
    return _cells_frame(parts), bad


def _cells_frame(parts: list[pd.DataFrame]) -> pd.DataFrame:
    columns = ["source_file", LINE, *KEYS, "driver", "raw_value"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def _quarantine(name: str, lines: list[int], kind: str, reasons: list[str], raw: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"source_file": name, LINE: lines, "kind": kind, "reason": reasons, "raw": raw})


def validate_cells(long: pd.DataFrame, mapping: DriverMapping) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``drivers`` suite on the long rows: (good rows typed for the lake, bad rows with reasons)."""
    view = _suite_view(long, mapping)
    repeat = view.duplicated(["date", "store_id", "item_id", "driver", "value"]) & view["date"].notna()
    long, view = long[~repeat.to_numpy()].reset_index(drop=True), view[~repeat].reset_index(drop=True)
    outcome = validate(view, SUITE, parameters_for("") | {"declared_drivers": sorted(mapping.drivers)})
    if outcome.table_failures:
        raise DriversRejected("drivers suite failed on the whole table: " + "; ".join(outcome.table_failures))
    reasons = outcome.reasons_for(view.index)
    bad = reasons.notna().to_numpy()
    raw = long["driver"].astype(str) + "=" + long["raw_value"].astype(str) + " on " + long["date"].astype(str)
    raw += " for store_id=" + long["store_id"].astype(str) + ", item_id=" + long["item_id"].astype(str)
    invalid = long.loc[bad, ["source_file", LINE]].assign(kind="value", reason=reasons[bad], raw=raw[bad])
    good = view.loc[~bad, COLUMNS].copy()
    good["date"] = pd.to_datetime(good["date"]).dt.date
    good["value"] = good["value"].astype("float64")
    return good.reset_index(drop=True), invalid.reset_index(drop=True)


def _suite_view(long: pd.DataFrame, mapping: DriverMapping) -> pd.DataFrame:
    """What the suite reads: typed date and value (None where the text does not parse), each
    row's bounds from the mapping (NaN for an undeclared driver), flags apart, and ``shown``
    (the cell as written) for the reasons. Exact repeats of a row (one file sent twice) are
    one row (:func:`validate_cells`); two different values for one key stay two, and the suite
    refuses both."""
    dates = pd.to_datetime(long["date"].astype(str).str.strip(), format="ISO8601", errors="coerce")
    values = pd.to_numeric(long["raw_value"].astype(str).str.strip(), errors="coerce").astype("float64")
    specs = [mapping.drivers.get(str(d)) for d in long["driver"]]
    view = pd.DataFrame(
        {
            "date": [d.date().isoformat() if d is not pd.NaT and d == d.normalize() else None for d in dates],
            "store_id": long["store_id"].map(lambda v: v.strip() if isinstance(v, str) and v.strip() else None),
            "item_id": long["item_id"].map(lambda v: v.strip() if isinstance(v, str) and v.strip() else None),
            "driver": long["driver"].astype(str),
            "declared": [s is not None for s in specs],
            "value": values.where(np.isfinite(values)),
            "low": [s.low if s else np.nan for s in specs],
            "high": [s.high if s else np.nan for s in specs],
            "flag": [v if s and s.kind == "flag" and v == v else None for s, v in zip(specs, values, strict=True)],
            "shown": long["driver"].astype(str) + "=" + long["raw_value"].astype(str),
            "raw_date": long["date"].astype(str),
        },
        index=long.index,
    )
    return view
