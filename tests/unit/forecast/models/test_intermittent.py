"""Croston-SBA and TSB, recursions worked by hand on one short series."""

from __future__ import annotations

import numpy as np

from salescast.forecast.models.base import Context, forecast_paths
from salescast.forecast.models.intermittent import CrostonSba, Tsb

Y = np.array([0.0, 3.0, 0.0, 0.0, 2.0])


def test_croston_sba_by_hand():
    # demands at 1 and 4: size 3 -> 3 + 0.1 (2 - 3) = 2.9; interval 2 -> 2 + 0.1 (3 - 2) = 2.1
    expected = (1 - 0.1 / 2) * 2.9 / 2.1
    np.testing.assert_allclose(forecast_paths(CrostonSba(), Y, [5], 3, Context())[0], [expected] * 3)


def test_tsb_by_hand():
    # prob starts at 2/5 (selling share of the first 28 periods), size at the first demand, 3;
    # each period prob moves 5% towards 1 (a sale) or 0, a sale moves size 10% towards it:
    # 0: 0.38 | 3: 0.411, size 3 | 0: 0.39045 | 0: 0.3709275 | 2: 0.402381125, size 2.9
    expected = 0.402381125 * 2.9
    np.testing.assert_allclose(forecast_paths(Tsb(), Y, [5], 2, Context())[0], [expected] * 2)


def test_no_demand_yet_forecasts_zero():
    zeros = np.zeros(6)
    np.testing.assert_array_equal(forecast_paths(Tsb(), zeros, [6], 2, Context())[0], [0.0, 0.0])
    np.testing.assert_array_equal(forecast_paths(CrostonSba(), zeros, [6], 2, Context())[0], [0.0, 0.0])
