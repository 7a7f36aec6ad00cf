"""Forecast accuracy per run date and horizon step: what the ``forecast_accuracy`` view
(``include/sql/views/forecast_accuracy.sql``) holds, computed from the lake.

Same rules as the view (``forecast_vs_actual``): only (store, target day) pairs with
``sales_daily`` rows count (a day not published, or a store whose file was missing, is unknown,
not zero), a series of a delivering store with no row on such a day sold zero, the days the
newest run with drivers marks as censored (``censored_days``: out of stock, store closed) are
unknown demand and left out, wQL[t] = 2 * sum(pinball loss) / sum(|y|) and
WAPE = sum(|y - p50|) / sum(|y|) (null when sum(|y|) is 0), coverage = share of actuals
within [p10, p90], bias = sum(p50 - y) / sum(y) (above 0 the forecasts ran high; null when
sum(y) <= 0). Sums are kept per run and step so totals over steps stay exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from salescast.contracts import CATALOG_QUANTILE_COLUMNS, CATALOG_QUANTILES

QUANTILES = dict(zip(CATALOG_QUANTILE_COLUMNS, CATALOG_QUANTILES, strict=True))  # p10, p50, p90
SUMS = ["points", "abs_actual", "ql_p10", "ql_p50", "ql_p90", "abs_error", "covered", "error", "actual"]


def parts(y: np.ndarray, p10: np.ndarray, p50: np.ndarray, p90: np.ndarray) -> dict[str, np.ndarray]:
    """Per point: what the view sums (pinball losses, absolute and signed error, covered or not)."""
    out = {"points": np.ones(len(y)), "abs_actual": np.abs(y)}
    for column, q in (("p10", p10), ("p50", p50), ("p90", p90)):
        tau = QUANTILES[column]
        out[f"ql_{column}"] = tau * np.maximum(y - q, 0) + (1 - tau) * np.maximum(q - y, 0)
    out["abs_error"] = np.abs(y - p50)
    out["covered"] = ((y >= p10) & (y <= p90)).astype(float)
    out["error"] = p50 - y  # signed: forecast minus actual, so over-forecasts count positive
    out["actual"] = y  # signed too: returns lower it, as in the view's SUM(y)
    return out


def run_sums(forecasts: pd.DataFrame, actuals: pd.DataFrame, censored: pd.DataFrame | None = None) -> pd.DataFrame:
    """Sums per horizon step of one run. ``forecasts``: its rows whose target day is
    published; ``actuals``: the ``sales_daily`` rows of those days; ``censored``: the newest
    run's ``censored_days`` (store_id, item_id, date), days of unknown demand left out."""
    if forecasts.empty or actuals.empty:  # no store delivered on the target days: nothing to score
        return pd.DataFrame(columns=["horizon_step", *SUMS])
    delivered = actuals[["store_id", "date"]].drop_duplicates()
    forecasts = forecasts.merge(delivered, on=["store_id", "date"])  # stores that sent nothing: unknown
    if censored is not None and not censored.empty:  # out of stock or closed: unknown demand, not a miss
        marked = forecasts.merge(censored[["store_id", "item_id", "date"]], how="left", indicator=True)
        forecasts = forecasts[(marked["_merge"] == "left_only").to_numpy()]
    if forecasts.empty:
        return pd.DataFrame(columns=["horizon_step", *SUMS])
    sold = actuals.groupby(["store_id", "item_id", "date"], as_index=False)["units"].sum()
    joined = forecasts.merge(sold, how="left", on=["store_id", "item_id", "date"])
    y = joined["units"].fillna(0.0).to_numpy(dtype=float)
    quantiles = (joined[c].to_numpy(dtype=float) for c in QUANTILES)
    frame = pd.DataFrame({"horizon_step": joined["horizon_step"].to_numpy(), **parts(y, *quantiles)})
    return frame.groupby("horizon_step", as_index=False).sum()


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def scores(sums: dict[str, float]) -> dict[str, Any]:
    """The view's columns from one group's sums."""
    abs_actual = sums["abs_actual"]
    wql = {f"wql_{c}": _ratio(2 * sums[f"ql_{c}"], abs_actual) for c in QUANTILES}
    present = [v for v in wql.values() if v is not None]
    return {
        "points": int(sums["points"]),
        "abs_actual": abs_actual,
        **wql,
        "mean_wql": sum(present) / len(present) if len(present) == len(wql) else None,
        "wape": _ratio(sums["abs_error"], abs_actual),
        "coverage": _ratio(sums["covered"], sums["points"]),
        "bias": _ratio(sums["error"], sums["actual"]),
    }


def table(per_run: dict[str, pd.DataFrame]) -> dict[str, list[dict[str, Any]]]:
    """``rows``: one per (run_date, horizon_step) as in the view; ``runs``: one per run date,
    over all its steps (from the summed parts, not an average of ratios)."""
    rows, runs = [], []
    for run_date, sums in sorted(per_run.items()):
        if sums.empty:
            continue
        for record in sums.to_dict("records"):
            rows.append({"run_date": run_date, "horizon_step": int(record["horizon_step"]), **scores(record)})
        runs.append({"run_date": run_date, **scores(sums[SUMS].sum().to_dict())})
    return {"rows": rows, "runs": runs}
