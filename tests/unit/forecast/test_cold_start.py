"""Cold start on a known history (tests.support.launches): new items forecast from their analog
or their category, discontinued items left out, and every bad input with its reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salescast.forecast.cold_start import BandPool, band, handed_over, narrowing, plan_cold_start
from salescast.forecast.config import ForecastConfig
from salescast.forecast.fallbacks import too_short
from tests.support.launches import ANALOG_WEEKLY, END, STORES, history, listings, master

CFG = ForecastConfig()


@pytest.fixture(scope="module")
def sales() -> pd.DataFrame:
    return history()


@pytest.fixture(scope="module")
def plan(sales):
    extra = [("S1", "N5", "2025-04-10"), ("S9", "N1", "2025-05-03"), ("S1", "N1", "2025-06-01")]
    rows = [(s, n, "2025-05-01") for s in STORES for n in ("N1", "N2", "N3", "N4")] + extra
    frame = listings(rows).drop_duplicates(["store_id", "item_id"], keep="first")
    return plan_cold_start(sales, master(), frame, CFG, END)


def _series(plan, store: str, item: str) -> pd.DataFrame:
    rows = plan.forecasts[(plan.forecasts["store_id"] == store) & (plan.forecasts["item_id"] == item)]
    return rows.sort_values("horizon_step")


def _reason(plan, store: str, item: str) -> str:
    chosen = plan.metrics[(plan.metrics["store_id"] == store) & (plan.metrics["item_id"] == item)]
    assert len(chosen) == 1
    return chosen["reason"].iloc[0]


def test_a_new_item_listed_in_three_stores_is_shaped_like_its_analog(plan, sales):
    by_store = {}
    for store, _size in STORES.items():
        rows = _series(plan, store, "N1")
        assert len(rows) == CFG.horizon
        assert set(rows["model"]) == {"cold_start"}
        assert (rows["p10"] <= rows["p50"]).all()
        assert (rows["p50"] <= rows["p90"]).all()
        weekly = rows.set_index(pd.to_datetime(rows["date"]).dt.day_of_week)["mean"].sort_index().to_numpy()
        assert np.corrcoef(weekly, ANALOG_WEEKLY)[0, 1] > 0.95, weekly  # the analog's weekend peak
        a1 = sales[(sales["store_id"] == store) & (sales["item_id"] == "A1")]
        recent = a1.sort_values("date")["units"].tail(28).mean()
        assert 0.3 < weekly.mean() / recent < 0.6  # its level in its first week: the launches' ramp (0.4)
        by_store[store] = weekly.mean()
        assert _reason(plan, store, "N1").startswith(f"analog A1 in {store} (its recent level, ramp of ")
    assert by_store["S3"] / by_store["S1"] == pytest.approx(2.0, rel=0.2)  # each store's own level
    assert by_store["S2"] / by_store["S1"] == pytest.approx(0.5, rel=0.2)


def test_an_analog_launched_in_the_history_lends_its_first_week(plan, sales):
    for store in STORES:
        a2 = sales[(sales["store_id"] == store) & (sales["item_id"] == "A2") & (sales["units"] > -1)]
        first_week = a2.sort_values("date")["units"].head(7).mean()
        assert _series(plan, store, "N2")["mean"].mean() == pytest.approx(first_week)  # 7 days: each weekday once
        assert _reason(plan, store, "N2") == f"analog A2 in {store} (its first 8 weeks after launch)"


def test_a_discontinued_item_gets_no_rows_and_is_counted(plan):
    assert "D1" not in set(plan.forecasts["item_id"])
    skipped = plan.skip[plan.skip["item_id"] == "D1"]
    assert sorted(skipped["store_id"]) == sorted(STORES)  # the bake-off leaves its series out
    assert plan.summary.to_dict()["discontinued"]["items"] == 1
    assert plan.summary.to_dict()["discontinued"]["series"] == 3


def test_bad_analogs_fall_back_to_the_category_and_say_why(plan):
    reason = _reason(plan, "S1", "N3")
    assert reason.startswith("analog R1 is new itself (")
    assert " days of sales in S1): category snacks, " in reason
    assert _reason(plan, "S2", "N4").startswith("analog GHOST does not exist (not in the item master, never sold): ")
    assert "category snacks, " in _reason(plan, "S2", "N4")


def test_a_launch_in_the_past_without_sales_is_forecast_lower_and_says_so(plan):
    reason = _reason(plan, "S1", "N5")
    assert "launched 2025-04-10, no sales yet" in reason, reason
    three_weeks_of_zeros = float(reason.rsplit("(x", 1)[1].rstrip(")"))
    assert 0 < three_weeks_of_zeros < 0.5  # three weeks without a sale weigh against the category's level
    assert (_series(plan, "S1", "N5")["p50"] >= 0).all()


def test_a_store_that_never_sold_anything_uses_the_category_everywhere_and_starts_on_its_day(plan):
    rows = _series(plan, "S9", "N1")
    reason = _reason(plan, "S9", "N1")
    assert reason.startswith("analog A1 has no sales in S9: category snacks, "), reason
    assert "in all stores" in reason
    assert reason.endswith("starts 2025-05-03")
    assert (rows[["p10", "p50", "p90", "mean"]].iloc[:2].to_numpy() == 0).all()  # listed from the third day
    assert (rows["mean"].iloc[2:] > 0).all()


def test_an_item_is_the_engines_once_its_own_sales_cover_a_week(plan, sales):
    """HANDOVER_DAYS: R1 has 10 days of sales, so the engine's short-series fallback forecasts it;
    had it first sold 4 days ago it would still be new, its basis scaled by those days."""
    assert handed_over(7, CFG)
    assert not handed_over(6, CFG)
    assert too_short(29, CFG)  # the engine's own rule (bake-off or fallback) is a different one
    keys = set(map(tuple, plan.skip.to_numpy()))
    assert not {(s, "R1") for s in STORES} & keys  # 10 days: the engine's
    assert not {(s, "L4") for s in STORES} & keys  # 70 days: the bake-off's
    cut = sales[(sales["item_id"] != "R1") | (pd.to_datetime(sales["date"]) > pd.Timestamp(END) - pd.Timedelta(days=4))]
    young = plan_cold_start(cut, master(), listings([]), CFG, END)
    assert {(s, "R1") for s in STORES} <= set(map(tuple, young.skip.to_numpy()))
    reason = _reason(young, "S1", "R1")
    assert "days of its own sales" in reason, reason
    assert "x" in reason


def test_a_listing_after_the_horizon_is_not_forecast_yet(sales):
    later = plan_cold_start(
        sales, master(), listings([("S1", "N1", "2025-06-01"), ("S1", "X9", "2025-05-01")]), CFG, END
    )
    assert not (later.forecasts["item_id"] == "N1").any()
    assert later.summary.to_dict()["not_forecast"]["listed after the horizon"] == 1
    assert later.summary.to_dict()["not_forecast"]["listed, not in the item master"] == 1
    assert later.summary.to_dict()["not_forecast"]["no store: not listed and never sold"] == 4  # N2..N5


def test_the_band_comes_from_comparable_launches_or_an_assumed_spread(plan):
    summary = plan.summary.to_dict()
    assert summary["band"].startswith("errors of comparable launches (")
    assert summary["launches_found"] == 21  # L0..L4, A2, R1 in three stores
    stock = plan.safety_stock.set_index(["store_id", "item_id"]).loc[("S1", "N1")]
    assert stock["method"] == "cold_start_launches"
    assert stock["safety_stock"] > 0
    point = np.array([0.0, 2.0, 5.0, 10.0])
    assumed = band(point, None, CFG)
    assert (assumed[:, 0] == 0).all()
    assert (np.diff(assumed, axis=0) >= 0).all()
    assert assumed[0, 3] < 10 < assumed[2, 3]


def test_without_master_items_in_the_history_nothing_changes(sales):
    empty = plan_cold_start(sales.iloc[:0], master().iloc[:0], listings([]), CFG, END)
    assert empty.forecasts.empty
    assert empty.skip.empty
    assert empty.metrics.empty


def test_own_sales_take_over_as_fast_as_comparable_launches_strayed_from_their_basis():
    steady, scattered = BandPool(), BandPool()
    steady.totals["snacks"] = [(100.0, 100.0)] * 10  # every launch sold what its basis said
    scattered.totals["snacks"] = [(r * 100.0, 100.0) for r in (0.2, 3.0, 0.5, 1.8, 0.1, 2.5, 0.7, 1.0, 0.3, 2.2)]
    assert steady.strength("snacks") == pytest.approx(100.0)  # the basis weighs as 100 units of own sales
    assert scattered.strength("snacks") < 2.0  # a few units of its own outweigh the basis
    assert BandPool().strength("snacks") == pytest.approx(4.0)  # no launches: level CV 0.5 assumed
    point = np.full(7, 5.0)
    assert narrowing(4.0, 0.0, point) == pytest.approx(1.0)
    assert narrowing(4.0, 35.0, point) < narrowing(4.0, 7.0, point) < 1.0  # the band narrows as sales come in
