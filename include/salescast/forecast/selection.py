"""The bake-off of one series: every model it can take is backtested on the same windows,
ensembles are built from those backtests, and the lowest mean wQL wins."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from salescast.forecast import backtest, calibration, fallbacks
from salescast.forecast import safety_stock as ss
from salescast.forecast.backtest import CandidateResult
from salescast.forecast.config import ForecastConfig, level_window, periods_per_year, season_length
from salescast.forecast.drivers import SeriesDrivers
from salescast.forecast.metrics import mase_scale
from salescast.forecast.models import registry
from salescast.forecast.models.base import TRAIN_WINDOW, Context, ModelSkipped, forecast_paths
from salescast.forecast.outcome import SeriesOutcome


def forecast_series(
    y_full: np.ndarray,
    first: int,
    key: tuple[str, str],
    cfg: ForecastConfig,
    events: np.ndarray | None = None,
    drivers: SeriesDrivers | None = None,
) -> SeriesOutcome:
    """Bake-off for one series (or its fallback); never raises for data reasons.

    ``events`` are holiday regressors aligned with ``y_full`` and extended ``horizon``
    periods past its end (see :mod:`salescast.forecast.calendar`); ``drivers`` this series'
    censored periods and known-ahead drivers, from ``first`` on (salescast.forecast.drivers)."""
    drivers = drivers or SeriesDrivers()
    y = np.asarray(y_full[first:], dtype=float)
    m = season_length(cfg.freq, len(y))
    fallback = fallbacks.fallback(y, m, cfg, key)
    if fallback is not None:
        return fallback
    n, h = y.size, cfg.horizon
    k, _ = backtest.backtest_plan(n, m, cfg)
    starts = backtest.origins(n, k, h)
    if drivers.censored is not None and drivers.censored[starts[0] :].all():
        return fallbacks.censored_backtest(y, m, cfg, key)
    intermittent = float(np.mean(y[-TRAIN_WINDOW:] == 0)) >= cfg.intermittent_zero_share
    ctx = Context(
        m=m,
        year=periods_per_year(cfg.freq),
        events=None if events is None or not events.shape[1] else np.asarray(events[first:], dtype=float),
        regressors=drivers.regressors,
        fits={} if drivers.regressors is not None else None,  # shared with the drivers twins
    )
    results, skipped = bake_off(y, starts, ctx, cfg, intermittent, drivers.censored)
    if not results:
        return fallbacks.every_candidate_failed(y, m, cfg, key, skipped)
    best = min(results, key=CandidateResult.loss)
    points, actuals, levels = _calibration_windows(y, starts, best, ctx, cfg.freq, drivers.censored)
    return SeriesOutcome(
        store_id=key[0],
        item_id=key[1],
        model=best.name,
        reason=_reason(best, intermittent, drivers.names),
        quantiles=None,  # built once for the run: salescast.forecast.bands
        mean=np.clip(best.final, 0, None),
        history=None,  # lead_errors size the safety stock: 10k histories need not cross processes
        candidates={r.name: r.sums for r in results},
        skipped=skipped,
        lead_errors=ss.lead_time_errors(points, actuals, cfg.lead_time) / levels[:, None],
        intermittent=intermittent,
        windows=k,
        level=calibration.level(y, n, level_window(cfg.freq)),
        residuals=(actuals - points) / levels[:, None],
        point=best.final,
    )


def _reason(best: CandidateResult, intermittent: bool, drivers: tuple[str, ...]) -> str:
    """Why the chosen model won, and which drivers it used (when it read them)."""
    reason = "lowest backtest mean wQL" + best.because + (" (intermittent)" if intermittent else "")
    used = any(registry.BY_NAME[name].drivers for name in best.members or (best.name,) if name in registry.BY_NAME)
    return reason + (f"; drivers used: {', '.join(drivers)}" if used and drivers else "")


def bake_off(
    y: np.ndarray,
    starts: list[int],
    ctx: Context,
    cfg: ForecastConfig,
    intermittent: bool,
    censored: np.ndarray | None = None,
) -> tuple[list[CandidateResult], dict[str, str]]:
    """Every model the series can take, then every ensemble, scored on the backtest windows
    (periods ``censored``, of unknown demand, left out of the scores)."""
    h, k = cfg.horizon, len(starts) - 1
    actuals, levels = backtest.windows(y, starts[:k], h, cfg.freq, censored)
    scale = mase_scale(y[: starts[0]], ctx.m)
    allowed = set(cfg.candidates) if cfg.candidates else None
    singles: list[CandidateResult] = []
    skipped: dict[str, str] = {}
    for model in registry.CANDIDATES:
        if (allowed is not None and model.name not in allowed) or (model.intermittent_only and not intermittent):
            continue
        if model.drivers and ctx.regressors is None:
            continue
        if model.screened and registry.screened_out({r.name: r.loss() for r in singles}):
            skipped[model.name] = registry.NOT_SCREENED
            continue
        try:
            paths = forecast_paths(model, y, starts, h, ctx)
        except ModelSkipped as why:
            skipped[model.name] = str(why)
            continue
        singles.append(backtest.score(model.name, paths[:k], paths[k], actuals, levels, scale, cfg))
    results = list(singles)
    by_name = {r.name: r for r in singles}
    # Ensembles pool the models without drivers only: averaging a model that sees next week's
    # promotion with ones that cannot would halve a known effect. The bake-off then weighs
    # the models with drivers against the best the series can do without them.
    pool = [r for r in singles if not registry.BY_NAME[r.name].drivers]
    for ensemble in registry.ENSEMBLES:
        members = ensemble.members(pool) if allowed is None or ensemble.name in allowed else None
        if members is None:
            continue
        points = np.mean([by_name[name].points for name in members], axis=0)
        final = np.mean([by_name[name].final for name in members], axis=0)
        pooled = backtest.score(ensemble.name, points, final, actuals, levels, scale, cfg)
        pooled.members, pooled.because = members, ensemble.describe(members)
        results.append(pooled)
    return results, skipped


def chosen_paths(best: CandidateResult, y: np.ndarray, starts: Sequence[int], h: int, ctx: Context) -> np.ndarray:
    """The chosen model's (or ensemble's) forecasts from other origins."""
    names = best.members or (best.name,)
    paths = [forecast_paths(registry.BY_NAME[name], y, starts, h, ctx) for name in names]
    return np.mean(paths, axis=0) if best.members else paths[0]


def _calibration_windows(
    y: np.ndarray,
    starts: list[int],
    best: CandidateResult,
    ctx: Context,
    freq: str,
    censored: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows whose errors size the final band and the safety stock: the backtest windows
    plus as many older ones, forecast by the chosen model only.

    The winner of a bake-off is partly the luckiest candidate on the backtest windows, so
    its errors there understate what comes next (the winner's curse: bands too narrow on
    smooth series with many near-equal candidates). Windows it was not chosen on correct
    that, and double the residuals behind each quantile."""
    k, h = best.points.shape
    actuals, levels = backtest.windows(y, starts[:k], h, freq, censored)
    extra = [starts[0] - j * h for j in range(k, 0, -1) if starts[0] - j * h >= backtest.warmup(ctx.m)]
    if not extra:
        return best.points, actuals, levels
    try:
        older = chosen_paths(best, y, extra, h, ctx)
    except ModelSkipped:
        return best.points, actuals, levels
    old_actuals, old_levels = backtest.windows(y, extra, h, freq, censored)
    return np.vstack([older, best.points]), np.vstack([old_actuals, actuals]), np.concatenate([old_levels, levels])
