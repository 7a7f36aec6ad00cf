"""autoreg and sdiff_ar, and the numpy least-squares AR both are fit with."""

from __future__ import annotations

import numpy as np
import pytest

from salescast.forecast.models.autoreg import AutoReg, SdiffAr, ar_forecast
from salescast.forecast.models.base import Context, ModelSkipped, forecast_paths

WEEK = np.array([3.0, 4.0, 5.0, 6.0, 9.0, 14.0, 11.0])


@pytest.mark.parametrize(
    ("lags", "period", "with_exog"),
    [([1, 2, 3], None, False), (list(range(1, 15)), 7, False), ([1, 2, 7, 14], None, True), ([1, 2], 7, True)],
)
def test_ar_forecast_is_statsmodels_autoreg(lags, period, with_exog):
    """Same model as AutoReg (constant, seasonal dummies, regressors): same forecasts."""
    from statsmodels.tsa.ar_model import AutoReg as StatsmodelsAutoReg

    rng = np.random.default_rng(7)
    n, h = 400, 30
    t = np.arange(n + h)
    y_all = 50 + 10 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 3, n + h).cumsum() * 0.1 + rng.normal(0, 2, n + h)
    events = (rng.random((n + h, 2)) < 0.05).astype(float) if with_exog else None
    y_all = y_all + (events @ np.array([15.0, -8.0]) if with_exog else 0)
    train = y_all[:n]
    exog, future = (events[:n], events[n:]) if with_exog else (None, None)
    ours = ar_forecast(train, lags, h, period, exog, future)
    model = StatsmodelsAutoReg(train, lags=lags, trend="c", seasonal=period is not None, period=period, exog=exog)
    theirs = model.fit().predict(start=n, end=n + h - 1, exog_oos=future)
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-8)


def test_ar_forecast_by_hand():
    """y[t] = 2 + 0.5 y[t-1] exactly: the fit recovers it and the forecast follows it."""
    y = [10.0]
    for _ in range(30):
        y.append(2 + 0.5 * y[-1])
    expected = [2 + 0.5 * y[-1]]
    for _ in range(2):
        expected.append(2 + 0.5 * expected[-1])
    np.testing.assert_allclose(ar_forecast(np.array(y), [1], 3), expected, rtol=1e-9)


def test_ar_forecast_refuses_more_parameters_than_observations():
    with pytest.raises(ValueError, match="observations for"):
        ar_forecast(np.arange(10.0), [1, 2, 3, 4, 5], 2, period=7)


def test_autoreg_reproduces_an_exact_weekly_pattern():
    np.testing.assert_allclose(forecast_paths(AutoReg(), np.tile(WEEK, 10), [70], 7, Context(m=7))[0], WEEK,
                               atol=1e-6)  # fmt: skip


def test_sdiff_ar_continues_a_linear_trend_on_top_of_the_season():
    rng = np.random.default_rng(0)
    t = np.arange(420)
    y = 50 + 0.5 * t + np.tile(WEEK * 4, 60) + rng.normal(0, 0.05, 420)
    paths = forecast_paths(SdiffAr(), y, [406, 420], 14, Context(m=7))
    # by hand: each day is the same weekday a week earlier plus 7 x 0.5 per week ahead
    expected = np.array([y[420 - 7 + (j % 7)] + 3.5 * (1 + j // 7) for j in range(14)])
    np.testing.assert_allclose(paths[1], expected, atol=0.3)
    np.testing.assert_allclose(paths[0], y[406:420], atol=0.3)  # the backtest origin sees the same law


def test_sdiff_ar_is_seasonal_naive_on_a_purely_seasonal_series():
    y = np.tile(WEEK, 60) + np.random.default_rng(1).normal(0, 0.01, 420)
    np.testing.assert_allclose(forecast_paths(SdiffAr(), y, [420], 7, Context(m=7))[0], y[413:420], atol=0.05)


def test_short_series_are_skipped():
    with pytest.raises(ModelSkipped, match="sdiff_ar: too short"):
        forecast_paths(SdiffAr(), np.arange(30.0), [30], 7, Context(m=7))
    with pytest.raises(ModelSkipped, match="autoreg: too short"):
        forecast_paths(AutoReg(), np.arange(30.0), [30], 7, Context(m=7))
