"""The numpy Holt-Winters and Theta against statsmodels, the library they replay.

Series cover what the bake-off sees: smooth seasonal sales, trends, intermittent demand,
short windows near the minimum, and the seasons of daily (7), monthly (12) and quarterly
data (4, even: the 2 x m moving average)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from salescast.forecast import smoothing
from salescast.forecast.models import ets, registry
from salescast.forecast.models.base import Context, forecast_paths
from salescast.forecast.models.theta import Theta


def _series(kind: str, n: int, m: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    season = 1 + 0.4 * np.sin(2 * np.pi * t / m)
    if kind == "smooth":
        return rng.poisson(20 * season).astype(float)
    if kind == "trend":
        return rng.poisson(5 * season * (1 + t / 200)).astype(float)
    if kind == "intermittent":
        return (rng.random(n) < 0.3) * rng.poisson(3, n).astype(float)
    return rng.normal(0, 1, n).cumsum() + 50  # random walk


CASES = [
    (kind, n, m, seed)
    for kind in ("smooth", "trend", "intermittent", "walk")
    for n, m in ((728, 7), (60, 7), (17, 7), (120, 12), (40, 4))
    for seed in (1, 2)
]


@pytest.mark.parametrize(("kind", "n", "m", "seed"), CASES)
def test_holt_winters_is_statsmodels(kind, n, m, seed):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    y = _series(kind, n, m, seed)
    rng = np.random.default_rng(seed)
    level, trend, seasonal, damping = rng.uniform(0.01, 0.6), rng.uniform(0.001, 0.1), rng.uniform(0, 0.3), 0.9
    model = ExponentialSmoothing(
        y, trend="add", damped_trend=True, seasonal="add", seasonal_periods=m, initialization_method="heuristic"
    )
    fitted = model.fit(
        optimized=False,
        smoothing_level=level,
        smoothing_trend=trend,
        smoothing_seasonal=seasonal,
        damping_trend=damping,
    )
    ours = smoothing.holt_winters(y, level, trend, seasonal, damping, m, 10)
    np.testing.assert_allclose(ours, fitted.forecast(10), rtol=1e-10, atol=1e-10)


def test_heuristic_init_is_statsmodels():
    from statsmodels.tsa.exponential_smoothing.initialization import _initialization_heuristic

    for kind, n, m, seed in CASES:
        y = _series(kind, n, m, seed)
        level, trend, seasons = _initialization_heuristic(y, "add", "add", m)
        ours = smoothing.heuristic_init(y, m)
        np.testing.assert_allclose([ours[0], ours[1]], [level, trend], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ours[2], seasons, rtol=1e-12, atol=1e-12)


def test_heuristic_init_refuses_what_statsmodels_refuses():
    with pytest.raises(smoothing.NotApplicable):
        smoothing.heuristic_init(np.arange(13.0), 7)  # fewer than two weeks


@pytest.mark.parametrize(("kind", "n", "m", "seed"), CASES)
def test_theta_is_statsmodels(kind, n, m, seed):
    """Same forecast as ThetaModel to the optimizer's tolerance (its weight maximises the
    same likelihood from the same start with the same steps)."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    y = _series(kind, n, m, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = np.asarray(ThetaModel(y, period=m, deseasonalize=True, method="additive").fit().forecast(7))
    ours = smoothing.theta(y, m, 7)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6 * max(1.0, float(np.abs(theirs).max())))


def test_ses_weight_maximises_the_likelihood():
    """The weight is where the concentrated likelihood peaks: nearby weights fit worse."""
    from statsmodels.tsa.statespace.exponential_smoothing import ExponentialSmoothing

    y = _series("walk", 300, 7, 3)
    alpha, one_step = smoothing.ses_weight(y)
    model = ExponentialSmoothing(y, initial_level=y[0], initialization_method="known")
    best = model.loglike([alpha])
    assert best > model.loglike([alpha * 0.98])
    assert best > model.loglike([min(alpha * 1.02, 0.9999)])
    assert one_step == pytest.approx(model.smooth([alpha]).forecast(1)[0], rel=1e-10)


@pytest.mark.parametrize("kind", ["smooth", "trend", "intermittent"])
def test_candidates_match_the_statsmodels_path(kind, monkeypatch):
    """ets_damped, ets_log and theta give the same backtest paths with the fast paths as
    with statsmodels alone (the fast helpers switched off)."""
    y = _series(kind, 730, 7, 5) + (1.0 if kind != "intermittent" else 0.0)
    origins, ctx = [702, 709, 716, 723, 730], Context(m=7, year=365.25)
    names = ("ets_damped", "theta") + (("ets_log",) if np.all(y > 0) else ())
    fast = {name: forecast_paths(registry.BY_NAME[name], y, origins, 7, ctx) for name in names}
    monkeypatch.setattr(ets._HoltWinters, "_fast", lambda *args: None)
    monkeypatch.setattr(Theta, "_fast", staticmethod(lambda *args: None))
    for name in names:
        slow = forecast_paths(registry.BY_NAME[name], y, origins, 7, ctx)
        np.testing.assert_allclose(fast[name], slow, rtol=1e-6, atol=1e-6)


def test_flat_window_falls_back_to_statsmodels():
    """A window with no variation has a degenerate SES likelihood: the library decides."""
    y = np.r_[np.zeros(400), np.ones(30) * 3.0]
    assert Theta._fast(y[:400], 7, 7) is None


@pytest.mark.parametrize(("kind", "n", "m", "seed"), [c for c in CASES if c[1] >= 40])
def test_estimate_only_gives_fits_parameters(kind, n, m, seed):
    """The four smoothing parameters of ``fit(use_brute=False)``, without the rest of fit."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    y = _series(kind, n, m, seed)
    spec = {"trend": "add", "damped_trend": True, "seasonal": "add", "seasonal_periods": m}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = smoothing.estimate_only(ExponentialSmoothing(y, initialization_method="heuristic", **spec))
        fitted = ExponentialSmoothing(y, initialization_method="heuristic", **spec).fit(use_brute=False)
    keys = ("smoothing_level", "smoothing_trend", "smoothing_seasonal", "damping_trend")
    np.testing.assert_array_equal(ours, [fitted.params[k] for k in keys])
