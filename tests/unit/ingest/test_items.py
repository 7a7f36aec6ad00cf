"""An item master delivery on a file:// and an s3:// lake: every bad record quarantined with its
reason, the rest published under its as-of day (items and listings in one commit)."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest

from salescast.ingest.items import ItemsRejected, ingest_items_day
from salescast.lake import DATA_FILE, ITEM_LISTINGS, ITEMS, Lake
from salescast.publish import is_published, read_manifest
from tests.support.lakes import on_both_lakes

ASOF = date(2025, 3, 1)
HEADER = "item_id,category,subcategory,brand,launch_date,status,analog_item_id"


def _drop(lake: Lake, name: str, text: str | bytes, day: date = ASOF) -> None:
    data = text.encode("utf-8") if isinstance(text, str) else text
    lake.write_bytes(lake.landing_dir(day, "items") / name, data)


def _quarantine(lake: Lake, day: date = ASOF) -> pd.DataFrame:
    return lake.read_parquet(lake.quarantine_file(day, "items"))


def _published(lake: Lake, dataset, day: date = ASOF) -> pd.DataFrame:
    return lake.read_parquet(lake.partition_dir(dataset, day) / DATA_FILE)


@on_both_lakes
def test_bad_rows_are_quarantined_with_reasons_and_the_rest_published(lake):
    _drop(lake, "master.csv", "\n".join([
        HEADER + ",colour",
        "I1,Dairy,Milk,Acme,2025-03-10,active,A9,red",        # colour: not in the contract (the row publishes)
        "I2,Dairy,Milk,,2025-03-10,retired,,",                # an unknown status
        "I3,Dairy,Milk,Acme,10/03/2025,active,,",             # not a YYYY-MM-DD day
        "I4,Dairy,Milk,Acme,2025-03-10,active,I4,",           # its own analog
        ",Dairy,Milk,Acme,2025-03-10,active,,",               # no item_id
        "I\x075,Dairy,Milk,Acme,2025-03-10,active,,",         # a refused id (salescast.ids)
        "I6,Dairy,Milk,Acme,2025-03-10,active,,",             # two different rows for I6: both refused
        "I6,Dairy,Cheese,Acme,2025-03-10,active,,",
        "I7,Bakery,Bread,Acme,2024-11-02,Discontinued,,",     # statuses are read case-insensitively
        "I7,Bakery,Bread,Acme,2024-11-02,discontinued,,",     # ... so this is the same record again
        "I8,Bakery",                                          # a malformed record
    ]) + "\n")  # fmt: skip
    _drop(
        lake, "listings-march.csv", "store_id;item_id;list_date\nS1;I1;2025-03-10\nS2;I1;2025-3-10\n*;I1;2025-03-10\n"
    )
    result = ingest_items_day(lake, ASOF, "run-1", max_bad_fraction=0.9)

    bad = _quarantine(lake)
    where = bad["source_file"] + ":" + bad["line_number"].astype(str)
    reasons, raw = dict(zip(where, bad["reason"], strict=True)), dict(zip(where, bad["raw"], strict=True))
    assert "column 'colour' is not in the items contract" in reasons["master.csv:2"]
    assert reasons["master.csv:3"] == "status is neither active nor discontinued (got 'retired')"
    assert reasons["master.csv:4"] == "launch_date is not a day written YYYY-MM-DD (got '10/03/2025')"
    assert reasons["master.csv:5"].startswith("analog_item_id is the item itself")
    assert reasons["master.csv:6"] == "item_id is missing"
    assert reasons["master.csv:7"].startswith("item_id contains a control character U+0007")
    assert reasons["master.csv:8"] == reasons["master.csv:9"]
    assert reasons["master.csv:8"].startswith("two different rows for one item_id in this delivery")
    assert "malformed record" in reasons["master.csv:12"]
    assert reasons["listings-march.csv:3"] == "list_date is not a day written YYYY-MM-DD (got '2025-3-10')"
    assert reasons["listings-march.csv:4"].startswith("store_id * is not a store")
    assert set(bad["run_id"]) == {"run-1"}
    assert bad["line_number"].dtype == "int64"
    assert raw["master.csv:2"] == "colour=red for item_id=I1"
    assert '"status": "retired"' in raw["master.csv:3"]  # the record as delivered

    items = _published(lake, ITEMS).set_index("item_id")
    assert sorted(items.index) == ["I1", "I7"]
    assert items.loc["I1", "analog_item_id"] == "A9"
    assert items.loc["I7", "status"] == "discontinued"
    assert items.loc["I7", "launch_date"] == date(2024, 11, 2)
    assert set(items["asof"]) == {ASOF}
    listings = _published(lake, ITEM_LISTINGS)
    assert listings[["store_id", "item_id", "list_date"]].to_numpy().tolist() == [["S1", "I1", date(2025, 3, 10)]]
    assert (result.published_items, result.published_listings, result.repeats) == (2, 1, 1)
    assert result.quarantined == len(bad) == 11
    assert result.records == 15  # 11 item records, 1 unknown cell, 3 listings
    assert result.statuses == {"active": 1, "discontinued": 1}
    manifest = read_manifest(lake, lake.partition_dir(ITEMS, ASOF))
    assert (manifest["dataset"], manifest["rows"], manifest["quarantined"]) == ("items", 2, 11)
    assert read_manifest(lake, lake.partition_dir(ITEM_LISTINGS, ASOF))["rows"] == 1
    assert (lake.raw_dir(ASOF, "items") / "master.csv").exists()  # the files, byte for byte
    assert not lake.staging_dir(ITEMS, ASOF).exists()


@on_both_lakes
def test_an_unreadable_file_or_too_many_bad_rows_rejects_the_delivery_and_keeps_the_quarantine(lake):
    _drop(lake, "master.csv", f"{HEADER}\nI1,Dairy,Milk,Acme,2025-03-10,gone,\nI2,Dairy,Milk,Acme,2025-03-10,active,\n")
    _drop(lake, "stores.csv", "store_id,item_id,list_date\nS1,I1,2025-03-10\n")  # listings, but not named so
    with pytest.raises(ItemsRejected) as rejected:
        ingest_items_day(lake, ASOF, "run-1", max_bad_fraction=0.05)
    message = str(rejected.value)
    assert "unreadable file stores.csv: no category, subcategory, brand, launch_date, status column" in message
    assert "planned store listings go in a file whose name starts with 'listings'" in message
    assert "above the 5.0% allowed" in message
    assert not lake.partition_dir(ITEMS, ASOF).exists()
    assert not lake.partition_dir(ITEM_LISTINGS, ASOF).exists()
    assert sorted(_quarantine(lake)["kind"]) == ["file", "invalid"]  # the whole unreadable file and the bad status


def test_a_re_run_replaces_the_day_and_files_follow_the_sales_reading_rules(lake):
    """Parquet (a typed date column) and Windows-1252 with ; beside UTF-8; a re-run with the
    files fixed publishes the day anew and removes its quarantine."""
    _drop(lake, "master.csv", f"{HEADER}\nI1,Dairy,Milk,Acme,2025-03-10,new,\n")
    ingest_items_day(lake, ASOF, "run-1", max_bad_fraction=1.0)
    assert len(_quarantine(lake)) == 1
    assert len(_published(lake, ITEMS)) == 0
    assert is_published(lake.partition_dir(ITEMS, ASOF))

    _drop(lake, "master.csv", f"{HEADER}\nI1,Dairy,Milk,Acme,2025-03-10,active,\n")
    french = "item_id;category;subcategory;brand;launch_date;status\nI2;Épicerie;Café;Mère;2025-04-01;active\n"
    _drop(lake, "fr.csv", french.encode("cp1252"))
    row = {"item_id": "I3", "category": "Dairy", "subcategory": "Milk", "brand": "Acme",
           "launch_date": date(2025, 5, 1), "status": "active", "analog_item_id": "I1"}  # fmt: skip
    frame = pd.DataFrame([row])
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    _drop(lake, "new.parquet", buffer.getvalue())
    result = ingest_items_day(lake, ASOF, "run-2", max_bad_fraction=0.0)
    assert result.quarantine is None
    assert not lake.quarantine_file(ASOF, "items").exists()
    items = _published(lake, ITEMS).set_index("item_id")
    assert sorted(items.index) == ["I1", "I2", "I3"]
    assert items.loc["I2", ["category", "subcategory", "brand"]].tolist() == ["Épicerie", "Café", "Mère"]
    assert items.loc["I3", "launch_date"] == date(2025, 5, 1)
    assert len(_published(lake, ITEM_LISTINGS)) == 0  # a delivery without listings: an empty partition
    assert read_manifest(lake, lake.partition_dir(ITEMS, ASOF))["run_id"] == "run-2"
