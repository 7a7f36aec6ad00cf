"""Safety stock (salescast.forecast.safety_stock) through the engine: every buffer scales
with its own series, whatever the other series sell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salescast.forecast import safety_stock as ss
from salescast.forecast.engine import ForecastConfig, run_forecast


def _frame(values: dict[str, list[float] | np.ndarray], last: str = "2025-03-31") -> pd.DataFrame:
    """Daily rows of store S01 ending on ``last`` (a series starts at its first value)."""
    rows = []
    for item, y in values.items():
        dates = pd.date_range(end=last, periods=len(y), freq="D")
        rows.append(pd.DataFrame({"date": dates.date, "store_id": "S01", "item_id": item, "units": y}))
    return pd.concat(rows, ignore_index=True)


def _established(n_series: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A pool of comparable series with 120 days of Poisson sales around 5 a day."""
    return {f"old{i:02d}": rng.poisson(5.0, 120).astype(float) for i in range(n_series)}


def test_new_series_of_very_different_scale_get_buffers_of_their_own_scale():
    """Three days of 1000, 1200, 800 units and three of 2, 3, 1: shorter than the lead time,
    so neither has a lead-time error; each is buffered in proportion to its own demand, not
    with the same absolute number borrowed from the pool's small sellers."""
    rng = np.random.default_rng(3)
    values = _established(30, rng) | {"big": [1000.0, 1200.0, 800.0], "small": [2.0, 3.0, 1.0]}
    values["huge"] = [90_000.0, 91_000.0, 89_000.0]
    result = run_forecast(_frame(values), ForecastConfig(horizon=7, lead_time=7, service_level=0.95))
    stock = result.safety_stock.set_index("item_id")
    for item in ("big", "small", "huge"):
        assert stock.loc[item, "method"] == "pooled_relative_errors", stock.loc[item]
        assert stock.loc[item, "error_samples"] == 0
    # one pooled relative quantile, times each series' own level (its mean: 1000, 2, 90000)
    ratio = stock.loc["big", "safety_stock"] / stock.loc["small", "safety_stock"]
    assert ratio == pytest.approx(1000 / 2, rel=1e-9)
    assert stock.loc["huge", "safety_stock"] / stock.loc["big", "safety_stock"] == pytest.approx(90.0, rel=1e-9)
    assert stock.loc["big", "safety_stock"] > 100.0  # a week of 1000 a day is not buffered by 5 units


def test_without_a_pool_a_short_series_is_sized_from_its_own_spread():
    """Too few comparable series to pool: the normal buffer of the series' own day-to-day spread."""
    values = {"big": [1000.0, 1200.0, 800.0], "small": [2.0, 3.0, 1.0]}
    result = run_forecast(_frame(values), ForecastConfig(horizon=7, lead_time=7, service_level=0.95))
    stock = result.safety_stock.set_index("item_id")
    assert set(stock["method"]) == {"own_spread"}
    z = 1.6448536269514722
    assert stock.loc["big", "safety_stock"] == pytest.approx(z * 200.0 * np.sqrt(7))
    assert stock.loc["small", "safety_stock"] == pytest.approx(z * 1.0 * np.sqrt(7))


def test_own_spread_of_one_value_takes_its_size_and_of_none_is_zero():
    assert ss.own_spread(np.array([40.0]), 4, 0.5) == 0.0  # z = 0 at the median
    assert ss.own_spread(np.array([40.0]), 4, 0.8413447460685429) == pytest.approx(40.0 * 2.0)
    assert ss.own_spread(np.array([]), 4, 0.95) == 0.0


def test_a_long_series_without_backtest_keeps_its_absolute_buffer():
    """A series long enough for lead-time deviations of its own (but too short for a
    backtest) is buffered from those deviations, in units, whatever its level."""
    rng = np.random.default_rng(5)
    values = _established(30, rng) | {"young": np.tile([100.0, 140.0, 60.0, 100.0], 5)}
    stock = run_forecast(_frame(values), ForecastConfig(horizon=7, lead_time=7)).safety_stock.set_index("item_id")
    deviations = ss.history_errors(np.tile([100.0, 140.0, 60.0, 100.0], 5), 7)
    assert stock.loc["young", "error_samples"] == deviations.size
    assert stock.loc["young", "method"] == "pooled_errors"
    assert 0 < stock.loc["young", "safety_stock"] < 10 * np.abs(deviations).max()
