"""What each ``sales_forecast`` task does, as plain functions of (logical date, run id).

plan -> train_shard (mapped, one per shard) -> publish -> report. plan writes each shard's
history and the run's ``plan.json`` under ``_staging/forecasts/run_date=D/run=<run>/``, and
shards write their tables beside their history, so a worker on any machine can pick them up;
publish validates the combined table with GX and promotes the three datasets and the planners'
export (``exports/run_date=D/``) atomically.
"""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
import time as clock
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from salescast.config import Settings
from salescast.forecast import cold_start_tasks
from salescast.forecast.engine import ForecastConfig, ForecastInputError, merge_summaries, run_forecast
from salescast.forecast.export import stage_export
from salescast.forecast.models.registry import MODEL_NAMES
from salescast.forecast.shards import HISTORY_FILE, SeriesScan, scan_series, shard_folder, split_history
from salescast.lake import (
    CENSORED,
    DRIVERS,
    FINAL_FORECASTS,
    FORECASTS,
    RUN_DATASETS,
    RUN_DRIVERS,
    RUN_FOLDER,
    SALES_DAILY,
    Dataset,
    Lake,
    partition_day,
    safe_run_id,
)
from salescast.publish import DATA_FILE, Staged, commit, is_published, read_manifest, recover
from salescast.validation import validate

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)

DATASETS = tuple(RUN_DATASETS)  # forecasts, metrics, safety_stock: what one run publishes


DRIVERS_FILE = "drivers.parquet"  # the drivers as of the run date, resolved once by plan
PLAN_FILE = "plan.json"  # the run's days, shard count and series per shard, written once by plan
COMMIT_JOURNAL = "_COMMIT.json"  # an unfinished publish of the day's run tables (salescast.publish.commit)
SUMMARY_FILE = "forecast_summary.json"
DEFAULT_MAX_MAP_LENGTH = 1024  # Airflow's default [core] max_map_length
# how long plan waits for a day being re-published to settle before it fails (and retries)
SNAPSHOT_PATIENCE_S = 120.0


class ForecastRejected(Exception):
    """The forecast table broke its contract; nothing was published."""


def curated_ready(ds: str) -> bool:
    lake = Lake.from_settings(Settings.from_env())
    return is_published(lake.curated_dir(partition_day(ds)))


def drivers_ready(ds: str, now: datetime | None = None) -> tuple[bool, str]:
    """One look for the drivers as of D (the ``wait_for_drivers`` sensor): done once they are
    published, or once ``SALESCAST_DRIVERS_SETTLE_SECONDS`` after the end of D have passed; the
    run then goes on with the latest earlier deliveries and its summary says so
    (``drivers.on_run_date: false``). Waiting longer would hold every store's forecast for
    one late promotion file; a re-run of D after it arrives picks it up."""
    from salescast.driver_mapping import settle_time

    settings = Settings.from_env()
    lake, day = Lake.from_settings(settings), partition_day(ds)
    if is_published(lake.partition_dir(DRIVERS, day)):
        return True, f"drivers as of {ds} are published"
    settled = settle_time(day, settings.drivers_settle_seconds)
    if (now or datetime.now(UTC)) >= settled:
        return True, f"no drivers published as of {ds} by {settled:%Y-%m-%d %H:%M} UTC: going on with earlier ones"
    return False, f"waiting for drivers as of {ds} until {settled:%Y-%m-%d %H:%M} UTC"


def load_history(lake: Lake, day: date, history_days: int) -> tuple[pd.DataFrame, list[str]]:
    """Published sales_daily partitions in (day - history_days, day]; unpublished ones are skipped."""
    files, days = history_files(lake, day, history_days)
    return pd.concat([lake.read_parquet(f) for f in files], ignore_index=True), days


def _staging(lake: Lake, day: date, run_id: str) -> ObjectStoragePath:
    return lake.staging_dir(FORECASTS, day) / f"{RUN_FOLDER}{safe_run_id(run_id)}"


def _journal(lake: Lake, day: date) -> ObjectStoragePath:
    return lake.staging_dir(FORECASTS, day) / COMMIT_JOURNAL


def recover_publish(lake: Lake, day: date) -> dict[str, str] | None:
    """Finish or roll back a publish of ``day`` that an earlier attempt left half done
    (what was done goes into the run summary)."""
    recovery = recover(lake, _journal(lake, day))
    return recovery.to_dict() if recovery else None


