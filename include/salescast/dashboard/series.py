"""One series' page: history, the chosen run's band, its model and backtest scores, safety
stock, the actuals that arrived after the run, and the demand drivers the run used (when it
used any): promotion-like flags, closures, the price, days of censored demand."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from salescast.dashboard import accuracy
from salescast.dashboard.history import SalesIndex, day_number, iso_days
from salescast.dashboard.jsonable import clean
from salescast.dashboard.params import NotFound
from salescast.dashboard.tables import RunTable
from salescast.forecast import drivers
from salescast.lake import FORECASTS, METRICS, RUN_DRIVERS, SAFETY_STOCK, Dataset

METRIC_FIELDS = ["wql_p10", "wql_p50", "wql_p90", "mean_wql", "wape", "mase", "coverage", "points", "n_windows"]
CANDIDATE_FIELDS = ["model", "chosen", "mean_wql", "wape", "mase", "coverage", "points"]
SAFETY_FIELDS = ["lead_time", "service_level", "safety_stock", "lead_time_demand", "reorder_point", "method", "model"]
PRICE = "price"
# the end of a chosen model's reason when it read drivers (salescast.forecast.selection._reason)
USED = re.compile(r"drivers used: ([^;]+)\Z")


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


def drivers_used(reason: object) -> list[str]:
    """The drivers a chosen model read, from its reason ("...; drivers used: promo, price")."""
    found = USED.search(reason) if isinstance(reason, str) else None
    return [name.strip() for name in found.group(1).split(",") if name.strip()] if found else []


def series_drivers(table: RunTable, store_id: str, item_id: str, days: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """Each driver of the run's table on ``days`` for one series, NaN where no row gives a value:
    the rows of the four reaches that can apply (store and item, ``*``), resolved by
    :func:`salescast.forecast.drivers.align` (the most specific row wins, as in the forecast)."""
    names = [str(c) for c in table.frame.columns if c not in drivers.KEYS]
    reach = [(s, i) for s in dict.fromkeys((store_id, drivers.EVERY)) for i in dict.fromkeys((item_id, drivers.EVERY))]
    rows = pd.concat([table.rows(s, i) for s, i in reach], ignore_index=True)
    if rows.empty or not names:
        return {name: np.full(len(days), np.nan) for name in names}
    frame, names = drivers.prepare(rows)
    keys = pd.DataFrame({"store_id": [store_id], "item_id": [item_id]})
    return {name: matrix[0] for name, matrix in drivers.align(frame, names, keys, days).items()}


def flag_names(values: Mapping[str, np.ndarray], kinds: Mapping[str, str] | None) -> list[str]:
    """Promotion-like drivers to shade: those the drivers mapping declares flags, or (a driver
    it does not declare, or no mapping) whose values are all 0 or 1; never ``store_open``
    (closures are shown apart) nor ``in_stock`` and ``price``."""
    out = []
    for name, series in values.items():
        if name in (*drivers.AVAILABILITY, PRICE):
            continue
        kind = (kinds or {}).get(name)
        if kind is None:
            given = series[~np.isnan(series)]
            kind = "flag" if given.size and np.isin(given, (0.0, 1.0)).all() else "number"
        if kind == "flag":
            out.append(name)
    return out


def drivers_block(
    table: RunTable | None,
    store_id: str,
    item_id: str,
    history_dates: Sequence[str],
    horizon_dates: Sequence[str],
    metrics: Mapping[str, Any] | None,
    kinds: Mapping[str, str] | None = None,
) -> dict[str, Any] | None:
    """The drivers of the chosen run (``forecast_drivers``) on the days the chart shows: per
    day the flags that are on at least once (1/0, None: no value), closures (1: the store is
    closed) and the price; the days of censored demand (closed, or ``in_stock`` below
    :data:`salescast.forecast.drivers.CENSOR_BELOW`: their sales say how much stock there was,
    not how much was wanted); and the drivers the chosen model used. None without drivers."""
    if table is None:
        return None
    dates = sorted({*history_dates, *horizon_dates})
    days = pd.DatetimeIndex(dates)
    values = series_drivers(table, store_id, item_id, days)
    flags = {name: values[name] for name in flag_names(values, kinds) if (values[name] == 1).any()}
    closed = None
    if drivers.STORE_OPEN in values and (values[drivers.STORE_OPEN] == 0).any():
        shut = values[drivers.STORE_OPEN]
        closed = np.where(np.isnan(shut), np.nan, (shut == 0).astype(float))
    price = values.get(PRICE)
    censoring = drivers.censoring({k: v[None, :] for k, v in values.items()}, len(days))
    history = set(history_dates)
    censored = [d for d, c in zip(dates, censoring[0][0], strict=True) if c and d in history] if censoring else []
    metrics = metrics or {}
    return {
        "dates": dates,
        "names": list(values),
        "flags": {name: series.tolist() for name, series in flags.items()},
        "closed": closed.tolist() if closed is not None else None,
        "price": price.tolist() if price is not None and not np.isnan(price).all() else None,
        "censored": censored,
        "model": metrics.get("model"),
        "drivers_used": drivers_used(metrics.get("reason")),
    }


def detail(
    store_id: str,
    item_id: str,
    run_dates: list[str],
    chosen_run: str | None,
    scored_run: str | None,
    sales: SalesIndex,
    tables: Mapping[Dataset, RunTable | None],
    kinds: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The page of one series from the published sales and the chosen run's tables; ``kinds``:
    the drivers mapping's kind of each driver (flag or number), if the dashboard has one."""
    code = sales.code(store_id, item_id)
    forecasts = tables[FORECASTS]
    rows = forecasts.rows(store_id, item_id) if forecasts else pd.DataFrame()
    if code is None and rows.empty:
        raise NotFound(f"unknown series: store_id {store_id!r}, item_id {item_id!r} has no sales and no forecast")
    safety = tables[SAFETY_STOCK]
    safety_rows = safety.rows(store_id, item_id) if safety else pd.DataFrame()
    units = sales.daily(code) if code is not None else np.zeros(len(sales.published))
    history = history_block(sales, units)
    forecast = forecast_block(rows, sales, code)
    metrics = metrics_block(tables[METRICS], store_id, item_id)
    horizon = forecast["dates"] if forecast else []
    chosen = metrics if metrics and "model" in metrics else {"model": forecast["model"] if forecast else None}
    return clean(
        {
            "store_id": store_id,
            "item_id": item_id,
            "run_dates": run_dates,
            "run_date": chosen_run,
            "scored_run": scored_run,
            "history": history,
            "forecast": forecast,
            "metrics": metrics,
            "safety_stock": _record(safety_rows, SAFETY_FIELDS) if not safety_rows.empty else None,
            "drivers": drivers_block(
                tables.get(RUN_DRIVERS), store_id, item_id, history["dates"], horizon, chosen, kinds
            ),
        }
    )
