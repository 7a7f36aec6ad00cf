"""A drivers delivery on a file:// and an s3:// lake: every bad value quarantined with its
reason, the rest published under its as-of day, and the forecast's as-of resolution."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from salescast.driver_mapping import DriverMapping, MappingError
from salescast.forecast.drivers_asof import drivers_as_of
from salescast.ingest.drivers import DriversRejected, ingest_drivers_day
from salescast.lake import DATA_FILE, DRIVERS, Lake
from tests.support.lakes import on_both_lakes

ASOF = date(2025, 3, 1)
MAPPING = DriverMapping.load("retail")


def _drop(lake: Lake, day: date, name: str, text: str) -> None:
    lake.write_text(lake.landing_dir(day, "drivers") / name, text)


def _quarantine(lake: Lake, day: date) -> pd.DataFrame:
    return lake.read_parquet(lake.quarantine_file(day, "drivers"))


def _published(lake: Lake, day: date) -> pd.DataFrame:
    return lake.read_parquet(lake.partition_dir(DRIVERS, day) / DATA_FILE)


@on_both_lakes
def test_bad_values_are_quarantined_with_reasons_and_the_rest_published(lake):
    _drop(lake, ASOF, "plan.csv", "\n".join([
        "date,store_id,item_id,promo,price,colour",
        "2025-03-05,S1,I1,1,2.50,red",      # colour: not declared in the mapping
        "2025-03-06,S1,*,2,-1,",            # promo is a flag; price below its range
        "2025-03-07,*,*,,3,",               # an empty cell says nothing
        "03/08/2025,S1,I1,1,,",             # not a YYYY-MM-DD day
        "2025-03-09,S1,I1,0,abc,",          # price is not a number
        "2025-03-10,S2",                    # a malformed record
    ]) + "\n")  # fmt: skip
    _drop(lake, ASOF, "weather.csv", "date;store_id;item_id;temperature\n2025-03-05;S1;*;12.5\n2025-03-05;S1;*;12.5\n")
    result = ingest_drivers_day(lake, ASOF, "run-1", MAPPING, max_bad_fraction=0.9)
    bad = _quarantine(lake, ASOF)
    reasons = " | ".join(bad["reason"])
    for fragment in ("a column the drivers mapping does not declare", "a flag driver is 0 or 1", "promo=2",
                     "below the driver's plausible range", "price=-1", "date is not a day written YYYY-MM-DD",
                     "'03/08/2025'", "not a number (got 'price=abc')", "malformed record"):  # fmt: skip
        assert fragment in reasons, fragment
    assert set(bad["run_id"]) == {"run-1"}
    assert bad["line_number"].dtype == "int64"
    colour = bad.loc[bad["raw"].str.startswith("colour="), "reason"].tolist()
    assert len(colour) == 1
    assert "not a number" not in colour[0]  # one reason: the column is undeclared
    good = _published(lake, ASOF)
    assert sorted(map(tuple, good[["driver", "store_id", "item_id", "value"]].to_numpy().tolist())) == [
        ("price", "*", "*", 3.0), ("price", "S1", "I1", 2.5), ("promo", "S1", "I1", 0.0),
        ("promo", "S1", "I1", 1.0), ("temperature", "S1", "*", 12.5),
    ]  # fmt: skip
    assert set(good["asof"]) == {ASOF}
    assert result.published_rows == 5
    assert result.quarantined == len(bad) == 6
    assert lake.raw_dir(ASOF, "drivers").exists()  # the files, byte for byte


@on_both_lakes
def test_two_values_for_one_key_in_a_delivery_are_both_refused(lake):
    _drop(lake, ASOF, "a.csv", "date,store_id,item_id,price\n2025-03-05,S1,I1,2.5\n")
    _drop(lake, ASOF, "b.csv", "date,store_id,item_id,price\n2025-03-05,S1,I1,2.7\n2025-03-05,S1,*,2.0\n")
    ingest_drivers_day(lake, ASOF, "run-1", MAPPING, max_bad_fraction=0.9)
    bad = _quarantine(lake, ASOF)
    assert sorted(bad["source_file"]) == ["a.csv", "b.csv"]
    assert bad["reason"].str.contains("two different values for one date, store_id, item_id and driver").all()
    assert _published(lake, ASOF)[["store_id", "item_id", "value"]].to_numpy().tolist() == [["S1", "*", 2.0]]


@on_both_lakes
def test_an_unreadable_file_or_too_many_bad_values_rejects_the_day_and_keeps_the_quarantine(lake):
    _drop(lake, ASOF, "plan.csv", "date,store_id,item_id,promo\n2025-03-05,S1,I1,7\n2025-03-06,S1,I1,1\n")
    _drop(lake, ASOF, "keys.csv", "day,shop,sku,promo\n2025-03-05,S1,I1,1\n")
    with pytest.raises(DriversRejected) as rejected:
        ingest_drivers_day(lake, ASOF, "run-1", MAPPING, max_bad_fraction=0.05)
    message = str(rejected.value)
    assert "unreadable file keys.csv: no date, store_id, item_id column" in message
    assert "above the 5.0% allowed" in message
    assert not lake.partition_dir(DRIVERS, ASOF).exists()
    assert len(_quarantine(lake, ASOF)) == 2  # the flag 7 and the whole unreadable file


@on_both_lakes
def test_the_latest_delivery_on_or_before_the_run_day_wins_and_star_rows_stay_apart(lake):
    """A later delivery corrects a value; a delivery after the run day is not seen; a ``*``
    row is kept beside an explicit one (the engine then prefers the explicit one)."""
    _drop(lake, date(2025, 3, 1), "a.csv", "date,store_id,item_id,promo,in_stock\n"
          "2025-03-05,S1,*,1,\n2025-03-06,S1,I1,1,\n2025-03-01,S1,I1,,0.2\n2025-03-09,S1,I1,,1\n")  # fmt: skip
    _drop(lake, date(2025, 3, 3), "b.csv", "date,store_id,item_id,promo\n2025-03-06,S1,I1,0\n2025-03-05,S1,I1,0\n")
    _drop(lake, date(2025, 3, 8), "c.csv", "date,store_id,item_id,promo\n2025-03-06,S1,I1,1\n")
    for day in (date(2025, 3, 1), date(2025, 3, 3), date(2025, 3, 8)):
        ingest_drivers_day(lake, day, "run", MAPPING, max_bad_fraction=0.0)
    resolved = drivers_as_of(lake, date(2025, 3, 4), date(2025, 3, 1), date(2025, 3, 7), MAPPING)
    assert resolved.as_of_days == ["2025-03-01", "2025-03-03"]
    assert resolved.on_run_date is False
    table = resolved.table.set_index(["date", "store_id", "item_id"])
    assert table.loc[(pd.Timestamp("2025-03-06"), "S1", "I1"), "promo"] == 0.0  # corrected on 03-03, not 03-08
    assert table.loc[(pd.Timestamp("2025-03-05"), "S1", "*"), "promo"] == 1.0  # kept beside the explicit 0
    assert table.loc[(pd.Timestamp("2025-03-07"), "S1", "I1"), "promo"] == 0.0  # absent from a calendar: 0
    stock = table["in_stock"].dropna()
    assert stock.index.get_level_values("date").max() <= pd.Timestamp("2025-03-04")  # past only: none after D
    assert stock.loc[(pd.Timestamp("2025-03-01"), "S1", "I1")] == 0.2


def test_a_mapping_that_breaks_the_fixed_meanings_is_refused(tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"drivers": {"in_stock": {"type": "number", "min": 0, "max": 100, "known_ahead": false}}}')
    with pytest.raises(MappingError, match="in_stock has a fixed meaning"):
        DriverMapping.load(bad)
    bad.write_text('{"drivers": {"promo": {"type": "flag", "known_ahead": "yes"}}}')
    with pytest.raises(MappingError, match="known_ahead must be true"):
        DriverMapping.load(bad)
