"""The newer parts of the engine, each against an answer worked out by hand: the seasonal-
difference AR, the combination, holiday regressors, scale-free calibration, yearly seasons
of weekly and monthly data, and the progress lines."""

from __future__ import annotations

import io
import logging
from datetime import date

import numpy as np
import pandas as pd
import pytest

from salescast.forecast import calibration
from salescast.forecast.backtest import CandidateResult
from salescast.forecast.bands import build_bands
from salescast.forecast.calendar import holiday_matrix, period_holiday_matrix
from salescast.forecast.config import season_length
from salescast.forecast.engine import ForecastConfig, ForecastInputError, run_forecast
from salescast.forecast.metrics import ScoreSums
from salescast.forecast.models import registry
from salescast.forecast.models.base import Context, forecast_paths
from salescast.forecast.progress import Progress
from salescast.forecast.selection import chosen_paths
from salescast.forecast.selection import forecast_series as bake_off_series


def forecast_series(y, first, key, cfg):
    """One series' bake-off, and its band as a run of one series builds it."""
    outcome = bake_off_series(y, first, key, cfg)
    build_bands([outcome], cfg)
    return outcome


WEEK = np.array([3.0, 4.0, 5.0, 6.0, 9.0, 14.0, 11.0])


def frame(y: np.ndarray, start: str, freq: str = "D") -> pd.DataFrame:
    dates = pd.date_range(start, periods=len(y), freq=freq)
    return pd.DataFrame({"date": dates, "store_id": "s", "item_id": "i", "units": y})


# ---- ensembles in the bake-off ---------------------------------------------------------


def test_combination_competes_in_the_bake_off():
    rng = np.random.default_rng(5)
    y = np.tile(WEEK * 10, 60) + rng.normal(0, 3, 420)
    outcome = forecast_series(y, 0, ("s", "i"), ForecastConfig(horizon=14))
    assert "combo" in outcome.candidates
    only = forecast_series(y, 0, ("s", "i"), ForecastConfig(horizon=14, candidates=("ets_damped", "combo")))
    assert set(only.candidates) == {"ets_damped"}  # a combination needs two members
    with pytest.raises(ForecastInputError, match="unknown candidate"):
        ForecastConfig(candidates=("prophet",))


# ---- forecast pooling (top3) ----------------------------------------------------------


def test_top_pool_competes_and_its_older_windows_come_from_its_members():
    rng = np.random.default_rng(11)
    t = np.arange(730)
    y = 50 + 10 * np.sin(2 * np.pi * t / 7) + np.cumsum(rng.normal(0, 1, 730)) + rng.normal(0, 4, 730)
    outcome = forecast_series(y, 0, ("s", "i"), ForecastConfig(horizon=14))
    assert "top3" in outcome.candidates
    two = forecast_series(y, 0, ("s", "i"), ForecastConfig(horizon=14, candidates=("theta", "autoreg", "top3")))
    assert set(two.candidates) == {"theta", "autoreg"}  # three members or no pool

    ctx, origins = Context(m=7), [600, 614]
    pooled = CandidateResult(
        "top3", ScoreSums((0.5,)), np.zeros((1, 14)), np.zeros(14), ("theta", "autoreg", "seasonal_naive")
    )
    members = [forecast_paths(registry.BY_NAME[name], y, origins, 14, ctx) for name in pooled.members]
    np.testing.assert_allclose(chosen_paths(pooled, y, origins, 14, ctx), np.mean(members, axis=0))


# ---- holidays ------------------------------------------------------------------------


def test_holiday_matrix_marks_each_holiday_and_its_observed_day():
    days = pd.date_range("2020-07-01", "2020-07-06")
    matrix = holiday_matrix(days, ("US",))
    marked = {str(d.date()) for d in days[matrix.any(axis=1)]}
    assert marked == {"2020-07-02", "2020-07-03", "2020-07-04", "2020-07-05"}  # the days and their shoulders
    on_day = matrix[:, 0::3]  # columns: holiday, day before, day after per name
    assert {str(d.date()) for d in days[on_day.any(axis=1)]} == {"2020-07-03", "2020-07-04"}  # observed on Friday
    assert (matrix.sum(axis=0) > 0).sum() == 3  # one holiday name, Independence Day, and its two shoulders
    assert holiday_matrix(days, ()).shape == (6, 0)


def test_holiday_regressors_move_the_forecast_on_a_holiday():
    days = pd.date_range("2021-01-04", "2024-12-22")
    hol = holiday_matrix(days, ("US",))[:, 0::3].any(axis=1)  # the holidays themselves, not their shoulders
    rng = np.random.default_rng(2)
    y = np.resize(WEEK * 20, len(days)) * np.where(hol, 0.2, 1.0) + rng.normal(0, 2, len(days))
    history = frame(y, str(days[0].date()))
    cfg = dict(horizon=7, candidates=("autoreg",))
    plain = run_forecast(history, ForecastConfig(**cfg)).forecasts.set_index("date")
    aware = run_forecast(history, ForecastConfig(**cfg, holidays=("US",))).forecasts.set_index("date")
    christmas, before = date(2024, 12, 25), date(2024, 12, 24)
    assert aware.loc[christmas, "p50"] < 0.4 * plain.loc[christmas, "p50"]  # sales drop to a fifth
    assert aware.loc[before, "p50"] == pytest.approx(plain.loc[before, "p50"], rel=0.15)
    with pytest.raises(ForecastInputError, match="unknown holiday countries"):
        ForecastConfig(holidays=("XX",))


