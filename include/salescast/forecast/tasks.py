"""What each ``sales_forecast`` task does, as plain functions of (logical date, run id).

plan -> train_shard (mapped, one per shard) -> publish -> report. Shards write under
``_staging/forecasts/run_date=D/`` so a worker on any machine can pick them up; publish
validates the combined table with GX and promotes the three datasets atomically.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import pandas as pd

from salescast.config import Settings
from salescast.forecast.engine import ForecastConfig, merge_summaries, partial_periods, run_forecast
from salescast.forecast.models import MODEL_NAMES
from salescast.lake import FORECASTS, RUN_DATASETS, Lake, partition_day, safe_run_id
from salescast.publish import DATA_FILE, is_published, publish_partition, read_manifest
from salescast.validation import validate

DATASETS = tuple(RUN_DATASETS)  # forecasts, metrics, safety_stock: what one run publishes


class ForecastRejected(Exception):
    """The forecast table broke its contract; nothing was published."""


def forecast_config(settings: Settings) -> ForecastConfig:
    return ForecastConfig(
        horizon=settings.horizon,
        freq=settings.freq,
        quantiles=settings.quantiles,
        windows=settings.backtest_windows,
        lead_time=settings.lead_time,
        service_level=settings.service_level,
        holidays=settings.holidays,
    )


def curated_ready(ds: str) -> bool:
    lake = Lake.from_settings(Settings.from_env())
    return is_published(lake.curated_dir(partition_day(ds)))


def load_history(lake: Lake, day: date, history_days: int) -> tuple[pd.DataFrame, list[str]]:
    """Published sales_daily partitions in (day - history_days, day]; unpublished ones are skipped."""
    frames, days = [], []
    for offset in range(history_days - 1, -1, -1):
        current = day - timedelta(days=offset)
        partition = lake.curated_dir(current)
        if is_published(partition):
            frames.append(lake.read_parquet(partition / DATA_FILE))
            days.append(current.isoformat())
    if not frames:
        raise FileNotFoundError(f"no published sales_daily partitions up to {day}")
    return pd.concat(frames, ignore_index=True), days


def _staging(lake: Lake, day: date, run_id: str):
    return lake.staging_dir(FORECASTS, day) / f"run={safe_run_id(run_id)}"


def plan_shards(ds: str, run_id: str) -> list[dict[str, Any]]:
    """Stage the training history once and split the series into shards for mapped tasks."""
    settings = Settings.from_env()
    lake = Lake.from_settings(settings)
    day = partition_day(ds)
    history, days = load_history(lake, day, settings.history_days)
    lake.remove_tree(lake.staging_dir(FORECASTS, day))
    staged = _staging(lake, day, run_id) / "history.parquet"
    lake.write_parquet(staged, history)
    series = history.groupby(["store_id", "item_id"]).ngroups
    n_shards = max(1, min(settings.max_shards, math.ceil(series / settings.series_per_shard)))
    print(f"{ds}: {series} series over {len(days)} days ({days[0]}..{days[-1]}) -> {n_shards} shards")
    return [{"shard": i, "n_shards": n_shards, "history": str(staged), "days": days} for i in range(n_shards)]


def forecast_shard(ds: str, run_id: str, spec: dict[str, Any]) -> dict[str, Any]:

    settings = Settings.from_env()
    lake = Lake.from_settings(settings)
    day = partition_day(ds)
    history = lake.read_parquet(lake.path(spec["history"]))
    cfg, end, known_days = forecast_config(settings), pd.Timestamp(day), pd.DatetimeIndex(spec["days"])
    result = run_forecast(
        history,
        cfg,
        jobs=settings.forecast_jobs,
        shard=spec["shard"],
        n_shards=spec["n_shards"],
        end=end,
        known_days=known_days,
    )
    # weekly/monthly: the partial first/last period the panel leaves out (the same for every shard)
    result.summary.setdefault("dropped_partial_period", partial_periods(history, cfg.freq, end, known_days))
    folder = _staging(lake, day, run_id) / f"shard={spec['shard']}"
    for name, frame in (
        ("forecasts", result.forecasts),
        ("metrics", result.metrics),
        ("safety_stock", result.safety_stock),
    ):
        lake.write_parquet(folder / f"{name}.parquet", frame)
    lake.write_json(folder / "summary.json", result.summary)
    return {"shard": spec["shard"], "folder": str(folder), "series": result.summary["series"]}


def _validation_view(forecasts: pd.DataFrame, cfg: ForecastConfig) -> pd.DataFrame:
    qcols = cfg.quantile_columns
    values = forecasts[qcols].to_numpy(dtype=float)
    view = forecasts[["store_id", "item_id", "date", "horizon_step", "model"]].copy()
    view["date"] = view["date"].astype(str)
    median = min(range(len(cfg.quantiles)), key=lambda i: abs(cfg.quantiles[i] - 0.5))
    view["q_lo"], view["q_med"], view["q_hi"] = values[:, 0], values[:, median], values[:, -1]
    view["min_quantile"] = values.min(axis=1)
    view["monotone"] = (pd.DataFrame(values).diff(axis=1).iloc[:, 1:] >= -1e-9).all(axis=1).to_numpy()
    view["steps_per_series"] = view.groupby(["store_id", "item_id"])["horizon_step"].transform("size")
    return view


def publish_forecasts(ds: str, run_id: str, shards: list[dict[str, Any]]) -> dict[str, Any]:
    """Combine shards, validate with GX, publish forecasts/metrics/safety_stock atomically."""

    settings = Settings.from_env()
    lake = Lake.from_settings(settings)
    day = partition_day(ds)
    cfg = forecast_config(settings)
    tables: dict[str, list[pd.DataFrame]] = {name: [] for name in DATASETS}
    summaries = []
    for shard in sorted(shards, key=lambda s: s["shard"]):
        folder = lake.path(shard["folder"])
        for name in DATASETS:
            tables[name].append(lake.read_parquet(folder / f"{name}.parquet"))
        summaries.append(lake.read_json(folder / "summary.json"))
    combined = {
        name: pd.concat(frames, ignore_index=True).sort_values(["store_id", "item_id"], kind="stable")
        for name, frames in tables.items()
    }
    for frame in combined.values():
        frame.insert(0, "run_date", day)
    dropped = summaries[0].get("dropped_partial_period")
    summary = merge_summaries(summaries) | {"dropped_partial_period": dropped, "run_date": ds, "run_id": run_id}
    outcome = validate(
        _validation_view(combined["forecasts"], cfg),
        "forecasts",
        {"horizon": cfg.horizon, "horizon_list": [cfg.horizon], "known_models": list(MODEL_NAMES)},
    )
    report_dir = lake.reports_dir(day)
    lake.write_json(report_dir / "forecast_validation.json", outcome.result)
    if not outcome.success:
        problems = outcome.table_failures + sorted({r for rs in outcome.row_reasons.values() for r in rs})
        raise ForecastRejected(f"forecast for {ds} failed validation, nothing published: {'; '.join(problems)}")
    staging = _staging(lake, day, run_id)
    for name, frame in combined.items():
        staged = staging / f"{name}.parquet"
        lake.write_parquet(staged, frame.reset_index(drop=True))
        manifest = {"dataset": name, "run_date": ds, "run_id": run_id, "rows": len(frame)}
        publish_partition(lake, staged, lake.run_dir(name, day), manifest)
    lake.write_json(report_dir / "forecast_summary.json", summary)
    lake.remove_tree(lake.staging_dir(FORECASTS, day))
    mean_wql = summary["backtest"]["bake_off"].get("mean_wql")
    # XCom is JSON: NaN (no backtest possible, e.g. only short series) is not, so it becomes null
    mean_wql = None if mean_wql is None or math.isnan(mean_wql) else float(mean_wql)
    return {k: summary[k] for k in ("series", "model_mix", "run_date")} | {"mean_wql": mean_wql}


def write_run_report(ds: str) -> str:
    from salescast.forecast.report import write_report

    settings = Settings.from_env()
    lake = Lake.from_settings(settings)
    day = partition_day(ds)
    summary = lake.read_json(lake.reports_dir(day) / "forecast_summary.json")
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
        quantiles=forecast_config(settings).quantile_columns,
        known_days=known_days,
    )