def history_files(lake: Lake, day: date, history_days: int) -> tuple[list[ObjectStoragePath], list[str]]:
    """Data files and days of the published sales_daily partitions in (day - history_days, day],
    from one listing of the dataset (not a request per day on S3)."""
    days = list(_window(lake.published_stamps(SALES_DAILY), day, history_days))
    if not days:
        raise FileNotFoundError(f"no published sales_daily partitions up to {day}")
    return [lake.curated_dir(date.fromisoformat(d)) / DATA_FILE for d in days], days


def _window(stamps: dict[str, str], day: date, history_days: int) -> dict[str, str]:
    first = (day - timedelta(days=history_days - 1)).isoformat()
    return {d: stamp for d, stamp in stamps.items() if first <= d <= day.isoformat()}


class HistoryChanged(RuntimeError):
    """The history kept changing (or the run's own day stayed unpublished) while plan copied it."""


def snapshot_history(
    lake: Lake, day: date, history_days: int, folder: Path, patience: float = SNAPSHOT_PATIENCE_S
) -> tuple[list[Path], list[str]]:
    """Local copies of the published sales_daily partitions in (day - history_days, day], all
    as they were at one moment, and their days (the run's own day always among them).

    A day re-published while plan reads (a late file re-ingested) would otherwise give plan's
    two passes two versions of it: shard files that disagree with the plan's counts, or a plan
    without its own day (unpublished for the instant of its re-publish). The markers' stamps
    are listed before and after copying; if any changed, or the day itself is not published,
    plan logs it, waits and copies again, and fails clearly after ``patience`` seconds."""
    deadline, pause, attempt = clock.monotonic() + patience, 0.5, 0
    while True:
        attempt += 1
        before = _window(lake.published_stamps(SALES_DAILY), day, history_days)
        if day.isoformat() not in before:
            problem = f"day {day} is not published (being re-published?)"
        else:
            files = [lake.curated_dir(date.fromisoformat(d)) / DATA_FILE for d in before]
            try:
                copies = lake.local_copies(files, folder / f"attempt-{attempt}")
            except FileNotFoundError:  # a partition removed while copying
                copies = []
            after = _window(lake.published_stamps(SALES_DAILY), day, history_days)
            changed = sorted(d for d in before.keys() | after.keys() if before.get(d) != after.get(d))
            if copies and not changed:
                return copies, list(before)
            problem = f"day {', '.join(changed) or 'of the history'} changed while planning"
        shutil.rmtree(folder / f"attempt-{attempt}", ignore_errors=True)
        if clock.monotonic() + pause > deadline:
            raise HistoryChanged(f"{problem}; still so after {patience:.0f} s, giving up (the task retries)")
        log.warning("%s; retrying in %.1f s", problem, pause)
        clock.sleep(pause)
        pause = min(pause * 2, 10.0)


def max_map_length() -> int:
    """Airflow's ``[core] max_map_length``: a task mapped over more items fails."""
    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # no Airflow (the CLI, plain unit tests): its default
        return DEFAULT_MAX_MAP_LENGTH
    return conf.getint("core", "max_map_length", fallback=DEFAULT_MAX_MAP_LENGTH)


def shard_count(series: int, settings: Settings, map_limit: int) -> int:
    """ceil(series / SALESCAST_SERIES_PER_SHARD), capped by SALESCAST_MAX_SHARDS and by
    Airflow's map length limit (the default cap): more series then make larger shards."""
    cap = min(settings.max_shards or map_limit, map_limit)
    if settings.max_shards and settings.max_shards > map_limit:
        log.warning("SALESCAST_MAX_SHARDS=%d is above Airflow's max_map_length=%d", settings.max_shards, map_limit)
    wanted = max(1, math.ceil(series / settings.series_per_shard))
    if wanted > cap:
        log.warning("%d series want %d shards of %d; capped at %d", series, wanted, settings.series_per_shard, cap)
    return min(wanted, cap)


