"""Candidate models. Each returns point forecasts for several forecast origins at once.

``forecast(y, origins, h, ctx)`` gives an array ``[len(origins), h]``: row i forecasts
``y[origins[i] : origins[i] + h]`` from ``y[: origins[i]]``. Computing every origin in one
call lets a model estimate its parameters once (at the first origin) and only re-filter the
data for the later ones, instead of re-estimating per backtest window: that is where most
of the time would go. ``ctx`` (:class:`Context`) carries the season length, the length of a
year in periods (for Fourier terms) and holiday regressors, all aligned with ``y``.

A model that does not converge or raises is skipped for the series (:class:`ModelSkipped`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from salescast.forecast import smoothing

# Longest history a model estimates on; older data adds little for daily retail and costs time.
FIT_WINDOW = 364
TRAIN_WINDOW = 728
# Holt-Winters with a long season (52 weeks) has more states than 2-3 years can estimate:
# such seasons are left to Fourier terms (autoreg) and seasonal differences (sdiff_ar).
MAX_ETS_SEASON = 24


class ModelSkipped(Exception):
    """The model could not produce a forecast for this series (reason in the message)."""


@dataclass(frozen=True)
class Context:
    """What a candidate may know besides the values: all arrays are aligned with ``y``.

    ``events`` has one row per period of ``y`` plus the horizon (so future holidays are
    known) and one 0/1 column per holiday; ``None`` when no holiday calendar is set."""

    m: int = 1
    year: float | None = None  # periods per year, for yearly Fourier terms (None: no yearly cycle)
    events: np.ndarray | None = None


def _guarded(call: Callable[[], np.ndarray], name: str) -> np.ndarray:
    """Run statsmodels quietly; a convergence warning or an error skips the model."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = call()
        except Exception as error:
            raise ModelSkipped(f"{name}: {type(error).__name__}: {error}") from None
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        raise ModelSkipped(f"{name}: did not converge")
    result = np.asarray(result, dtype=float)
    if not np.all(np.isfinite(result)):
        raise ModelSkipped(f"{name}: non-finite forecast")
    return result


def seasonal_naive(y: np.ndarray, origins: Sequence[int], h: int, ctx: Context) -> np.ndarray:
    """Repeat the last season (the last value when there is no season)."""
    m = ctx.m
    out = np.empty((len(origins), h))
    for i, o in enumerate(origins):
        season = y[max(0, o - m) : o] if m > 1 and o >= m else y[o - 1 : o]
        out[i] = np.resize(season, h)
    return out


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


def ets_damped(y: np.ndarray, origins: Sequence[int], h: int, ctx: Context) -> np.ndarray:
    """Holt-Winters: additive damped trend, additive season of length m.

    Seasons longer than MAX_ETS_SEASON (52 weeks) have too many states for Holt-Winters:
    when the seasonality test passes, the data are deseasonalised with classical seasonal
    indices instead (as the M4 benchmarks do), forecast, and reseasonalised. Smoothing
    parameters are estimated once on the year before the first origin; every origin then
    re-runs the recursions with those parameters (``optimized=False``)."""
    if ctx.m > MAX_ETS_SEASON:
        return _ets_deseasonalised(y, origins, h, ctx.m)
    return _ets(y, origins, h, ctx.m)


def ets_log(y: np.ndarray, origins: Sequence[int], h: int, ctx: Context) -> np.ndarray:
    """Damped Holt-Winters on log sales: multiplicative trend and season, for series that
    never sell zero (seasonal swings that grow with the level, as in most aggregate sales).
    Back-transformed by exp, i.e. the median on the original scale."""
    if np.any(y <= 0):
        raise ModelSkipped("ets_log: needs sales above zero in every period")
    with np.errstate(over="ignore"):
        return np.exp(ets_damped(np.log(y), origins, h, ctx))


def _ets_deseasonalised(y: np.ndarray, origins: Sequence[int], h: int, m: int) -> np.ndarray:
    first = origins[0]
    if first < 2 * m or not is_seasonal(y[:first], m):
        return _ets(y, origins, h, 1)
    start = max(0, first - TRAIN_WINDOW)
    index = _guarded(lambda: seasonal_indices(y[start:first], m), "ets_damped")
    season = index[(np.arange(len(y) + h) - start) % m]
    return _ets(y - season[: len(y)], origins, h, 1) + np.stack([season[o : o + h] for o in origins])


