"""What-if drivers: a scenario replaces the future values it gives, nothing else."""

from __future__ import annotations

import pandas as pd

from salescast.forecast.scenario import side_by_side, with_scenario

AFTER = pd.Timestamp("2025-01-10")


def test_a_scenario_replaces_only_the_future_values_of_the_keys_and_drivers_it_gives():
    days = pd.date_range("2025-01-08", "2025-01-14")
    base = pd.concat([
        pd.DataFrame({"date": days, "store_id": "S1", "item_id": item, "promo": 1.0, "price": 2.0})
        for item in ("A", "B")
    ])  # fmt: skip
    scenario = pd.DataFrame({"date": pd.to_datetime(["2025-01-09", "2025-01-12"]), "store_id": "S1",
                             "item_id": "A", "promo": [0.0, 0.0]})  # fmt: skip
    out = with_scenario(base, scenario, AFTER)
    a = out[out["item_id"] == "A"]
    promo = a.dropna(subset=["promo"]).set_index("date")["promo"]
    assert promo[pd.Timestamp("2025-01-09")] == 1.0  # the past is what happened: the scenario's row is ignored
    assert promo[pd.Timestamp("2025-01-12")] == 0.0  # replaced
    assert not promo.index.isin(pd.to_datetime(["2025-01-11", "2025-01-13", "2025-01-14"])).any()  # no longer 1
    assert (a.dropna(subset=["price"])["price"] == 2.0).sum() == len(days)  # a driver it does not give stays
    assert (out[out["item_id"] == "B"]["promo"] == 1.0).sum() == len(days)  # an item it does not give stays


def test_side_by_side_pairs_every_quantile_and_the_change():
    keys = {"store_id": "S1", "item_id": "A", "date": pd.date_range("2025-01-11", periods=2)}
    base = pd.DataFrame(keys | {"p10": [1.0, 1.0], "p50": [2.0, 2.0], "p90": [3.0, 3.0], "model": "x"})
    planned = base.assign(p50=[2.0, 5.0])
    both = side_by_side(base, planned)
    assert list(both.columns) == ["store_id", "item_id", "date", "p10_base", "p50_base", "p90_base",
                                  "p10_scenario", "p50_scenario", "p90_scenario", "p50_change"]  # fmt: skip
    assert both["p50_change"].tolist() == [0.0, 3.0]
