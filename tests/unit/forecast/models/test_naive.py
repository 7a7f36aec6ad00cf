from __future__ import annotations

import numpy as np

from salescast.forecast.models.base import Context, forecast_paths
from salescast.forecast.models.naive import SeasonalNaive


def test_seasonal_naive_repeats_the_last_season_by_hand():
    y = np.arange(20.0)
    paths = forecast_paths(SeasonalNaive(), y, [14, 20], 9, Context(m=7))
    np.testing.assert_array_equal(paths[0], [7, 8, 9, 10, 11, 12, 13, 7, 8])
    np.testing.assert_array_equal(paths[1], [13, 14, 15, 16, 17, 18, 19, 13, 14])


def test_without_a_season_or_before_one_it_repeats_the_last_value():
    y = np.arange(20.0)
    np.testing.assert_array_equal(forecast_paths(SeasonalNaive(), y, [20], 3, Context(m=1))[0], [19, 19, 19])
    np.testing.assert_array_equal(forecast_paths(SeasonalNaive(), y, [5], 2, Context(m=7))[0], [4, 4])