def _ets(y: np.ndarray, origins: Sequence[int], h: int, m: int) -> np.ndarray:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    seasonal = "add" if m > 1 else None
    spec = {"trend": "add", "damped_trend": True, "seasonal": seasonal, "seasonal_periods": m if m > 1 else None}
    first = origins[0]
    if first < max(2 * m + 2, 10):
        raise ModelSkipped("ets_damped: too short")

    def estimate() -> np.ndarray:
        train = y[max(0, first - FIT_WINDOW) : first]
        model = ExponentialSmoothing(train, initialization_method="heuristic" if m > 1 else "estimated", **spec)
        found = smoothing.estimate_only(model)
        if found is not None:
            return found
        fitted = model.fit(use_brute=False)  # the brute-force start grid costs more than the fit
        keys = ["smoothing_level", "smoothing_trend", "smoothing_seasonal", "damping_trend"]
        return np.array([fitted.params.get(k) if fitted.params.get(k) is not None else np.nan for k in keys])

    params = _guarded(estimate, "ets_damped") if m > 1 else None
    out = np.empty((len(origins), h))
    for i, o in enumerate(origins):
        train = y[max(0, o - TRAIN_WINDOW) : o]
        fast = _fast_refilter(train, params, m, h)
        if fast is not None:
            out[i] = fast
            continue

        def refilter(train: np.ndarray = train) -> np.ndarray:
            model = ExponentialSmoothing(train, initialization_method="heuristic" if m > 1 else "estimated", **spec)
            if params is None:
                return model.fit().forecast(h)
            level, trend, season, damping = params
            kwargs = {"smoothing_level": level, "smoothing_trend": trend, "damping_trend": damping}
            if m > 1:
                kwargs["smoothing_seasonal"] = season
            return model.fit(optimized=False, **kwargs).forecast(h)

        out[i] = _guarded(refilter, "ets_damped")
    return out


def _fast_refilter(train: np.ndarray, params: np.ndarray | None, m: int, h: int) -> np.ndarray | None:
    """Holt-Winters with fixed parameters in numpy (:func:`smoothing.holt_winters`, the
    library's arithmetic at a twentieth of its cost); None where only statsmodels applies."""
    if params is None or not np.all(np.isfinite(params)):
        return None
    try:
        out = smoothing.holt_winters(train, *params, m, h)
    except (smoothing.NotApplicable, ArithmeticError, ValueError):
        return None
    if not np.all(np.isfinite(out)):
        raise ModelSkipped("ets_damped: non-finite forecast")
    return out


def _fast_theta(train: np.ndarray, m: int, h: int) -> np.ndarray | None:
    """ThetaModel's forecast in numpy (:func:`smoothing.theta`); None where the fast path
    does not apply (e.g. a flat window whose likelihood is degenerate): statsmodels decides."""
    try:
        with np.errstate(divide="raise", over="raise", invalid="raise"):
            out = smoothing.theta(train, m, h)
    except smoothing.NotConverged as why:
        raise ModelSkipped(str(why)) from None
    except (smoothing.NotApplicable, ArithmeticError, ValueError, FloatingPointError):
        return None
    return out if np.all(np.isfinite(out)) else None


