"""Autoregressions fit by least squares: on the sales (``autoreg``) and on their seasonal
differences (``sdiff_ar``), with holidays as regressors; their ``_drivers`` twins add the
series' known-ahead drivers (prices, promotions, ...), and the backtest decides per series
whether the twin beats the model without them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from salescast.forecast.models.base import AR_TRAIN_WINDOW, MAX_ETS_SEASON, Context, Model, ModelSkipped, guarded

YEAR_HARMONICS = 6
WEEKLY_YEAR_HARMONICS = 10  # weekly retail peaks (Christmas) are sharp: more harmonics


def fourier_terms(t: np.ndarray, period: float, harmonics: int) -> np.ndarray:
    """Sine/cosine pairs of a long cycle (the year) at absolute positions ``t``."""
    angles = 2 * np.pi * np.outer(t, np.arange(1, harmonics + 1)) / period
    return np.hstack([np.sin(angles), np.cos(angles)])


def _year_harmonics(ctx: Context) -> int:
    return WEEKLY_YEAR_HARMONICS if ctx.year is not None and ctx.year < 60 else YEAR_HARMONICS


def _known(ctx: Context, drivers: bool) -> np.ndarray | None:
    """Holiday dummies, and the known-ahead drivers when the model takes them: one matrix."""
    parts = [x for x in (ctx.events, ctx.regressors if drivers else None) if x is not None and x.shape[1]]
    if len(parts) < 2:
        return parts[0] if parts else None
    return np.hstack(parts)


def _exog(ctx: Context, start: int, stop: int, yearly: bool, drivers: bool = False) -> np.ndarray | None:
    """Regressors for positions ``start:stop``: yearly Fourier terms, holiday dummies and
    (``drivers``) the known-ahead drivers."""
    parts = []
    if yearly and ctx.year is not None:
        parts.append(fourier_terms(np.arange(start, stop), ctx.year, _year_harmonics(ctx)))
    known = _known(ctx, drivers)
    if known is not None:
        parts.append(known[start:stop])
    return np.hstack(parts) if parts else None


def _informative(exog: np.ndarray | None, future: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The regressor columns that vary in training (a holiday never seen cannot be fit), for
    the training and the future periods; (None, None) when none does."""
    if exog is None or future is None:
        return None, None
    keep = np.ptp(exog, axis=0) > 0
    return (exog[:, keep], future[:, keep]) if keep.any() else (None, None)


def ar_forecast(
    train: np.ndarray,
    lags: Sequence[int],
    h: int,
    period: int | None = None,
    exog: np.ndarray | None = None,
    future: np.ndarray | None = None,
) -> np.ndarray:
    """OLS autoregression with a constant, seasonal dummies (``period``) and regressors, then
    ``h`` recursive steps: the model of statsmodels' ``AutoReg(trend="c", seasonal=...)``
    (same least-squares fit, same forecasts to rounding), in numpy because the library
    spends most of its time on pandas bookkeeping around a tiny solve."""
    lag = np.asarray(lags, dtype=int)
    n, p = len(train), int(lag.max())
    rows = np.arange(p, n)
    det = np.ones((n + h, 1))
    if period is not None and period > 1:  # one dummy per season but the first (the constant)
        season = np.arange(n + h) % period
        det = np.hstack([det, (season[:, None] == np.arange(1, period)[None, :]).astype(float)])
    if exog is not None and future is not None:
        det = np.hstack([det, np.vstack([exog, future])])
    x = np.hstack([det[rows], train[rows[:, None] - lag[None, :]]])
    if x.shape[0] < x.shape[1]:
        raise ValueError(f"{x.shape[0]} observations for {x.shape[1]} parameters")
    beta = np.linalg.lstsq(x, train[rows], rcond=None)[0]
    fixed, phi = det[n:] @ beta[: det.shape[1]], beta[det.shape[1] :]
    extended = np.concatenate([train, np.empty(h)])
    for step in range(h):
        extended[n + step] = fixed[step] + phi @ extended[n + step - lag]
    return extended[n:]


class AutoReg(Model):
    """ARIMA family: AR(p) with intercept, seasonal dummies (short seasons) and, with two
    years of history, yearly Fourier terms; holiday dummies when a calendar is set."""

    name = "autoreg"
    window = AR_TRAIN_WINDOW

    def predict(self, train: np.ndarray, start: int, h: int, ctx: Context, fitted: Any) -> np.ndarray:
        m = ctx.m
        dummies = 1 < m <= MAX_ETS_SEASON
        lags = min(2 * m, 14) if dummies else 3
        if len(train) < 3 * lags + (m if dummies else 0) + 2:
            raise ModelSkipped(f"{self.name}: too short")
        origin = start + len(train)
        yearly = ctx.year is not None and len(train) >= 2 * ctx.year
        exog = _exog(ctx, start, origin, yearly, self.drivers)
        future = _exog(ctx, origin, origin + h, yearly, self.drivers)
        exog, future = _informative(exog, future)
        return guarded(lambda: ar_forecast(train, range(1, lags + 1), h, m if dummies else None, exog, future),
                       self.name)  # fmt: skip


def _sdiff_lags(m: int, n: int) -> list[int]:
    """Short-term lags plus the seasonal lags (m, 2m) that the differenced data can carry."""
    short = list(range(1, min(m - 1, 6) + 1)) if m > 1 else [1, 2, 3]
    seasonal = [k * m for k in (1, 2) if m > 1 and n >= 3 * k * m + 10]
    return short + seasonal


class SdiffAr(Model):
    """Seasonal naive corrected by an AR model of the seasonal differences, with drift:
    ARIMA(p,0,0)(P,1,0)_m with a constant (ARIMA(p,1,0) with drift when m = 1).

    Trend-robust where mean-reverting models are not: the level comes from the last season
    and the drift from the mean seasonal change, so long trends carry on. With zero AR
    coefficients and drift it is exactly seasonal naive. Holiday dummies enter differenced,
    like the data."""

    name = "sdiff_ar"
    window = AR_TRAIN_WINDOW

    def predict(self, train: np.ndarray, start: int, h: int, ctx: Context, fitted: Any) -> np.ndarray:
        m = max(ctx.m, 1)
        d = train[m:] - train[:-m]
        lags = _sdiff_lags(m, len(d))
        if len(d) < 3 * max(lags) + 10:
            raise ModelSkipped(f"{self.name}: too short")
        exog = future = None
        known = _known(ctx, self.drivers)
        if known is not None:
            ev = known[start : start + len(train) + h]
            dev = ev[m:] - ev[:-m]
            exog, future = dev[: len(d)], dev[len(d) : len(d) + h]
            exog, future = _informative(exog, future)
        d_hat = guarded(lambda: ar_forecast(d, lags, h, None, exog, future), self.name)
        extended = np.concatenate([train, np.empty(h)])
        for step in range(h):  # integrate: y[t] = y[t - m] + d[t]
            extended[len(train) + step] = extended[len(train) + step - m] + d_hat[step]
        return extended[len(train) :]


class AutoRegDrivers(AutoReg):
    """``autoreg`` with the series' known-ahead drivers as further regressors."""

    name = "autoreg_drivers"
    drivers = True


class SdiffArDrivers(SdiffAr):
    """``sdiff_ar`` with the series' known-ahead drivers, differenced like the data."""

    name = "sdiff_ar_drivers"
    drivers = True
