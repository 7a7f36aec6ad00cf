"""conformal_quantiles picks numpy's order statistics itself: the same numbers as np.quantile."""

from __future__ import annotations

import numpy as np
import pytest

from salescast.forecast import calibration


def _numpy(residuals: np.ndarray, taus: tuple[float, ...]) -> np.ndarray:
    levels = calibration.conformal_levels(taus, residuals.size)
    methods = ["lower" if t < 0.5 else "higher" if t > 0.5 else "linear" for t in taus]
    return np.array([np.quantile(residuals, lvl, method=m) for lvl, m in zip(levels, methods, strict=True)])


@pytest.mark.parametrize("taus", [(0.1, 0.5, 0.9), (0.05, 0.25, 0.5, 0.75, 0.95), (0.2, 0.8)])
def test_conformal_quantiles_are_numpys(taus):
    rng = np.random.default_rng(4)
    for n in [*range(1, 60), 140, 1001]:
        residuals = rng.normal(size=n) * (rng.random(n) < 0.7)  # ties at zero, as intermittent series give
        shaped = residuals.reshape(n, 1) if n % 2 else residuals
        np.testing.assert_array_equal(calibration.conformal_quantiles(shaped, taus), _numpy(residuals, taus))


def test_non_finite_residuals_take_numpys_path():
    residuals = np.array([1.0, np.nan, 2.0, 3.0])
    np.testing.assert_array_equal(
        calibration.conformal_quantiles(residuals, (0.1, 0.5, 0.9)), _numpy(residuals, (0.1, 0.5, 0.9))
    )