def theta(y: np.ndarray, origins: Sequence[int], h: int, ctx: Context) -> np.ndarray:
    """Theta method (ThetaModel's, replayed in numpy: :func:`smoothing.theta`), additive
    deseasonalisation when m > 1."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    m = ctx.m
    out = np.empty((len(origins), h))
    for i, o in enumerate(origins):
        train = y[max(0, o - TRAIN_WINDOW) : o]
        if len(train) < 2 * m + 2:
            raise ModelSkipped("theta: too short")
        fast = _fast_theta(train, m, h)
        if fast is not None:
            out[i] = fast
            continue
        out[i] = _guarded(
            lambda train=train: (
                ThetaModel(train, period=m if m > 1 else None, deseasonalize=m > 1, method="additive").fit().forecast(h)
            ),
            "theta",
        )
    return out


def fourier_terms(t: np.ndarray, period: float, harmonics: int) -> np.ndarray:
    """Sine/cosine pairs of a long cycle (the year) at absolute positions ``t``."""
    angles = 2 * np.pi * np.outer(t, np.arange(1, harmonics + 1)) / period
    return np.hstack([np.sin(angles), np.cos(angles)])


YEAR_HARMONICS = 6
WEEKLY_YEAR_HARMONICS = 10  # weekly retail peaks (Christmas) are sharp: more harmonics
AR_TRAIN_WINDOW = 3 * 364


def _year_harmonics(ctx: Context) -> int:
    return WEEKLY_YEAR_HARMONICS if ctx.year is not None and ctx.year < 60 else YEAR_HARMONICS


def _exog(ctx: Context, start: int, stop: int, yearly: bool) -> np.ndarray | None:
    """Regressors for positions ``start:stop``: yearly Fourier terms and holiday dummies."""
    parts = []
    if yearly and ctx.year is not None:
        parts.append(fourier_terms(np.arange(start, stop), ctx.year, _year_harmonics(ctx)))
    if ctx.events is not None and ctx.events.shape[1]:
        parts.append(ctx.events[start:stop])
    return np.hstack(parts) if parts else None


def _informative(train_exog: np.ndarray | None) -> np.ndarray | None:
    """Columns of the training regressors that vary (a holiday never seen cannot be fit)."""
    if train_exog is None:
        return None
    keep = np.ptp(train_exog, axis=0) > 0
    return keep if keep.any() else None


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
    (same least-squares fit, same forecasts to rounding), built with numpy because the
    library spends most of its time on pandas bookkeeping around a tiny solve, thousands
    of times per run (measured: over a third of the bake-off)."""
    lags = np.asarray(lags, dtype=int)
    n, p = len(train), int(lags.max())
    rows = np.arange(p, n)
    det = np.ones((n + h, 1))
    if period is not None and period > 1:  # one dummy per season but the first (the constant)
        season = np.arange(n + h) % period
        det = np.hstack([det, (season[:, None] == np.arange(1, period)[None, :]).astype(float)])
    if exog is not None:
        det = np.hstack([det, np.vstack([exog, future])])
    x = np.hstack([det[rows], train[rows[:, None] - lags[None, :]]])
    if x.shape[0] < x.shape[1]:
        raise ValueError(f"{x.shape[0]} observations for {x.shape[1]} parameters")
    beta = np.linalg.lstsq(x, train[rows], rcond=None)[0]
    fixed, phi = det[n:] @ beta[: det.shape[1]], beta[det.shape[1] :]
    extended = np.concatenate([train, np.empty(h)])
    for step in range(h):
        extended[n + step] = fixed[step] + phi @ extended[n + step - lags]
    return extended[n:]


def autoreg(y: np.ndarray, origins: Sequence[int], h: int, ctx: Context) -> np.ndarray:
    """ARIMA family: AR(p) with intercept, seasonal dummies (short seasons) and, with two
    years of history, yearly Fourier terms; holiday dummies when a calendar is set
    (OLS: :func:`ar_forecast`)."""
    m = ctx.m
    dummies = 1 < m <= MAX_ETS_SEASON
    lags = min(2 * m, 14) if dummies else 3
    out = np.empty((len(origins), h))
    for i, o in enumerate(origins):
        start = max(0, o - AR_TRAIN_WINDOW)
        train = y[start:o]
        if len(train) < 3 * lags + (m if dummies else 0) + 2:
            raise ModelSkipped("autoreg: too short")
        yearly = ctx.year is not None and len(train) >= 2 * ctx.year
        exog, future = _exog(ctx, start, o, yearly), _exog(ctx, o, o + h, yearly)
        keep = _informative(exog)
        exog, future = (exog[:, keep], future[:, keep]) if keep is not None else (None, None)

        out[i] = _guarded(
            lambda train=train, exog=exog, future=future: ar_forecast(
                train, range(1, lags + 1), h, m if dummies else None, exog, future
            ),
            "autoreg",
        )
    return out


def _sdiff_lags(m: int, n: int) -> list[int]:
    """Short-term lags plus the seasonal lags (m, 2m) that the differenced data can carry."""
    short = list(range(1, min(m - 1, 6) + 1)) if m > 1 else [1, 2, 3]
    seasonal = [k * m for k in (1, 2) if m > 1 and n >= 3 * k * m + 10]
    return short + seasonal


