"""The cold start's hooks in the forecast tasks: nothing without an item master, the shard's
series to leave out, the rows publish adds, the summary, and a failed cold start that does
not hold up the run."""

from __future__ import annotations

import pandas as pd

from salescast.forecast.cold_start_tasks import add_cold_start, cold_start_summary, has_item_master, shard_skip

SUMMARY = {"series": 10, "model_mix": {"theta": 10}}


def test_without_an_item_master_every_hook_leaves_the_run_as_it_was(lake):
    from datetime import date

    assert not has_item_master(lake, date(2025, 4, 30))
    plan = {"cold_start": None}
    history = pd.DataFrame({"store_id": ["S1"], "item_id": ["I1"]})
    assert shard_skip(lake, plan, history) is None
    tables = {"forecasts": [], "metrics": [], "safety_stock": []}
    add_cold_start(lake, plan, tables)
    assert tables == {"forecasts": [], "metrics": [], "safety_stock": []}
    assert cold_start_summary({}, dict(SUMMARY)) == SUMMARY


def test_a_shard_leaves_out_only_its_own_cold_started_series_and_publish_counts_them(lake):
    folder = lake.root / "staging" / "cold_start"
    lake.write_parquet(folder / "skip.parquet", pd.DataFrame({"store_id": ["S1", "S2"], "item_id": ["R1", "D1"]}))
    for name in ("forecasts", "metrics", "safety_stock"):
        lake.write_parquet(folder / f"{name}.parquet", pd.DataFrame({"store_id": ["S1"], "item_id": ["N1"]}))
    entry = {"folder": str(folder), "items_as_of": {"latest_as_of": "2025-04-30"},
             "summary": {"series": 2, "discontinued": {"items": 1}}}  # fmt: skip
    history = pd.DataFrame({"store_id": ["S1", "S1", "S1"], "item_id": ["R1", "R1", "E0"]})
    assert shard_skip(lake, {"cold_start": entry}, history) == [("S1", "R1")]  # S2/D1 is another shard's
    tables: dict[str, list[pd.DataFrame]] = {"forecasts": [], "metrics": [], "safety_stock": []}
    add_cold_start(lake, {"cold_start": entry}, tables)
    assert all(len(frames) == 1 for frames in tables.values())
    summary = cold_start_summary({"cold_start": entry}, {"series": 10, "model_mix": {"theta": 10}})
    assert summary["series"] == 12
    assert summary["model_mix"] == {"theta": 10, "cold_start": 2}
    assert summary["cold_start"]["items_as_of"]["latest_as_of"] == "2025-04-30"


def test_a_failed_cold_start_is_reported_and_the_run_goes_on_without_it(lake):
    entry = {"error": "ValueError: something no rule foresaw"}
    history = pd.DataFrame({"store_id": ["S1"], "item_id": ["R1"]})
    assert shard_skip(lake, {"cold_start": entry}, history) is None
    summary = cold_start_summary({"cold_start": entry}, dict(SUMMARY))
    assert summary["cold_start"] == {"error": "ValueError: something no rule foresaw"}
    assert summary["series"] == 10
