"""Cold start in the ``sales_forecast`` DAG: what plan, each shard and publish do for it
(salescast.forecast.tasks calls one function of this module in each).

With no item master published on or before the run date, none of these does anything and
the run is exactly what it was without the feed. With one, plan resolves it as of the run
date (salescast.forecast.items_asof), runs :func:`salescast.forecast.cold_start.plan_cold_start`
on the history snapshot's rows of the master's items and their analogs (it needs every
store's and every shard's series of a category at once, so it runs in plan, not in a shard)
and stages its rows and the series the bake-off leaves out under the run's staging folder;
each shard leaves those series out of its bake-off; publish adds the cold-start rows to the
same forecasts, metrics and safety-stock tables (one GX validation, one commit, the same
export) and their summary to the run summary.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from salescast.config import Settings
from salescast.forecast.cold_start import SKIP_COLUMNS, plan_cold_start
from salescast.forecast.config import ForecastConfig
from salescast.forecast.items_asof import items_as_of
from salescast.forecast.models.registry import COLD_START
from salescast.lake import ITEMS, Lake

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from salescast.forecast.shards import SeriesScan

log = logging.getLogger(__name__)

FOLDER = "cold_start"  # under the run's staging folder
TABLES = ("forecasts", "metrics", "safety_stock")
SKIP_FILE = "skip.parquet"


def has_item_master(lake: Lake, day: date) -> bool:
    """Whether an items delivery was published on or before ``day``."""
    return any(d <= day.isoformat() for d in lake.published_partitions(ITEMS))


def stage_cold_start(
    lake: Lake, settings: Settings, day: date, inputs: list[Path], days: list[str], scan: SeriesScan,
    staging: ObjectStoragePath,
) -> dict[str, Any] | None:  # fmt: skip
    """In plan: cold start from the history snapshot (``inputs``, the files of ``days``),
    staged for the shards and publish; the plan's entry, or None without an item master.

    A cold start that fails (a bug, data no rule foresaw) does not hold up every other
    series' forecast: the run goes on as without an item master, and its summary says why
    (``cold_start.error``)."""
    if not has_item_master(lake, day):
        return None
    try:
        return _stage(lake, settings, day, inputs, days, scan, staging)
    except Exception as error:  # any failure of the cold start: reported, not fatal
        log.exception("cold start failed for %s; forecasting as without an item master", day)
        return {"error": f"{type(error).__name__}: {error}"}


def _stage(
    lake: Lake, settings: Settings, day: date, inputs: list[Path], days: list[str], scan: SeriesScan,
    staging: ObjectStoragePath,
) -> dict[str, Any]:  # fmt: skip
    known = items_as_of(lake, day)
    analogs = {a for a in known.items["analog_item_id"] if isinstance(a, str) and a}
    assert scan.first_day is not None  # plan refused an empty history before
    history = _rows_of(inputs, set(known.items["item_id"]) | analogs, scan.first_day)
    missing = settings.delivery_rule.missing_by_day(dict(zip(days, scan.stores, strict=True)))
    cfg = ForecastConfig.from_settings(settings)
    plan = plan_cold_start(
        history, known.items, known.listings, cfg, pd.Timestamp(day), pd.DatetimeIndex(days), missing
    )
    folder = staging / FOLDER
    for name, frame in zip(TABLES, (plan.forecasts, plan.metrics, plan.safety_stock), strict=True):
        lake.write_parquet(folder / f"{name}.parquet", frame)
    lake.write_parquet(folder / SKIP_FILE, plan.skip)
    return {"folder": str(folder), "items_as_of": known.to_summary(), "summary": plan.summary.to_dict()}


def _rows_of(inputs: list[Path], items: set[str], first_day: date) -> pd.DataFrame:
    """The snapshot's rows of ``items``, and a zero row of a placeholder series ("", "") on
    the first day, so the cold start's panel starts where every shard's does."""
    import pyarrow.parquet as pq

    columns, wanted = ["date", "store_id", "item_id", "units"], [("item_id", "in", sorted(items or {""}))]
    frames = [pq.read_table(path, columns=columns, filters=wanted).to_pandas() for path in inputs]
    frames.append(pd.DataFrame({"date": [first_day], "store_id": [""], "item_id": [""], "units": [0.0]}))
    return pd.concat(frames, ignore_index=True)


def shard_skip(lake: Lake, plan: dict[str, Any], history: pd.DataFrame) -> list[tuple[str, str]] | None:
    """In a shard: the series of its history the bake-off leaves out (cold-started or
    discontinued); None without an item master."""
    entry = plan.get("cold_start") or {}
    if not entry.get("folder"):
        return None
    skip = lake.read_parquet(lake.path(entry["folder"]) / SKIP_FILE)
    keys = history[SKIP_COLUMNS].astype(str).drop_duplicates()
    found = keys.merge(skip.astype(str), on=SKIP_COLUMNS)
    return list(found.itertuples(index=False, name=None))


def add_cold_start(lake: Lake, plan: dict[str, Any], tables: dict[str, list[pd.DataFrame]]) -> None:
    """In publish: the cold start's rows join the shards' tables (in place)."""
    entry = plan.get("cold_start") or {}
    if not entry.get("folder"):
        return
    for name in TABLES:
        frame = lake.read_parquet(lake.path(entry["folder"]) / f"{name}.parquet")
        if not frame.empty:
            tables[name].append(frame)


def cold_start_summary(plan: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    """The run summary with the cold start's: its series counted in ``series`` and
    ``model_mix``, and a ``cold_start`` entry (bases, discontinued items, what was not
    forecast and why, the item master deliveries used)."""
    entry = plan.get("cold_start")
    if not entry:
        return summary
    if "error" in entry:
        summary["cold_start"] = {"error": entry["error"]}
        return summary
    own = entry["summary"]
    summary["cold_start"] = own | {"items_as_of": entry["items_as_of"]}
    if own["series"]:
        summary["series"] += own["series"]
        summary["model_mix"] = summary["model_mix"] | {COLD_START: own["series"]}
    return summary
