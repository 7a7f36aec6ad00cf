"""One series' page: history, the chosen run's band, its model and backtest scores, safety
stock, and the actuals that arrived after the run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from salescast.dashboard import accuracy
from salescast.dashboard.history import SalesIndex, day_number, iso_days
from salescast.dashboard.jsonable import clean
from salescast.dashboard.params import NotFound
from salescast.dashboard.tables import RunTable
from salescast.lake import FORECASTS, METRICS, SAFETY_STOCK, Dataset

METRIC_FIELDS = ["wql_p10", "wql_p50", "wql_p90", "mean_wql", "wape", "mase", "coverage", "points", "n_windows"]
CANDIDATE_FIELDS = ["model", "chosen", "mean_wql", "wape", "mase", "coverage", "points"]
SAFETY_FIELDS = ["lead_time", "service_level", "safety_stock", "lead_time_demand", "reorder_point", "method", "model"]


def _record(frame: pd.DataFrame, fields: list[str]) -> dict[str, Any]:
    row = frame.iloc[0]
    return {f: row[f] for f in fields if f in frame.columns}


def choose_run(run_dates: list[str], run_date: str | None) -> str | None:
    if run_date is None:
        return run_dates[-1] if run_dates else None
    if run_date not in run_dates:
        published = f"published runs: {run_dates[0]} .. {run_dates[-1]}" if run_dates else "no run is published yet"
        raise NotFound(f"no published forecast run on {run_date} ({published})")
    return run_date


def actuals_on(sales: SalesIndex, code: int | None, dates: pd.Series) -> list[float | None]:
    """Units on each day: the sale, 0 on a published day without a row, None if not published."""
    daily = sales.daily(code) if code is not None else np.zeros(len(sales.published))
    out: list[float | None] = []
    for value in dates:
        at = int(np.searchsorted(sales.published, day_number(value.date())))
        hit = at < len(sales.published) and sales.published[at] == day_number(value.date())
        out.append(float(daily[at]) if hit else None)
    return out


def history_block(sales: SalesIndex, units: np.ndarray) -> dict[str, list]:
    """Every calendar day from the first to the last published one; a day that was never
    published (rejected by ingest, not delivered) is None, so the chart shows a gap, not 0."""
    if not len(sales.published):
        return {"dates": [], "units": []}
    first = int(sales.published[0])
    days = np.arange(first, int(sales.published[-1]) + 1, dtype=np.int32)
    values: list[float | None] = [None] * len(days)
    for at, value in zip((sales.published - first).tolist(), units.tolist(), strict=True):
        values[at] = value
    return {"dates": iso_days(days), "units": values}


def forecast_block(rows: pd.DataFrame, sales: SalesIndex, code: int | None) -> dict[str, Any] | None:
    """The run's band for the series, the actuals that arrived since, and their scores."""
    if rows.empty:
        return None
    rows = rows.sort_values("date")
    actual = actuals_on(sales, code, rows["date"])
    arrived = np.array([a is not None for a in actual])
    block = {
        "dates": rows["date"].dt.strftime("%Y-%m-%d").tolist(),
        **{c: rows[c].astype(float).tolist() for c in ("p10", "p50", "p90", "mean")},
        "horizon_step": rows["horizon_step"].astype(int).tolist(),
        "model": str(rows["model"].iloc[0]),
        "actual": actual,
        "scores": None,
    }
    if arrived.any():
        y = np.array([a for a in actual if a is not None], dtype=float)
        q = (rows[c].to_numpy(dtype=float)[arrived] for c in ("p10", "p50", "p90"))
        sums = {k: float(v.sum()) for k, v in accuracy.parts(y, *q).items()}
        block["scores"] = accuracy.scores(sums)
    return block


def metrics_block(table: RunTable | None, store_id: str, item_id: str) -> dict[str, Any] | None:
    rows = table.rows(store_id, item_id) if table else None
    if rows is None or rows.empty:
        return None
    chosen = rows[rows["chosen"].astype(bool)]
    block = _record(chosen, ["model", "reason", "skipped_models", *METRIC_FIELDS]) if not chosen.empty else {}
    candidates = rows.sort_values("mean_wql", na_position="last")
    block["candidates"] = [
        dict(zip(CANDIDATE_FIELDS, r, strict=True)) for r in candidates[CANDIDATE_FIELDS].itertuples(index=False)
    ]
    return block


def detail(
    store_id: str,
    item_id: str,
    run_dates: list[str],
    chosen_run: str | None,
    scored_run: str | None,
    sales: SalesIndex,
    tables: Mapping[Dataset, RunTable | None],
) -> dict[str, Any]:
    """The page of one series from the published sales and the chosen run's tables."""
    code = sales.code(store_id, item_id)
    forecasts = tables[FORECASTS]
    rows = forecasts.rows(store_id, item_id) if forecasts else pd.DataFrame()
    if code is None and rows.empty:
        raise NotFound(f"unknown series: store_id {store_id!r}, item_id {item_id!r} has no sales and no forecast")
    safety = tables[SAFETY_STOCK]
    safety_rows = safety.rows(store_id, item_id) if safety else pd.DataFrame()
    units = sales.daily(code) if code is not None else np.zeros(len(sales.published))
    return clean(
        {
            "store_id": store_id,
            "item_id": item_id,
            "run_dates": run_dates,
            "run_date": chosen_run,
            "scored_run": scored_run,
            "history": history_block(sales, units),
            "forecast": forecast_block(rows, sales, code),
            "metrics": metrics_block(tables[METRICS], store_id, item_id),
            "safety_stock": _record(safety_rows, SAFETY_FIELDS) if not safety_rows.empty else None,
        }
    )