def plan_shards(ds: str, run_id: str) -> list[dict[str, Any]]:
    """Split the training history into one file per shard and write the run's plan once.

    Returns one small spec per shard that has series (an XCom per mapped task): its number,
    its history file and the plan file (days, shard count, series counts)."""
    settings = Settings.from_env()
    lake = Lake.from_settings(settings)
    day = partition_day(ds)
    recovered = recover_publish(lake, day)  # before its staged files are cleared away
    lake.remove_tree(lake.staging_dir(FORECASTS, day))
    staging = _staging(lake, day, run_id)
    # a local lake's snapshot is hard links beside the lake (same file system), removed after
    spool_root = Path(lake.staging_dir(FORECASTS, day).path) if lake.is_local else None
    if spool_root:
        spool_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="salescast-plan-", dir=spool_root) as spool:
        inputs, days = snapshot_history(lake, day, settings.history_days, Path(spool) / "in")
        scan = scan_series(inputs)
        if not scan.codes.size or scan.first_day is None:
            raise ForecastInputError(f"the published sales_daily partitions up to {ds} hold no rows")
        n_shards = shard_count(scan.codes.size, settings, max_map_length())
        out = Path(staging.path) if lake.is_local else Path(spool) / "out"
        split = split_history(inputs, scan, n_shards, out)
        cold_start = cold_start_tasks.stage_cold_start(lake, settings, day, inputs, days, scan, staging)
        shards = [i for i in range(n_shards) if split.series[i]]
        if not lake.is_local:  # written beside the inputs in the spool, then uploaded
            for i in shards:
                lake.upload(out / shard_folder(i) / HISTORY_FILE, staging / shard_folder(i) / HISTORY_FILE)
    drivers = _snapshot_drivers(lake, settings, day, scan, staging)
    plan = {
        "run_date": ds,
        "days": days,
        "first_day": scan.first_day.isoformat(),
        "n_shards": n_shards,
        "series": int(scan.codes.size),
        "rows": scan.rows,
        "shard_series": {str(i): split.series[i] for i in shards},
        "shard_rows": {str(i): split.rows[i] for i in shards},
        "recovered_publish": recovered,
        # days an expected store sent nothing (salescast.deliveries): imputed, not zero sales
        "missing_store_days": settings.delivery_rule.missing_by_day(dict(zip(days, scan.stores, strict=True))),
        "drivers": drivers,  # None: drivers off
        "cold_start": cold_start,  # None: no item master published (salescast.forecast.cold_start_tasks)
    }
    lake.write_json(staging / PLAN_FILE, plan)
    log.info(
        "%s: %d series, %d rows over %d days (%s..%s) -> %d shards of up to %d series",
        ds, plan["series"], scan.rows, len(days), days[0], days[-1], n_shards, max(split.series),
    )  # fmt: skip
    return [
        {"shard": i, "history": str(staging / shard_folder(i) / HISTORY_FILE), "plan": str(staging / PLAN_FILE)}
        for i in shards
    ]


def _snapshot_drivers(
    lake: Lake, settings: Settings, day: date, scan: SeriesScan, staging: ObjectStoragePath
) -> dict[str, Any] | None:
    """The drivers as of the run date, resolved once for every shard (salescast.forecast.drivers_asof),
    and how many of their keys name a store or item the history never sold (kept, unused)."""
    if settings.drivers_mapping is None:
        return None
    from salescast.driver_mapping import DriverMapping
    from salescast.forecast.drivers_asof import drivers_as_of

    cfg = ForecastConfig.from_settings(settings)
    last_day = cfg.horizon_end(day).date()
    assert scan.first_day is not None  # plan refused an empty history before
    resolved = drivers_as_of(lake, day, scan.first_day, last_day, DriverMapping.load(settings.drivers_mapping))
    entry = resolved.to_summary()
    if resolved.table is not None:
        table = resolved.table
        stores = set(scan.keys.stores.to_pylist()) | {"*"}
        items = set(scan.keys.items.to_pylist()) | {"*"}
        unknown = table[~table["store_id"].isin(stores) | ~table["item_id"].isin(items)]
        keys = unknown[["store_id", "item_id"]].drop_duplicates()
        entry["unknown_series_keys"] = len(keys)  # drivers for stores or items never sold: unused
        entry["unknown_series_examples"] = [f"{s}/{i}" for s, i in keys.head(5).itertuples(index=False)]
        lake.write_parquet(staging / DRIVERS_FILE, resolved.table)
        entry["file"] = str(staging / DRIVERS_FILE)
    log.info("drivers as of %s: %s", day, entry)
    return entry


