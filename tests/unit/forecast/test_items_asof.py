"""The item master as known on a run date: the latest delivery on or before it wins per item
and per listing, and a delivery after it is never seen (a backfill of D sees what D saw)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from salescast.forecast.items_asof import items_as_of
from salescast.ingest.items import ingest_items_day
from salescast.lake import ITEMS, SUCCESS_MARKER, Lake
from tests.support.lakes import on_both_lakes

HEADER = "item_id,category,subcategory,brand,launch_date,status,analog_item_id"


def _deliver(lake: Lake, day: date, items: list[str], listings: list[str] = ()) -> None:
    lake.write_text(lake.landing_dir(day, "items") / "items.csv", "\n".join([HEADER, *items]) + "\n")
    if listings:
        text = "\n".join(["store_id,item_id,list_date", *listings]) + "\n"
        lake.write_text(lake.landing_dir(day, "items") / "listings.csv", text)
    ingest_items_day(lake, day, "run", max_bad_fraction=0.0)


@on_both_lakes
def test_the_latest_delivery_on_or_before_the_run_date_wins_per_item_and_per_listing(lake):
    first = ["N1,Dairy,Milk,Acme,2025-03-20,active,A1", "OLD,Dairy,Milk,Acme,2020-01-01,active,"]
    _deliver(lake, date(2025, 3, 1), first, ["S1,N1,2025-03-20", "S2,N1,2025-03-20"])
    # known on 03-05: N1's launch moves a week, its analog is dropped; S2's listing moves too
    _deliver(lake, date(2025, 3, 5), ["N1,Dairy,Milk,Acme,2025-03-27,active,"], ["S2,N1,2025-03-27"])
    # known on 03-10, after the run date below: OLD is discontinued, N2 announced
    later = ["OLD,Dairy,Milk,Acme,2020-01-01,discontinued,", "N2,Bakery,Bread,B,2025-04-01,active,"]
    _deliver(lake, date(2025, 3, 10), later, ["S1,N2,2025-04-01"])

    seen = items_as_of(lake, date(2025, 3, 7))
    items = seen.items.set_index("item_id")
    assert sorted(items.index) == ["N1", "OLD"]  # N2 is not known yet
    assert items.loc["N1", "launch_date"] == date(2025, 3, 27)  # the later row wins whole:
    assert pd.isna(items.loc["N1", "analog_item_id"])  # ... its empty analog too
    assert items.loc["N1", "asof"] == date(2025, 3, 5)
    assert items.loc["OLD", "status"] == "active"  # discontinued only on 03-10
    assert items.loc["OLD", "asof"] == date(2025, 3, 1)  # not mentioned on 03-05: its row stays
    listings = {(r.store_id, r.item_id): r.list_date for r in seen.listings.itertuples()}
    assert listings == {("S1", "N1"): date(2025, 3, 20), ("S2", "N1"): date(2025, 3, 27)}
    assert seen.as_of_days == ["2025-03-01", "2025-03-05"]
    assert seen.on_run_date is False
    assert seen.to_summary()["statuses"] == {"active": 2}

    later = items_as_of(lake, date(2025, 3, 10))
    assert later.on_run_date is True
    assert later.items.set_index("item_id").loc["OLD", "status"] == "discontinued"
    assert sorted(later.items["item_id"]) == ["N1", "N2", "OLD"]
    assert len(later.listings) == 3
    assert items_as_of(lake, date(2025, 3, 7)).items.equals(seen.items)  # a backfill of 03-07 sees the same


def test_nothing_published_yet_or_an_unmarked_partition_gives_empty_tables(lake):
    nothing = items_as_of(lake, date(2025, 3, 7))
    assert nothing.items.empty
    assert "launch_date" in nothing.items.columns
    assert "asof" in nothing.items.columns
    assert nothing.listings.empty
    assert list(nothing.listings.columns)[:3] == ["store_id", "item_id", "list_date"]
    assert nothing.as_of_days == []
    assert nothing.latest_as_of is None
    _deliver(lake, date(2025, 3, 1), ["N1,Dairy,Milk,Acme,2025-03-20,active,"])
    (lake.partition_dir(ITEMS, date(2025, 3, 1)) / SUCCESS_MARKER).unlink()  # a publish that did not finish
    assert items_as_of(lake, date(2025, 3, 7)).items.empty