def test_period_holiday_matrix_marks_the_week_or_month_a_holiday_falls_in():
    weeks = pd.period_range("2016-06-27", periods=3, freq="W-SUN")  # Mon 27 Jun .. Sun 17 Jul
    matrix = period_holiday_matrix(weeks, ("US",))
    independence = matrix[:, matrix.sum(axis=0) > 0]
    assert independence.shape[1] == 1  # only Independence Day (Mon 4 Jul 2016) in these weeks
    assert independence[:, 0].tolist() == [0.0, 1.0, 0.0]
    months = pd.period_range("2015-03", periods=3, freq="M")
    gb = period_holiday_matrix(months, ("GB",))
    # Good Friday was 3 Apr 2015: April is marked, March and May are not for that column
    april_only = [c for c in range(gb.shape[1]) if gb[:, c].tolist() == [0.0, 1.0, 0.0]]
    assert april_only, gb
    assert period_holiday_matrix(weeks, ()).shape == (3, 0)


def test_weekly_holiday_regressors_follow_a_holiday_that_moves_between_weeks():
    """July 4th falls in week 27 of the year from 2012 to 2015 and in week 28 in 2016: a
    52-week seasonal model puts the dip a week early unless the holiday is a regressor."""
    weeks = pd.date_range("2012-01-01", "2016-06-26", freq="W-SUN")
    matrix = period_holiday_matrix(weeks.to_period("W-SUN"), ("US",))
    rng = np.random.default_rng(3)
    dip = matrix.sum(axis=1) > 0  # every US holiday week sells 30% less
    y = 1000 - 300 * dip + rng.normal(0, 10, len(weeks))
    history = frame(y, str(weeks[0].date()), "W-SUN")
    cfg = dict(horizon=4, freq="W", candidates=("autoreg", "seasonal_naive"))
    plain = run_forecast(history, ForecastConfig(**cfg)).forecasts.set_index("date")
    aware = run_forecast(history, ForecastConfig(**cfg, holidays=("US",))).forecasts.set_index("date")
    holiday_week, week_before = date(2016, 7, 10), date(2016, 7, 3)  # Mon 4 Jul 2016 is in the week to 10 Jul
    assert aware.loc[holiday_week, "p50"] == pytest.approx(700, abs=30)
    assert aware.loc[week_before, "p50"] == pytest.approx(1000, abs=30)
    assert plain.loc[holiday_week, "p50"] > 850  # without the calendar the dip is not where the holiday is
    assert plain.loc[week_before, "p50"] < 850  # ... but where it was last year (seasonal naive)


# ---- seasons of weekly and monthly data ----------------------------------------------


def test_season_lengths_take_the_year_from_two_years_of_history():
    assert season_length("W-SUN", 103) == 1
    assert season_length("W-SUN", 104) == 52
    assert season_length("ME", 23) == 1
    assert season_length("ME", 24) == 12
    assert season_length("D", 30) == 7


def test_weekly_data_with_two_years_keep_their_yearly_peak():
    weeks = pd.date_range("2022-01-02", periods=2 * 52 + 36, freq="W-SUN")  # ends in early September
    peak = weeks.isocalendar().week.isin([50, 51]).to_numpy()
    rng = np.random.default_rng(4)
    y = 100 + 200 * peak + rng.normal(0, 5, len(weeks))
    result = run_forecast(frame(y, str(weeks[0].date()), "W-SUN"), ForecastConfig(horizon=16, freq="W"))
    f = result.forecasts.assign(week=pd.to_datetime(result.forecasts["date"]).dt.isocalendar().week)
    at_peak = f.loc[f["week"].isin([50, 51]), "p50"]
    assert len(at_peak) == 2
    assert (at_peak > 220).all(), f[["date", "p50", "model"]]
    assert (f.loc[~f["week"].isin([50, 51]), "p50"] < 160).all()


def test_monthly_data_keep_season_and_growth():
    season = np.array([80, 85, 95, 100, 105, 110, 115, 110, 100, 95, 90, 140.0])
    rng = np.random.default_rng(6)
    y = np.resize(season, 96) * (1 + 0.01 * np.arange(96)) + rng.normal(0, 2, 96)
    result = run_forecast(frame(y, "2016-01-31", "ME"), ForecastConfig(horizon=12, freq="M"))
    truth = season * (1 + 0.01 * np.arange(96, 108))
    p50 = result.forecasts["p50"].to_numpy()
    assert np.abs(p50 - truth).mean() / truth.mean() < 0.05
    assert result.forecasts["date"].iloc[-1] == date(2024, 12, 31)


# ---- calibration ---------------------------------------------------------------------