def _shard_drivers(lake: Lake, plan: dict[str, Any], history: pd.DataFrame) -> pd.DataFrame | None:
    """The run's drivers rows that can reach this shard's series (its stores, its items, or *)."""
    entry = plan.get("drivers") or {}
    if not entry.get("file"):
        return None
    table = lake.read_parquet(lake.path(entry["file"]))
    stores = set(history["store_id"].astype(str)) | {"*"}
    items = set(history["item_id"].astype(str)) | {"*"}
    return table[table["store_id"].isin(stores) & table["item_id"].isin(items)].reset_index(drop=True)


def anchored(history: pd.DataFrame, first_day: str) -> pd.DataFrame:
    """A shard's rows plus, if none is that early, one zero row on the run's first day.

    The panel starts at the history's first day; with the whole history it is the run's first
    day for every shard, so the anchor gives a shard that very panel (same imputation of unknown
    days, same weekly periods): its series forecast exactly as from the whole panel."""
    first = date.fromisoformat(first_day)
    if history.empty or history["date"].min() <= first:
        return history
    row = history.iloc[[0]].assign(date=first, units=0.0)
    return pd.concat([row, history], ignore_index=True)


def forecast_shard(ds: str, run_id: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Forecast the series of one shard from its own history file (memory and time in
    proportion to its series, not to the panel) and stage its three tables and summary."""
    settings = Settings.from_env()
    lake = Lake.from_settings(settings)
    day = partition_day(ds)
    plan = lake.read_json(lake.path(spec["plan"]))
    history = anchored(lake.read_parquet(lake.path(spec["history"])), plan["first_day"])
    cfg, shard = ForecastConfig.from_settings(settings), spec["shard"]
    skip = cold_start_tasks.shard_skip(lake, plan, history)  # None without an item master
    result = run_forecast(
        history,
        cfg,
        jobs=settings.forecast_jobs,
        shard=shard,  # every series of the file is in this shard: names it in the progress lines
        n_shards=plan["n_shards"],
        end=pd.Timestamp(day),
        known_days=pd.DatetimeIndex(plan["days"]),
        unknown_store_days=plan.get("missing_store_days"),
        drivers=_shard_drivers(lake, plan, history),
        skip=skip,
    )
    expected = plan["shard_series"][str(shard)] - len(skip or ())
    if result.summary["series"] != expected:
        raise RuntimeError(f"shard {shard}: {result.summary['series']} series forecast, the plan has {expected}")
    folder = _staging(lake, day, run_id) / shard_folder(shard)
    for name, frame in (
        ("forecasts", result.forecasts),
        ("metrics", result.metrics),
        ("safety_stock", result.safety_stock),
        (CENSORED.folder, result.censored),
    ):
        lake.write_parquet(folder / f"{name}.parquet", frame)
    lake.write_json(folder / "summary.json", result.summary)
    return {"shard": shard, "folder": str(folder), "series": result.summary["series"]}


def validation_view(forecasts: pd.DataFrame, cfg: ForecastConfig) -> pd.DataFrame:
    qcols = cfg.quantile_columns
    values = forecasts[qcols].to_numpy(dtype=float)
    view = forecasts[["store_id", "item_id", "date", "horizon_step", "model"]].copy()
    view["date"] = view["date"].astype(str)
    view["q_lo"], view["q_med"], view["q_hi"] = values[:, 0], forecasts[cfg.median_column], values[:, -1]
    view["min_quantile"] = values.min(axis=1)
    view["monotone"] = (pd.DataFrame(values).diff(axis=1).iloc[:, 1:] >= -1e-9).all(axis=1).to_numpy()
    view["steps_per_series"] = view.groupby(["store_id", "item_id"])["horizon_step"].transform("size")
    return view


def publish_forecasts(ds: str, run_id: str, shards: list[dict[str, Any]]) -> dict[str, Any]:
    """Combine shards, validate with GX, publish forecasts/metrics/safety_stock, the final
    forecast (overrides applied), the planners' export (salescast.forecast.export) and the run
    summary in one commit (salescast.publish.commit): all of this run, or none of it."""

    settings = Settings.from_env()
    lake = Lake.from_settings(settings)
    day = partition_day(ds)
    cfg = ForecastConfig.from_settings(settings)
    recovered = recover_publish(lake, day)  # a retry of this task after a half-done commit
    staging = _staging(lake, day, run_id)
    plan = lake.read_json(staging / PLAN_FILE)
    combined, summaries = _combine_shards(lake, shards, day, plan)
    summary = cold_start_tasks.cold_start_summary(plan, run_summary(summaries, plan, ds, run_id, recovered))
    outcome = validate(
        validation_view(combined["forecasts"], cfg),
        "forecasts",
        {"horizon": cfg.horizon, "horizon_list": [cfg.horizon], "known_models": list(MODEL_NAMES)},
    )
    report_dir = lake.reports_dir(day)
    lake.write_json(report_dir / "forecast_validation.json", outcome.result)
    if not outcome.success:
        problems = outcome.table_failures + sorted({r for rs in outcome.row_reasons.values() for r in rs})
        raise ForecastRejected(f"forecast for {ds} failed validation, nothing published: {'; '.join(problems)}")
    files = []
    for name, frame in combined.items():  # everything staged before anything is published
        staged = staging / f"{name}.parquet"
        lake.write_parquet(staged, frame.reset_index(drop=True))
        manifest = {"dataset": name, "run_date": ds, "run_id": run_id, "rows": len(frame)}
        files.append(Staged(str(staged), str(lake.run_dir(name, day) / DATA_FILE), manifest))
    final, categories = _final_forecasts(lake, day, combined["forecasts"], cfg, summary)
    files.append(_stage_table(lake, staging, FINAL_FORECASTS, final, day, run_id))
    files += stage_export(lake, day, run_id, combined["forecasts"], final, categories, staging)  # same commit
    drivers_file = (plan.get("drivers") or {}).get("file")
    if drivers_file:  # the drivers the run used and the days they censored, published with its tables
        manifest = {"dataset": RUN_DRIVERS.folder, "run_date": ds, "run_id": run_id} | summary["drivers"]
        files.append(Staged(drivers_file, str(lake.partition_dir(RUN_DRIVERS, day) / DATA_FILE), manifest))
        files.append(_stage_censored(lake, staging, shards, day, run_id))
    lake.write_json(staging / SUMMARY_FILE, summary)
    files.append(Staged(str(staging / SUMMARY_FILE), str(report_dir / SUMMARY_FILE)))
    commit(lake, _journal(lake, day), run_id, files)
    if not drivers_file:  # a re-run of D without drivers: no stale table of what an older run used
        lake.remove_tree(lake.partition_dir(RUN_DRIVERS, day))
        lake.remove_tree(lake.partition_dir(CENSORED, day))
    lake.remove_tree(lake.staging_dir(FORECASTS, day))
    mean_wql = summary["backtest"]["bake_off"].get("mean_wql")
    # XCom is JSON: NaN (no backtest possible, e.g. only short series) is not, so it becomes null
    mean_wql = None if mean_wql is None or math.isnan(mean_wql) else float(mean_wql)
    return {k: summary[k] for k in ("series", "model_mix", "run_date")} | {"mean_wql": mean_wql}


def _combine_shards(
    lake: Lake, shards: list[dict[str, Any]], day: date, plan: dict[str, Any]
) -> tuple[dict[str, pd.DataFrame], list[dict[str, Any]]]:
    """The run's tables (each shard's, in shard order, and the new items' cold-start rows the
    plan staged; sorted by series, with the run date) and the shards' summaries."""
    tables: dict[str, list[pd.DataFrame]] = {name: [] for name in DATASETS}
    summaries = []
    for shard in sorted(shards, key=lambda s: s["shard"]):
        folder = lake.path(shard["folder"])
        for name in DATASETS:
            tables[name].append(lake.read_parquet(folder / f"{name}.parquet"))
        summaries.append(lake.read_json(folder / "summary.json"))
    cold_start_tasks.add_cold_start(lake, plan, tables)  # new items' rows, in the same tables and commit
    combined = {
        name: pd.concat(frames, ignore_index=True).sort_values(["store_id", "item_id"], kind="stable")
        for name, frames in tables.items()
    }
    for frame in combined.values():
        frame.insert(0, "run_date", day)
    return combined, summaries


