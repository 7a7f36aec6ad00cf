"""Planners' overrides on a run's forecast: which one wins, what it does to the band, what is reported."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from salescast.forecast.overrides import NO_SERIES, OUTRANKED, OUTSIDE, apply_overrides

RUN = date(2025, 3, 31)
Q = ["p10", "p50", "p90"]


def forecasts() -> pd.DataFrame:
    rows = []
    for store in ("S1", "S2"):
        for item in ("A", "B"):
            for step in range(1, 8):
                rows.append({"store_id": store, "item_id": item, "date": RUN + timedelta(days=step),
                             "horizon_step": step, "p10": 5.0, "p50": 10.0, "p90": 20.0, "mean": 11.0,
                             "model": "theta"})  # fmt: skip
    return pd.DataFrame(rows)


def override(oid, store, item, start, end, kind, value, asof=date(2025, 3, 30)) -> dict:
    return {"override_id": oid, "store_id": store, "item_id": item, "date_from": start, "date_to": end,
            "kind": kind, "value": value, "reason": f"because {oid}", "author": "ana", "expires": None,
            "asof": asof}  # fmt: skip


def run(*rows: dict) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    base = forecasts()
    final, report = apply_overrides(base, pd.DataFrame(list(rows)), Q, "p50")
    return base, final, report.to_dict()


def at(frame: pd.DataFrame, store: str, item: str, day: int) -> pd.Series:
    return frame[(frame["store_id"] == store) & (frame["item_id"] == item) & (frame["horizon_step"] == day)].iloc[0]


def test_each_kind_moves_the_band_with_the_median_and_the_statistical_table_stays_untouched():
    d1, d7 = RUN + timedelta(days=1), RUN + timedelta(days=7)
    base, final, report = run(
        override("set", "S1", "A", d1, d7, "set", 30.0),
        override("add", "S1", "B", d1, d7, "add", -8.0),
        override("pct", "S2", "A", d1, d7, "pct", -50.0),
    )
    pd.testing.assert_frame_equal(base, forecasts())  # the input is not changed
    assert at(final, "S1", "A", 1)[["p10", "p50", "p90", "mean"]].tolist() == [15.0, 30.0, 60.0, 33.0]
    assert at(final, "S1", "B", 1)[["p10", "p50", "p90", "mean"]].tolist() == [0.0, 2.0, 12.0, 3.0]  # floor 0
    assert at(final, "S2", "A", 1)[["p10", "p50", "p90", "mean"]].tolist() == [2.5, 5.0, 10.0, 5.5]
    untouched = at(final, "S2", "B", 1)
    assert untouched[["p10", "p50", "p90"]].tolist() == [5.0, 10.0, 20.0]
    assert pd.isna(untouched["override_id"])
    assert at(final, "S1", "A", 3)["override_id"] == "set"
    assert at(final, "S1", "A", 3)["override_reason"] == "because set"
    assert report["applied"] == 3
    assert report["rows_changed"] == 21
    assert report["series_changed"] == 3


def test_set_on_a_zero_forecast_makes_every_quantile_the_value():
    base = forecasts().assign(p10=0.0, p50=0.0, p90=0.0, mean=0.0)
    rule = override("launch", "S1", "A", RUN + timedelta(days=1), RUN + timedelta(days=2), "set", 12.0)
    final, _ = apply_overrides(base, pd.DataFrame([rule]), Q, "p50")
    assert at(final, "S1", "A", 1)[["p10", "p50", "p90", "mean"]].tolist() == [12.0] * 4
    assert at(final, "S1", "A", 3)["p50"] == 0.0  # after date_to


def test_the_most_specific_then_the_latest_override_wins_and_they_never_stack():
    d1, d7 = RUN + timedelta(days=1), RUN + timedelta(days=7)
    _, final, report = run(
        override("chain", "*", "*", d1, d7, "pct", 10.0),
        override("store", "S1", "*", d1, d7, "pct", 20.0),
        override("item-old", "S1", "A", d1, d7, "add", 1.0, asof=date(2025, 3, 1)),
        override("item-new", "S1", "A", d1, d1, "add", 2.0, asof=date(2025, 3, 20)),
        override("everywhere-A", "*", "A", d1, d7, "pct", 30.0),
    )
    assert at(final, "S1", "A", 1)["override_id"] == "item-new"  # S,I; the later delivery on day 1
    assert at(final, "S1", "A", 1)["p50"] == 12.0  # 10 + 2, not + 1 as well, not + 10%
    assert at(final, "S1", "A", 2)["override_id"] == "item-old"
    assert at(final, "S2", "A", 1)["override_id"] == "everywhere-A"  # *,I over S,* and *,*
    assert at(final, "S1", "B", 1)["override_id"] == "store"
    assert at(final, "S2", "B", 1)["override_id"] == "chain"
    assert at(final, "S2", "B", 1)["p50"] == pytest.approx(11.0)
    assert report["applied"] == 5


def test_overrides_that_change_nothing_are_reported_with_the_reason():
    d1, d7 = RUN + timedelta(days=1), RUN + timedelta(days=7)
    _, final, report = run(
        override("ghost", "S9", "A", d1, d7, "set", 5.0),
        override("last-year", "S1", "A", date(2024, 1, 1), date(2024, 1, 7), "set", 5.0),
        override("hidden", "S1", "*", d1, d7, "pct", 5.0),
        override("covers", "S1", "A", d1, d7, "add", 1.0),
        override("covers-B", "S1", "B", d1, d7, "add", 1.0),
    )
    assert report["not_applied"] == {NO_SERIES: 1, OUTSIDE: 1, OUTRANKED: 1}
    assert report["examples"] == {NO_SERIES: ["ghost"], OUTSIDE: ["last-year"], OUTRANKED: ["hidden"]}
    assert report["considered"] == 5
    assert report["applied"] == 2
    assert set(final["override_id"].dropna()) == {"covers", "covers-B"}


def test_no_overrides_give_the_statistical_table_with_empty_trace_columns():
    base = forecasts()
    empty = pd.DataFrame(columns=["override_id", "store_id", "item_id", "date_from", "date_to", "kind", "value",
                                  "reason", "author", "expires", "asof"])  # fmt: skip
    final, report = apply_overrides(base, empty, Q, "p50")
    pd.testing.assert_frame_equal(final[base.columns], base)
    assert final["override_id"].isna().all()
    assert np.isnan(final["override_value"]).all()
    assert report.to_dict()["rows_changed"] == 0
