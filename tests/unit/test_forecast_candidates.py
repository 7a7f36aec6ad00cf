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

from salescast.forecast import calibration, models
from salescast.forecast.calendar import holiday_matrix, period_holiday_matrix
from salescast.forecast.engine import (
    CandidateResult,
    ForecastConfig,
    ForecastInputError,
    _combination,
    _paths,
    _top_pool,
    forecast_series,
    run_forecast,
    season_length,
)
from salescast.forecast.metrics import ScoreSums
from salescast.forecast.progress import Progress

WEEK = np.array([3.0, 4.0, 5.0, 6.0, 9.0, 14.0, 11.0])


def frame(y: np.ndarray, start: str, freq: str = "D") -> pd.DataFrame:
    dates = pd.date_range(start, periods=len(y), freq=freq)
    return pd.DataFrame({"date": dates, "store_id": "s", "item_id": "i", "units": y})


# ---- ar_forecast (numpy OLS AR) ------------------------------------------------------


@pytest.mark.parametrize(
    ("lags", "period", "with_exog"),
    [([1, 2, 3], None, False), (list(range(1, 15)), 7, False), ([1, 2, 7, 14], None, True), ([1, 2], 7, True)],
)
def test_ar_forecast_is_statsmodels_autoreg(lags, period, with_exog):
    """Same model as AutoReg (constant, seasonal dummies, regressors): same forecasts."""
    from statsmodels.tsa.ar_model import AutoReg

    rng = np.random.default_rng(7)
    n, h = 400, 30
    t = np.arange(n + h)
    y_all = 50 + 10 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 3, n + h).cumsum() * 0.1 + rng.normal(0, 2, n + h)
    events = (rng.random((n + h, 2)) < 0.05).astype(float) if with_exog else None
    y_all = y_all + (events @ np.array([15.0, -8.0]) if with_exog else 0)
    train = y_all[:n]
    exog, future = (events[:n], events[n:]) if with_exog else (None, None)
    ours = models.ar_forecast(train, lags, h, period, exog, future)
    model = AutoReg(train, lags=lags, trend="c", seasonal=period is not None, period=period, exog=exog)
    theirs = model.fit().predict(start=n, end=n + h - 1, exog_oos=future)
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-8)


def test_ar_forecast_by_hand():
    """y[t] = 2 + 0.5 y[t-1] exactly: the fit recovers it and the forecast follows it."""
    y = [10.0]
    for _ in range(30):
        y.append(2 + 0.5 * y[-1])
    forecast = models.ar_forecast(np.array(y), [1], 3)
    expected = [2 + 0.5 * y[-1]]
    for _ in range(2):
        expected.append(2 + 0.5 * expected[-1])
    np.testing.assert_allclose(forecast, expected, rtol=1e-9)


def test_ar_forecast_refuses_more_parameters_than_observations():
    with pytest.raises(ValueError, match="observations for"):
        models.ar_forecast(np.arange(10.0), [1, 2, 3, 4, 5], 2, period=7)


# ---- sdiff_ar ------------------------------------------------------------------------


