"""The p10..p90 band of every bake-off series, built once for the whole run (or shard).

A series' band is its point forecast plus quantiles of its own level-scaled backtest errors,
times its level today. Where enough comparable series exist (same intermittent class), the
*shape* of those quantiles is averaged with the shape pooled over all of them (each series'
errors divided by their own mean absolute size), never their size: a smooth series keeps
its narrow band, a noisy one its wide band, and both get tails estimated from thousands of
errors instead of a few dozen.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from salescast.forecast import calibration
from salescast.forecast.config import ForecastConfig
from salescast.forecast.outcome import SeriesOutcome

# Fewer comparable series than this: each keeps the band of its own errors alone.
MIN_POOL_SERIES = 10


def build_bands(outcomes: Sequence[SeriesOutcome], cfg: ForecastConfig) -> None:
    """Set ``quantiles`` of every outcome that has backtest residuals, in place."""
    for flag in (False, True):
        group = [
            (o, o.residuals, o.point)
            for o in outcomes
            if o.residuals is not None and o.point is not None and o.intermittent == flag
        ]
        if len(group) < MIN_POOL_SERIES:
            for o, residuals, point in group:
                o.quantiles = calibration.assemble(point, calibration.offsets(residuals, cfg.quantiles) * o.level)
            continue
        standardized = [calibration.standardized(residuals)[0] for _, residuals, _ in group]
        sizes = [max(float(np.mean(np.abs(z))) if z.size else 0.0, 1e-12) for z in standardized]
        shape = calibration.conformal_quantiles(
            np.concatenate([z / size for z, size in zip(standardized, sizes, strict=True)]), cfg.quantiles
        )
        for (o, residuals, point), size in zip(group, sizes, strict=True):
            offsets = calibration.offsets(residuals, cfg.quantiles, shape * size) * o.level
            o.quantiles = calibration.assemble(point, offsets)