def sdiff_ar(y: np.ndarray, origins: Sequence[int], h: int, ctx: Context) -> np.ndarray:
    """Seasonal naive corrected by an AR model of the seasonal differences, with drift:
    ARIMA(p,0,0)(P,1,0)_m with a constant (ARIMA(p,1,0) with drift when m = 1).

    Trend-robust where mean-reverting models are not: the level comes from the last season
    and the drift from the mean seasonal change, so long trends carry on. With zero AR
    coefficients and drift it is exactly seasonal naive. Holiday dummies enter differenced,
    like the data."""
    m = max(ctx.m, 1)
    out = np.empty((len(origins), h))
    for i, o in enumerate(origins):
        start = max(0, o - AR_TRAIN_WINDOW)
        train = y[start:o]
        d = train[m:] - train[:-m]
        lags = _sdiff_lags(m, len(d))
        if len(d) < 3 * max(lags) + 10:
            raise ModelSkipped("sdiff_ar: too short")
        exog = future = None
        if ctx.events is not None and ctx.events.shape[1]:
            ev = ctx.events[start : o + h]
            dev = ev[m:] - ev[:-m]
            exog, future = dev[: len(d)], dev[len(d) : len(d) + h]
            keep = _informative(exog)
            exog, future = (exog[:, keep], future[:, keep]) if keep is not None else (None, None)

        d_hat = _guarded(
            lambda d=d, lags=lags, exog=exog, future=future: ar_forecast(d, lags, h, None, exog, future), "sdiff_ar"
        )
        extended = np.concatenate([train, np.empty(h)])
        for step in range(h):  # integrate: y[t] = y[t - m] + d[t]
            extended[len(train) + step] = extended[len(train) + step - m] + d_hat[step]
        out[i] = extended[len(train) :]
    return out


def _croston_core(y: np.ndarray, alpha: float) -> tuple[float, float]:
    """Smoothed non-zero demand size and inter-demand interval (Croston's recursions)."""
    nonzero = np.flatnonzero(y > 0)
    if nonzero.size == 0:
        return 0.0, 1.0
    size, interval = float(y[nonzero[0]]), float(nonzero[0] + 1)
    last = nonzero[0]
    for idx in nonzero[1:]:
        size += alpha * (y[idx] - size)
        interval += alpha * ((idx - last) - interval)
        last = idx
    return size, max(interval, 1.0)


def croston_sba(y: np.ndarray, origins: Sequence[int], h: int, ctx: Context, alpha: float = 0.1) -> np.ndarray:
    """Croston with the Syntetos-Boylan bias correction, for intermittent demand."""
    out = np.empty((len(origins), h))
    for i, o in enumerate(origins):
        size, interval = _croston_core(np.clip(y[max(0, o - TRAIN_WINDOW) : o], 0, None), alpha)
        out[i] = (1 - alpha / 2) * size / interval
    return out


def tsb(
    y: np.ndarray, origins: Sequence[int], h: int, ctx: Context, alpha: float = 0.1, beta: float = 0.05
) -> np.ndarray:
    """Teunter-Syntetos-Babai: smooths demand probability every period, so dying items decay."""
    out = np.empty((len(origins), h))
    for i, o in enumerate(origins):
        train = np.clip(y[max(0, o - TRAIN_WINDOW) : o], 0, None)
        nonzero = train[train > 0]
        if nonzero.size == 0:
            out[i] = 0.0
            continue
        prob, size = float(np.mean(train[: min(len(train), 28)] > 0)), float(nonzero[0])
        for value in train:
            if value > 0:
                prob += beta * (1 - prob)
                size += alpha * (value - size)
            else:
                prob += beta * (0 - prob)
        out[i] = prob * size
    return out


@dataclass(frozen=True)
class Candidate:
    name: str
    forecast: Callable[[np.ndarray, Sequence[int], int, Context], np.ndarray]
    intermittent_only: bool = False


CANDIDATES: tuple[Candidate, ...] = (
    Candidate("seasonal_naive", seasonal_naive),
    Candidate("ets_damped", ets_damped),
    Candidate("ets_log", ets_log),
    Candidate("theta", theta),
    Candidate("autoreg", autoreg),
    Candidate("sdiff_ar", sdiff_ar),
    Candidate("croston_sba", croston_sba, intermittent_only=True),
    Candidate("tsb", tsb, intermittent_only=True),
)
# The combination: the mean of these candidates' forecasts, for every series where at least
# two of them ran. Equal-weight combinations of ETS, Theta and ARIMA-type models were among
# the most accurate methods of the M3 and M4 competitions, and far less exposed to an
# unlucky model choice on a few backtest windows than any single one.
COMBO = "combo"
COMBO_MEMBERS = ("ets_damped", "ets_log", "theta", "autoreg", "sdiff_ar")
# Forecast pooling: the mean of the TOP_SIZE candidates with the lowest backtest wQL, per
# series. Picking one model on a few windows is noisy, averaging all of them keeps the poor
# ones; pooling the few best is the middle way (Kourentzes, Barrow & Petropoulos 2019,
# "Another look at forecast selection and combination: evidence from forecast pooling").
# On the public accuracy benchmark it improved 9 of 14 cases (bench/RESULTS.md).
TOP = "top3"
TOP_SIZE = 3
MODEL_NAMES = (*tuple(c.name for c in CANDIDATES), COMBO, TOP, "zero", "recent_mean")