def _final_forecasts(
    lake: Lake, day: date, forecasts: pd.DataFrame, cfg: ForecastConfig, summary: dict[str, Any]
) -> tuple[pd.DataFrame, pd.Series | None]:
    """The final table (the planners' overrides as of the run date applied, salescast.forecast.overrides)
    and each item's category from the item master as of the run date (None without one);
    what the overrides did goes into ``summary["overrides"]``."""
    from salescast.forecast.items_asof import items_as_of
    from salescast.forecast.overrides import apply_overrides
    from salescast.forecast.overrides_asof import overrides_as_of

    final, report = apply_overrides(forecasts, overrides_as_of(lake, day), cfg.quantile_columns, cfg.median_column)
    summary["overrides"] = report.to_dict()
    master = items_as_of(lake, day).items
    categories = master.set_index("item_id")["category"] if not master.empty else None
    return final, categories


def _stage_table(
    lake: Lake,
    staging: ObjectStoragePath,
    dataset: Dataset,
    frame: pd.DataFrame,
    day: date,
    run_id: str,
    schema: Any = None,
) -> Staged:
    """One more table of the run (``frame`` already has its run_date), staged for the commit."""
    staged = staging / f"{dataset.folder}.parquet"
    lake.write_parquet(staged, frame.reset_index(drop=True), schema)
    manifest = {"dataset": dataset.folder, "run_date": day.isoformat(), "run_id": run_id, "rows": len(frame)}
    return Staged(str(staged), str(lake.partition_dir(dataset, day) / DATA_FILE), manifest)


