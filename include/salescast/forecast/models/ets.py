"""Holt-Winters exponential smoothing (damped trend, additive season), on sales and on log sales."""

from __future__ import annotations

from typing import Any

import numpy as np

from salescast.forecast import smoothing
from salescast.forecast.models.base import (
    FIT_WINDOW,
    MAX_ETS_SEASON,
    TRAIN_WINDOW,
    Context,
    Model,
    ModelSkipped,
    guarded,
)

_SMOOTHING_KEYS = ["smoothing_level", "smoothing_trend", "smoothing_seasonal", "damping_trend"]


def is_seasonal(y: np.ndarray, m: int) -> bool:
    """The M4 competition's seasonality test: autocorrelation at lag m above its 90% limit."""
    from statsmodels.tsa.stattools import acf

    if m <= 1 or len(y) < 2 * m:
        return False
    r = acf(y, nlags=m, fft=True)
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(r[1:m] ** 2)) / len(y))
    return bool(abs(r[m]) > limit)


def seasonal_indices(y: np.ndarray, m: int) -> np.ndarray:
    """Additive seasonal index of each position ``0 .. m-1`` (classical decomposition)."""
    from statsmodels.tsa.seasonal import seasonal_decompose

    return np.asarray(seasonal_decompose(y, period=m, model="additive", two_sided=True).seasonal[:m])


class _HoltWinters:
    """Damped additive trend, additive season of length ``m`` (none when m = 1): smoothing
    parameters estimated once on the year before the first origin, then every origin re-runs
    the recursions with them (statsmodels' arithmetic, in numpy where it applies). Without a
    season the parameters are estimated per origin."""

    def __init__(self, m: int) -> None:
        self.m = m
        self.spec = {"trend": "add", "damped_trend": True, "seasonal": "add" if m > 1 else None,
                     "seasonal_periods": m if m > 1 else None}  # fmt: skip
        self.init = "heuristic" if m > 1 else "estimated"

    def fit(self, history: np.ndarray) -> np.ndarray | None:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        m, first = self.m, len(history)
        if first < max(2 * m + 2, 10):
            raise ModelSkipped("ets_damped: too short")
        if m <= 1:
            return None

        def estimate() -> np.ndarray:
            model = ExponentialSmoothing(history[max(0, first - FIT_WINDOW) :], initialization_method=self.init,
                                         **self.spec)  # fmt: skip
            found = smoothing.estimate_only(model)
            if found is not None:
                return found
            fitted = model.fit(use_brute=False)  # the brute-force start grid costs more than the fit
            return np.array([fitted.params.get(k) if fitted.params.get(k) is not None else np.nan
                             for k in _SMOOTHING_KEYS])  # fmt: skip

        return guarded(estimate, "ets_damped")

    def predict(self, train: np.ndarray, h: int, params: np.ndarray | None) -> np.ndarray:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        fast = self._fast(train, params, h)
        if fast is not None:
            return fast

        def refilter() -> np.ndarray:
            model = ExponentialSmoothing(train, initialization_method=self.init, **self.spec)
            if params is None:
                return model.fit().forecast(h)
            level, trend, season, damping = params
            kwargs = {"smoothing_level": level, "smoothing_trend": trend, "damping_trend": damping}
            if self.m > 1:
                kwargs["smoothing_seasonal"] = season
            return model.fit(optimized=False, **kwargs).forecast(h)

        return guarded(refilter, "ets_damped")

    def _fast(self, train: np.ndarray, params: np.ndarray | None, h: int) -> np.ndarray | None:
        """Fixed parameters in numpy (:func:`smoothing.holt_winters`, the library's arithmetic
        at a twentieth of its cost); None where only statsmodels applies."""
        if params is None or not np.all(np.isfinite(params)):
            return None
        level, trend, season, damping = params
        try:
            out = smoothing.holt_winters(train, level, trend, season, damping, self.m, h)
        except (smoothing.NotApplicable, ArithmeticError, ValueError):
            return None
        if not np.all(np.isfinite(out)):
            raise ModelSkipped("ets_damped: non-finite forecast")
        return out


class EtsDamped(Model):
    """Holt-Winters: additive damped trend, additive season of length m.

    Seasons longer than MAX_ETS_SEASON (52 weeks) have too many states for Holt-Winters:
    when the seasonality test passes, the data are deseasonalised with classical seasonal
    indices instead (as the M4 benchmarks do), forecast, and reseasonalised."""

    name = "ets_damped"
    window = TRAIN_WINDOW

    def fit(self, history: np.ndarray, ctx: Context) -> Any:
        m = ctx.m
        if m > MAX_ETS_SEASON and len(history) >= 2 * m and is_seasonal(history, m):
            start = max(0, len(history) - TRAIN_WINDOW)
            index = guarded(lambda: seasonal_indices(history[start:], m), "ets_damped")
            plain = _HoltWinters(1)
            return plain, plain.fit(history - index[(np.arange(len(history)) - start) % m]), (index, start)
        model = _HoltWinters(m if m <= MAX_ETS_SEASON else 1)
        return model, model.fit(history), None

    def predict(self, train: np.ndarray, start: int, h: int, ctx: Context, fitted: Any) -> np.ndarray:
        model, params, seasonal = fitted
        if seasonal is None:
            return model.predict(train, h, params)
        index, anchor = seasonal
        positions = np.arange(start, start + len(train) + h)
        season = index[(positions - anchor) % ctx.m]
        return model.predict(train - season[: len(train)], h, params) + season[len(train) :]


class EtsLog(Model):
    """Damped Holt-Winters on log sales: multiplicative trend and season, for series that
    never sell zero (seasonal swings that grow with the level, as in most aggregate sales).
    Back-transformed by exp, i.e. the median on the original scale."""

    name = "ets_log"
    window = TRAIN_WINDOW

    def __init__(self) -> None:
        self.inner = EtsDamped()

    def check(self, y: np.ndarray) -> None:
        if np.any(y <= 0):
            raise ModelSkipped("ets_log: needs sales above zero in every period")

    def fit(self, history: np.ndarray, ctx: Context) -> Any:
        with np.errstate(over="ignore"):
            return self.inner.fit(np.log(history), ctx)

    def predict(self, train: np.ndarray, start: int, h: int, ctx: Context, fitted: Any) -> np.ndarray:
        with np.errstate(over="ignore"):
            return np.exp(self.inner.predict(np.log(train), start, h, ctx, fitted))
