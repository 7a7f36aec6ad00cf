"""Forecast every store x item series of a canonical history: the one entry point.

``run_forecast`` only orchestrates; each job has its own module:

* :mod:`panel` turns daily rows into the series x period matrix (unknown days imputed);
* :mod:`selection` runs one series' bake-off over the models of :mod:`models.registry`
  (backtests: :mod:`backtest`; series no bake-off can be run on: :mod:`fallbacks`);
* :mod:`runner` does that for many series, in worker processes if asked;
* :mod:`bands` builds every series' p10..p90 band once, borrowing comparable series' error shape;
* :mod:`results` makes the forecasts, metrics and safety-stock tables and the run summary.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import pandas as pd

from salescast.contracts import ForecastInputError, period_alias, shard_of
from salescast.forecast.bands import build_bands
from salescast.forecast.calendar import holiday_matrix, period_holiday_matrix
from salescast.forecast.config import ForecastConfig
from salescast.forecast.driver_plan import DriverPlan, censored_days
from salescast.forecast.panel import build_panel, partial_periods, target_dates
from salescast.forecast.results import ForecastResult, assemble_result, censored_frame, merge_summaries
from salescast.forecast.runner import forecast_rows

__all__ = ["ForecastConfig", "ForecastInputError", "ForecastResult", "merge_summaries", "run_forecast"]


def run_forecast(
    history: pd.DataFrame,
    cfg: ForecastConfig,
    jobs: int = 1,
    shard: int | None = None,
    n_shards: int = 1,
    end: pd.Timestamp | None = None,
    known_days: pd.DatetimeIndex | None = None,
    unknown_store_days: Mapping[str, Sequence[str]] | None = None,
    drivers: pd.DataFrame | None = None,
    skip: Collection[tuple[str, str]] | None = None,
) -> ForecastResult:
    """Forecast every series (or one shard of them) of a canonical history
    (``date, store_id, item_id, units``) known through ``end``.

    ``known_days``: the days whose data exist (other days are imputed, not zero sales);
    ``unknown_store_days``: days an expected store sent nothing (imputed for its series);
    ``drivers``: a drivers table (salescast.forecast.drivers): censored days are
    unknown demand, known-ahead drivers are regressors, future closed days forecast zero.
    Without drivers the run is exactly what it was before they existed.
    ``skip``: (store, item) series the bake-off leaves out, though they stay in the panel (the
    cold start's and discontinued items': salescast.forecast.cold_start)."""
    plan = None if drivers is None else DriverPlan.from_table(drivers, cfg.horizon, cfg.freq)
    panel = build_panel(history, cfg.freq, end, known_days, unknown_store_days, plan.censor if plan else None)
    if plan is not None:
        plan.to_periods(panel)
    keys = list(zip(panel.keys["store_id"], panel.keys["item_id"], strict=True))
    rows = [i for i, (s, it) in enumerate(keys) if shard is None or shard_of(s, it, n_shards) == shard]
    if skip:
        left_out = set(skip)
        rows = [i for i in rows if keys[i] not in left_out]
    desc = f"forecast{'' if shard is None else f' shard {shard}'}"
    events = _events(panel.dates, cfg)
    per_series, without = plan.series(panel, rows) if plan else (None, None)
    outcomes = forecast_rows(panel.values, panel.first, keys, rows, cfg, events, jobs, desc, per_series)
    build_bands(outcomes, cfg)
    if plan is not None:
        plan.close_future(outcomes, panel)
        censored_days(panel, outcomes)
    forecasts, metrics, stocks, summary = assemble_result(outcomes, panel.dates[-1], cfg)
    summary.imputed_days = panel.imputed_days
    if plan is not None and without is not None:
        summary.drivers = plan.summary(panel, rows, without)
    summary.dropped_partial_period = partial_periods(history, cfg.freq, end, known_days)
    censored = censored_frame(panel.keys, panel.dates, panel.censored, rows)
    return ForecastResult(forecasts, metrics, stocks, summary.to_dict(), censored)


def _events(dates: pd.DatetimeIndex, cfg: ForecastConfig):
    """Holiday regressors over the panel's periods and the horizon after them."""
    if not cfg.holidays:
        return None
    span = dates.append(target_dates(dates[-1], cfg.horizon, cfg.freq))
    if cfg.freq == "D":
        return holiday_matrix(span, cfg.holidays)
    return period_holiday_matrix(span.to_period(period_alias(cfg.freq)), cfg.holidays)