def _stage_censored(
    lake: Lake, staging: ObjectStoragePath, shards: list[dict[str, Any]], day: date, run_id: str
) -> Staged:
    """The shards' censored days as one table of the run, staged for the commit."""
    import pyarrow as pa

    frames = [lake.read_parquet(lake.path(s["folder"]) / f"{CENSORED.folder}.parquet") for s in shards]
    censored = pd.concat(frames, ignore_index=True).sort_values(["store_id", "item_id", "date"], kind="stable")
    censored.insert(0, "run_date", day)
    schema = pa.schema([("run_date", pa.date32()), ("store_id", pa.string()), ("item_id", pa.string()),
                        ("date", pa.date32())])  # fmt: skip
    return _stage_table(lake, staging, CENSORED, censored, day, run_id, schema)


def run_summary(
    summaries: list[dict[str, Any]], plan: dict[str, Any], ds: str, run_id: str, recovered: dict[str, str] | None
) -> dict[str, Any]:
    """The run's summary: the shards' merged, and what only the plan knows (imputed store-days,
    a recovered publish, which drivers deliveries the run used)."""
    dropped = summaries[0].get("dropped_partial_period")
    summary = merge_summaries(summaries) | {"dropped_partial_period": dropped, "run_date": ds, "run_id": run_id}
    summary["recovered_publish"] = recovered or plan.get("recovered_publish")
    missing = plan.get("missing_store_days") or {}
    summary["imputed_store_days"] = sum(len(stores) for stores in missing.values())
    summary["missing_stores"] = missing.get(ds, [])
    if plan.get("drivers") is not None:  # which deliveries the run used (the as-of rule)
        entry = {k: v for k, v in plan["drivers"].items() if k != "file"}
        summary["drivers"] = (summary.get("drivers") or {}) | entry
    return summary


def write_run_report(ds: str) -> str:
    from salescast.forecast.report import write_report

    settings = Settings.from_env()
    lake = Lake.from_settings(settings)
    day = partition_day(ds)
    summary = lake.read_json(lake.reports_dir(day) / SUMMARY_FILE)
    manifest = read_manifest(lake, lake.curated_dir(day)) or {}
    history, known_days = load_history(lake, day, min(settings.history_days, 120))  # charts show four months
    return write_report(
        lake,
        day,
        history=history,
        forecasts=lake.read_parquet(lake.run_dir("forecasts", day) / DATA_FILE),
        metrics=lake.read_parquet(lake.run_dir("metrics", day) / DATA_FILE),
        safety=lake.read_parquet(lake.run_dir("safety_stock", day) / DATA_FILE),
        summary=summary,
        quarantined=manifest.get("quarantined"),
        quantiles=ForecastConfig.from_settings(settings).quantile_columns,
        known_days=known_days,
    )