def test_level_is_the_recent_mean_floored_by_a_tenth_of_the_long_mean():
    y = np.array([10.0, 10.0, 10.0, 10.0, 0.0, 0.0])
    assert calibration.level(y, 4, 2) == pytest.approx(10.0)
    assert calibration.level(y, 6, 2) == pytest.approx(0.1 * np.mean(y))
    assert calibration.level(np.zeros(5), 5, 2) > 0


def test_scaled_crossfit_sizes_errors_by_the_level_at_each_origin():
    points = np.array([[10.0], [100.0]])
    actuals = np.array([[12.0], [110.0]])  # 20% and 10% above
    q = calibration.crossfit(points, actuals, (0.5,), levels=np.array([10.0, 100.0]))
    assert q[0, 0, 0] == pytest.approx(10.0 + 0.1 * 10.0)  # window 0 gets window 1's +10%
    assert q[1, 0, 0] == pytest.approx(100.0 + 0.2 * 100.0)


def test_calibrated_band_covers_eighty_percent_of_a_known_distribution():
    """Series with known noise (Poisson, Gamma, growing levels): the p10-p90 band of the next
    two weeks, drawn from the same processes, holds 75-85% of them."""
    rng = np.random.default_rng(11)
    start, n, h = "2023-01-02", 540, 14
    rows, future = [], []
    for s in range(60):
        mean = np.resize(WEEK, n + h) * rng.uniform(1, 12) * (1 + rng.uniform(0, 0.001) * np.arange(n + h))
        draw = rng.poisson(mean) if s % 2 else rng.gamma(4.0, mean / 4.0)
        rows.append(frame(draw[:n], start).assign(item_id=f"i{s}"))
        future.append(pd.DataFrame({"item_id": f"i{s}", "h": np.arange(h), "actual": draw[n:]}))
    result = run_forecast(pd.concat(rows), ForecastConfig(horizon=h))
    f = result.forecasts.assign(h=result.forecasts["horizon_step"] - 1).merge(pd.concat(future), on=["item_id", "h"])
    inside = ((f["actual"] >= f["p10"]) & (f["actual"] <= f["p90"])).mean()
    assert 0.75 <= inside <= 0.85, inside


# ---- progress ------------------------------------------------------------------------


def test_progress_logs_a_line_every_tenth_off_a_terminal(caplog):
    caplog.set_level(logging.INFO, logger="salescast.forecast")
    progress = Progress(40, desc="forecast", stream=io.StringIO())
    for _ in range(40):
        progress.update()
    progress.close()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 10
    assert lines[0].startswith("forecast:  10%")
    assert "4/40" in lines[0]
    assert "series/s" in lines[0]
    assert "40/40" in lines[-1]


def test_progress_logs_one_line_for_an_update_that_crosses_several_tenths(caplog):
    caplog.set_level(logging.INFO, logger="salescast.forecast")
    progress = Progress(7, desc="forecast shard 2", stream=io.StringIO())
    for n in (3, 2, 2):  # 43%, 71%, 100%: chunks of a --jobs run
        progress.update(n)
    lines = [r.getMessage() for r in caplog.records]
    assert [line.split("|")[0].split()[-1] for line in lines] == ["43%", "71%", "100%"]


def test_run_forecast_reports_progress(caplog):
    caplog.set_level(logging.INFO, logger="salescast.forecast")
    history = pd.concat([frame(np.tile(WEEK, 20) + k, "2024-01-01").assign(item_id=f"i{k}") for k in range(10)])
    run_forecast(history, ForecastConfig(horizon=7), jobs=2)
    lines = [r.getMessage() for r in caplog.records if r.name == "salescast.forecast"]
    assert lines
    assert "10/10" in lines[-1]


# ---- safety stock on a small panel ---------------------------------------------------


def test_safety_stock_of_a_small_panel_pools_only_what_is_comparable():
    """A Poisson(10) seller gets a buffer near the textbook one, a constant seller none, and
    a spiky neighbour changes neither of them by much."""
    rng = np.random.default_rng(8)
    n = 150
    spiky = np.where(rng.random(n) < 0.05, 500.0, 1.0)
    history = pd.concat(
        [
            frame(rng.poisson(10, n).astype(float), "2024-01-01").assign(item_id="poisson"),
            frame(np.full(n, 4.0), "2024-01-01").assign(item_id="constant"),
            frame(spiky, "2024-01-01").assign(item_id="spiky"),
        ]
    )
    stock = run_forecast(history, ForecastConfig(horizon=7, lead_time=7)).safety_stock.set_index("item_id")
    textbook = 1.645 * np.sqrt(7 * 10)  # normal approximation of 7 days of Poisson(10) demand
    assert 0.5 * textbook < stock.loc["poisson", "safety_stock"] < 2.5 * textbook, stock
    assert stock.loc["constant", "safety_stock"] == pytest.approx(0.0)
    # two comparable series are no population to pool: each keeps its own errors, flagged as thin
    assert stock.loc["poisson", "error_samples"] < 30
    assert stock.loc["poisson", "method"] == "few_errors"
