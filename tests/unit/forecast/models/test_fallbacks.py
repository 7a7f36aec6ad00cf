from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from salescast.forecast.models.fallbacks import RecentMean, SeasonalNaiveBand, Zero


def test_zero():
    band, mean = Zero().band(np.zeros(5), (0.1, 0.5, 0.9), 3, 7)
    assert band.shape == (3, 3)
    assert not band.any()
    assert not mean.any()


def test_recent_mean_and_its_empirical_band():
    band, mean = RecentMean().band(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), (0.1, 0.5, 0.9), 2, 1)
    np.testing.assert_allclose(mean, [3.0, 3.0])
    np.testing.assert_allclose(band[:, 0], [1.4, 3.0, 4.6])  # numpy's linear quantiles of 1..5


def test_seasonal_naive_band_by_hand():
    """Two weeks whose second is the first plus 2: every seasonal change is 2, so sigma = 2;
    the band is the last week +- z * 2 * sqrt(weeks ahead)."""
    week = np.array([3.0, 4.0, 5.0, 6.0, 9.0, 14.0, 11.0])
    band, mean = SeasonalNaiveBand().band(np.r_[week, week + 2], (0.1, 0.5, 0.9), 8, 7)
    np.testing.assert_allclose(mean, np.resize(week + 2, 8))
    z = NormalDist().inv_cdf(0.9)
    np.testing.assert_allclose(band[2, 0], week[0] + 2 + z * 2, rtol=1e-9)
    np.testing.assert_allclose(band[2, 7], week[0] + 2 + z * 2 * math.sqrt(2), rtol=1e-9)
    np.testing.assert_allclose(band[1], mean)