def test_sdiff_ar_continues_a_linear_trend_on_top_of_the_season():
    rng = np.random.default_rng(0)
    t = np.arange(420)
    y = 50 + 0.5 * t + np.tile(WEEK * 4, 60) + rng.normal(0, 0.05, 420)
    paths = models.sdiff_ar(y, [406, 420], 14, models.Context(m=7))
    # by hand: each day is the same weekday a week earlier plus 7 x 0.5 per week ahead
    expected = np.array([y[420 - 7 + (j % 7)] + 3.5 * (1 + j // 7) for j in range(14)])
    np.testing.assert_allclose(paths[1], expected, atol=0.3)
    np.testing.assert_allclose(paths[0], y[406:420], atol=0.3)  # the backtest origin sees the same law


def test_sdiff_ar_is_seasonal_naive_on_a_purely_seasonal_series():
    y = np.tile(WEEK, 60) + np.random.default_rng(1).normal(0, 0.01, 420)
    paths = models.sdiff_ar(y, [420], 7, models.Context(m=7))
    np.testing.assert_allclose(paths[0], y[413:420], atol=0.05)


def test_sdiff_ar_skips_short_series():
    with pytest.raises(models.ModelSkipped, match="too short"):
        models.sdiff_ar(np.arange(30.0), [30], 7, models.Context(m=7))


# ---- ets_log -------------------------------------------------------------------------


def test_ets_log_carries_a_season_that_grows_with_the_level():
    """Multiplicative by construction: y = 100 * 1.01^t * s[t mod 12]. In logs that is a line
    plus an additive season, so the forecast continues both: by hand, y[n + j]."""
    season = np.array([0.8, 0.85, 0.9, 1.0, 1.05, 1.1, 1.2, 1.15, 1.0, 0.95, 0.9, 1.1])
    t = np.arange(132)
    y = 100 * 1.01**t * season[t % 12]
    paths = models.ets_log(y, [108, 120], 12, models.Context(m=12))
    np.testing.assert_allclose(paths[1], y[120:132], rtol=0.03)
    with pytest.raises(models.ModelSkipped, match="above zero"):
        models.ets_log(np.r_[y, 0.0], [120], 12, models.Context(m=12))


# ---- combination ---------------------------------------------------------------------


def _result(name: str, points: list[list[float]], final: list[float]) -> CandidateResult:
    return CandidateResult(name, ScoreSums((0.5,)), np.array(points), np.array(final))


def test_combination_is_the_mean_of_the_members_that_ran():
    results = [
        _result("ets_damped", [[1.0, 2.0]], [10.0, 10.0]),
        _result("theta", [[3.0, 6.0]], [20.0, 40.0]),
        _result("seasonal_naive", [[100.0, 100.0]], [100.0, 100.0]),  # not a member
    ]
    points, final = _combination(results)
    np.testing.assert_allclose(points, [[2.0, 4.0]])
    np.testing.assert_allclose(final, [15.0, 25.0])
    assert _combination(results[:1]) is None  # one member is no combination


def test_combination_competes_in_the_bake_off():
    rng = np.random.default_rng(5)
    y = np.tile(WEEK * 10, 60) + rng.normal(0, 3, 420)
    outcome = forecast_series(y, 0, ("s", "i"), ForecastConfig(horizon=14))
    assert models.COMBO in outcome.candidates
    only = forecast_series(y, 0, ("s", "i"), ForecastConfig(horizon=14, candidates=("ets_damped", "combo")))
    assert set(only.candidates) == {"ets_damped"}  # a combination needs two members
    with pytest.raises(ForecastInputError, match="unknown candidate"):
        ForecastConfig(candidates=("prophet",))


# ---- forecast pooling (top3) ----------------------------------------------------------


def _scored(name: str, loss: float, points: list[list[float]], final: list[float]) -> CandidateResult:
    result = _result(name, points, final)
    result.sums.ql[:] = loss
    return result


def test_top_pool_is_the_mean_of_the_three_lowest_backtest_losses():
    actuals, levels = np.array([[2.0, 2.0]]), np.ones(1)
    results = [
        _scored("seasonal_naive", 9.0, [[100.0, 100.0]], [100.0, 100.0]),  # worst: left out
        _scored("ets_damped", 1.0, [[1.0, 1.0]], [10.0, 10.0]),
        _scored("theta", 3.0, [[4.0, 1.0]], [40.0, 10.0]),
        _scored("autoreg", 2.0, [[1.0, 4.0]], [10.0, 40.0]),
        _scored(models.COMBO, 0.5, [[0.0, 0.0]], [0.0, 0.0]),  # a combination is no member
    ]
    pooled = _top_pool(results, actuals, levels, 1.0, ForecastConfig(horizon=2, quantiles=(0.5,)))
    assert pooled.name == models.TOP
    assert pooled.members == ("ets_damped", "autoreg", "theta")  # by backtest loss
    np.testing.assert_allclose(pooled.points, [[2.0, 2.0]])  # (1 + 1 + 4) / 3, (1 + 4 + 1) / 3
    np.testing.assert_allclose(pooled.final, [20.0, 20.0])
    assert pooled.sums.ql.sum() == pytest.approx(0.0)  # it hits the actuals exactly
    assert _top_pool(results[:2] + results[4:], actuals, levels, 1.0, ForecastConfig(horizon=2)) is None


def test_top_pool_competes_and_its_older_windows_come_from_its_members():
    rng = np.random.default_rng(11)
    t = np.arange(730)
    y = 50 + 10 * np.sin(2 * np.pi * t / 7) + np.cumsum(rng.normal(0, 1, 730)) + rng.normal(0, 4, 730)
    outcome = forecast_series(y, 0, ("s", "i"), ForecastConfig(horizon=14))
    assert models.TOP in outcome.candidates
    two = forecast_series(y, 0, ("s", "i"), ForecastConfig(horizon=14, candidates=("theta", "autoreg", "top3")))
    assert set(two.candidates) == {"theta", "autoreg"}  # three members or no pool

    ctx, origins = models.Context(m=7), [600, 614]
    pooled = CandidateResult(
        models.TOP, ScoreSums((0.5,)), np.zeros((1, 14)), np.zeros(14), ("theta", "autoreg", "seasonal_naive")
    )
    expected = np.mean(
        [
            models.theta(y, origins, 14, ctx),
            models.autoreg(y, origins, 14, ctx),
            models.seasonal_naive(y, origins, 14, ctx),
        ],
        axis=0,
    )
    np.testing.assert_allclose(_paths(pooled, [], y, origins, 14, ctx), expected)


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
