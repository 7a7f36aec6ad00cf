"""Bad landing input (issue 11): each case is rejected or quarantined with a reason that
names the file or column and says what to do, and nothing is lost on the way.

Every test here runs the real parser, mapping, GX suites and lake on a temporary folder.
"""

from __future__ import annotations

import io
import logging
import unicodedata
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from salescast.ingest.daytable import aggregate_daily
from salescast.ingest.parsing import UnreadableFile, parse_file
from salescast.ingest.pipeline import DayRejected, archive_raw, check_landing_ready, ingest_day, standardize_day
from salescast.ingest.sources import load_sources
from salescast.ingest.standardize import landing_rows
from salescast.lake import Lake

from .test_pipeline import curated

DAY = date(2025, 3, 3)
HEADER = "date,store_id,item_id,units,revenue\n"
POS_HEADER = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"


def drop(lake: Lake, name: str, data: bytes | str, day: date = DAY) -> Path:
    path = Path(lake.landing_dir(day).path) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def clean_rows(n: int, day: date = DAY, store: str = "S01") -> str:
    return "".join(f"{day},{store},I{i:04d},{i % 7 + 1},{(i % 7 + 1) * 2.5}\n" for i in range(n))


def quarantine_of(lake: Lake, result) -> pd.DataFrame:
    from airflow.sdk import ObjectStoragePath

    assert result.quarantine, "nothing was quarantined"
    return lake.read_parquet(ObjectStoragePath(result.quarantine))


def reason_of(name: str, data: bytes) -> str:
    with pytest.raises(UnreadableFile) as caught:
        parse_file(name, data)
    return caught.value.reason


# ---- 1. money is never read as units --------------------------------------------------------


def test_money_column_is_never_read_as_units(lake):
    drop(lake, "a.csv", "date,store,sku,qty,sales\n2025-03-03,S1,A,2,19.98\n")
    ingest_day(lake, DAY, "run1", 0.05)
    row = curated(lake).iloc[0]
    assert (row["units"], row["revenue"]) == (2.0, 19.98)


def test_no_mapping_lists_a_money_word_as_units():
    money = {"sales", "revenue", "amount", "price", "unitprice", "value", "turnover"}
    for mapping in load_sources():
        names = {n.lower().replace("_", "").replace(" ", "") for n in mapping.columns["units"]}
        assert not names & money, mapping.name


def test_a_lone_sales_column_is_rejected_saying_which_column_to_rename():
    reason = reason_of("a.csv", b"date,store,sku,sales\n2025-03-03,S1,A,2\n")
    assert "'sales'" in reason
    assert "money or units" in reason
    assert "rename it to 'units'" in reason


@pytest.mark.parametrize(
    ("header", "columns"),
    [
        ("date,store_id,item_id,units,qty", ("'units'", "'qty'")),
        ("date,store_id,item_id,qty,revenue,sales", ("'revenue'", "'sales'")),
    ],
)
def test_two_columns_with_the_same_meaning_are_rejected(header, columns):
    reason = reason_of("a.csv", (header + "\n").encode())
    assert all(c in reason for c in columns), reason
    assert "keep one" in reason


# ---- 3. every published number parses, or its record is quarantined -------------------------


@pytest.mark.parametrize("value", ["8,00", "NaN", "abc", "inf", "€8"])
def test_unparseable_revenue_is_quarantined_naming_the_column(lake, value):
    drop(lake, "a.csv", HEADER + clean_rows(40) + f'{DAY},S01,I9000,1,"{value}"\n')
    result = standardize_day(lake, DAY, "run1", archive_raw(lake, DAY), max_bad_fraction=0.5)
    q = quarantine_of(lake, result)
    assert q["reason"].tolist() == [f"revenue is not a number (got '{value}')"]
    assert q["line_number"].tolist() == [42]
    assert (result.accepted, result.invalid) == (40, 1)


def test_an_empty_revenue_is_allowed_and_published_as_null(lake):
    drop(lake, "a.csv", HEADER + clean_rows(5) + f"{DAY},S01,I9000,1,\n")
    result = ingest_day(lake, DAY, "run1", 0.05)
    assert result.invalid == 0
    published = curated(lake).set_index("item_id")
    assert pd.isna(published.loc["I9000", "revenue"])
    assert published["revenue"].notna().sum() == 5


def test_parquet_nan_revenue_is_quarantined(lake):
    table = pa.table(
        {"date": ["2025-03-03"] * 2, "store_id": ["S1"] * 2, "item_id": ["A", "B"], "units": [1, 2],
         "revenue": pa.array([2.5, float("nan")], from_pandas=False)}  # a stored NaN, not a null
    )  # fmt: skip
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    drop(lake, "a.parquet", buffer.getvalue())
    result = standardize_day(lake, DAY, "run1", archive_raw(lake, DAY), max_bad_fraction=0.6)
    assert quarantine_of(lake, result)["reason"].tolist() == ["revenue is not a number (got 'nan')"]


def test_pos_price_that_is_missing_or_not_a_number_is_quarantined(lake):
    lines = "".join(f"5{i},85123A,X,2,2025-03-03 08:26:00,2.50,1,UK\n" for i in range(40))
    lines += "600,85123A,X,3,2025-03-03 09:00:00,abc,1,UK\n600,85123A,X,4,2025-03-03 09:00:00,,1,UK\n"
    drop(lake, "p.csv", POS_HEADER + lines)
    result = standardize_day(lake, DAY, "run1", archive_raw(lake, DAY), max_bad_fraction=0.5)
    reasons = quarantine_of(lake, result).set_index("line_number")["reason"]
    assert reasons[42] == "unit price is missing or not a number (got 'abc')"
    assert reasons[43] == "unit price is missing or not a number (got '')"
    from airflow.sdk import ObjectStoragePath

    daily = lake.read_parquet(ObjectStoragePath(result.staged))
    assert daily["units"].tolist() == [80.0]
    assert daily["revenue"].tolist() == [pytest.approx(200.0)]


def test_a_null_revenue_is_never_summed_as_zero():
    rows = pd.DataFrame(
        {"date": ["2025-03-03"] * 2, "store_id": ["S1"] * 2, "item_id": ["A"] * 2, "units": [1.0, 2.0],
         "revenue": [5.0, None], "line_number": [2, 3]}
    )  # fmt: skip
    daily = aggregate_daily(rows)
    assert daily["units"].tolist() == [3.0]
    assert daily["revenue"].isna().all()


# ---- 4. text encodings ----------------------------------------------------------------------


def test_windows_1252_and_utf8_spellings_are_one_series(lake):
    text = HEADER + "2025-03-03,Café,PROMO–€5,1,2.0\n"
    utf8 = parse_file("u.csv", text.encode("utf-8"))
    cp1252 = parse_file("w.csv", text.encode("cp1252"))
    assert cp1252.encoding == "cp1252"
    assert utf8.encoding == "utf-8"
    assert cp1252.rows.loc[0, "store_id"] == "Café"
    assert cp1252.rows.loc[0, "item_id"] == "PROMO–€5"
    drop(lake, "w.csv", text.encode("cp1252"))
    result = ingest_day(lake, DAY, "run1", 0.05)
    assert any("w.csv" in w and "Windows-1252" in w for w in result.warnings)
    assert curated(lake)[["store_id", "item_id"]].values.tolist() == [["Café", "PROMO–€5"]]


def test_decomposed_unicode_ids_are_the_same_series_as_composed_ones(lake):
    nfd = unicodedata.normalize("NFD", "Café")
    drop(lake, "a.csv", HEADER + f"2025-03-03,{nfd},A,1,2.0\n")
    ingest_day(lake, DAY, "run1", 0.05)
    assert curated(lake)["store_id"].tolist() == ["Café"]


def test_a_file_mixing_utf8_and_windows_1252_is_rejected_with_the_line():
    data = (HEADER + "2025-03-03,Café,A,1,2.0\n").encode("utf-8") + "2025-03-03,Café,B,1,2.0\n".encode("cp1252")
    reason = reason_of("mixed.csv", data)
    assert "mixes UTF-8 and another encoding" in reason
    assert "line 3" in reason
    assert "save" in reason.lower()
    assert "UTF-8" in reason


def test_bytes_no_known_encoding_can_decode_are_rejected():
    reason = reason_of("x.csv", HEADER.encode() + b"2025-03-03,S\x81,A,1,2.0\n")
    assert "neither UTF-8 nor Windows-1252" in reason
    assert "line 2" in reason


@pytest.mark.parametrize(
    "data",
    [
        (HEADER + "2025-03-03,S1,A,1,2.0\n").encode("utf-16-le"),
        b"PK\x03\x04\x14\x00\x06\x00" + HEADER.encode(),
        HEADER.encode() + b"2025-03-03,S\x00\x00\x00\x00,A,1,2.0\n",
    ],
    ids=["utf16-without-bom", "binary-header", "nul-in-over-1%-of-the-text"],
)
def test_files_of_nul_bytes_are_refused(data):
    """A NUL in the header or in many characters is not text; a stray NUL in a record is that
    record's problem (tests/unit/ingest/test_ids.py)."""
    reason = reason_of("x.csv", data)
    assert "contains NUL bytes" in reason
    assert "UTF-8" in reason


def test_utf16_with_bom_is_read():
    parsed = parse_file("u16.csv", (HEADER + "2025-03-03,Café,A,1,2.0\n").encode("utf-16"))
    assert parsed.rows.loc[0, "store_id"] == "Café"


# ---- 6. day or month first: decided per file ------------------------------------------------


def pos_rows(day: date, *stamps: str) -> pd.DataFrame:
    lines = "".join(f"{i},85123A,X,1,{s},2.5,1,UK\n" for i, s in enumerate(stamps))
    return landing_rows(parse_file("p.csv", (POS_HEADER + lines).encode()), day)


def test_day_first_invoice_dates_follow_the_landing_folder():
    rows = pos_rows(date(2010, 12, 2), "02/12/2010 08:26", "02/12/2010 09:30")
    assert rows["date"].tolist() == ["2010-12-02", "2010-12-02"]
    rows = pos_rows(date(2010, 2, 12), "02/12/2010 08:26")
    assert rows["date"].tolist() == ["2010-02-12"]


def test_one_unambiguous_value_sets_the_order_for_the_whole_file():
    # 13/11 can only be day-first, so 02/12 in the same file is the 2nd of December, even
    # though the folder day (Feb 12) would have said otherwise: the file decides, not the value.
    rows = pos_rows(date(2010, 2, 12), "02/12/2010 08:26", "13/11/2010 09:00")
    assert rows["date"].tolist() == ["2010-12-02", "2010-11-13"]


def test_a_file_using_both_orders_quarantines_the_ambiguous_dates(lake):
    day = date(2010, 12, 2)
    lines = "".join(f"{i},85123A,X,1,02/12/2010 08:{i % 60:02d},2.5,1,UK\n" for i in range(3))
    lines += "7,85123A,X,1,13/12/2010 08:00,2.5,1,UK\n8,85123A,X,1,12/13/2010 08:00,2.5,1,UK\n"
    drop(lake, "p.csv", POS_HEADER + lines, day)
    result = standardize_day(lake, day, "run1", archive_raw(lake, day), max_bad_fraction=1.0)
    reasons = quarantine_of(lake, result).set_index("line_number")["reason"]
    assert reasons[2] == (
        "date could be day-first or month-first and this file has dates in both orders (got '02/12/2010 08:00')"
    )
    assert len(reasons) == 5
    assert result.accepted == 0


def test_day_first_pos_day_publishes_end_to_end(lake):
    day = date(2010, 12, 2)
    drop(lake, "p.csv", POS_HEADER + "536365,85123A,X,6,02/12/2010 08:26,2.55,17850,United Kingdom\n", day)
    result = ingest_day(lake, day, "run1", 0.05)
    assert result.published_rows == 1
    assert set(curated(lake, day)["date"]) == {day}


# ---- 11. smaller ones -------------------------------------------------------------------------


def test_semicolon_delimited_file_is_read(lake):
    drop(lake, "a.csv", "date;store_id;item_id;units;revenue\n2025-03-03;S1;A;2;5.0\n2025-03-03;S1;B;1;2.5\n")
    result = ingest_day(lake, DAY, "run1", 0.05)
    assert result.published_rows == 2


def test_unrecognised_columns_say_which_delimiter_was_used():
    reason = reason_of("a.csv", b"sku;qty;when\nA1;3;yesterday\n")
    assert "unrecognised columns ['sku', 'qty', 'when']" in reason
    assert "delimiter ';'" in reason


def test_a_subfolder_of_the_landing_day_is_reported_not_silently_ignored(lake, caplog):
    drop(lake, "a.csv", HEADER + clean_rows(3))
    drop(lake, "late/b.csv", HEADER + clean_rows(3, store="S02"))
    caplog.set_level(logging.WARNING, logger="salescast")
    result = ingest_day(lake, DAY, "run1", 0.05)
    assert any("late" in w and "not read" in w for w in result.warnings), result.warnings
    assert any("late" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_a_day_with_only_a_subfolder_says_so_while_waiting(lake):
    drop(lake, "late/b.csv", HEADER + clean_rows(3))
    readiness = check_landing_ready(lake, DAY, settle_seconds=0)
    assert not readiness.ready
    assert "late" in readiness.detail


def test_a_lone_header_only_file_is_named_in_the_rejection(lake):
    drop(lake, "empty_export.csv", HEADER)
    with pytest.raises(DayRejected) as rejected:
        ingest_day(lake, DAY, "run1", 0.05)
    assert "empty_export.csv" in str(rejected.value)


def test_a_rejection_says_what_to_do_next(lake):
    drop(lake, "a.csv", b"")
    with pytest.raises(DayRejected) as rejected:
        ingest_day(lake, DAY, "run1", 0.05)
    message = str(rejected.value)
    assert f"landing/sales/{DAY}/" in message
    assert "re-run the day" in message


def test_a_rerun_replaces_the_days_quarantine(lake):
    quarantine_day = Path(lake.root.path) / "quarantine" / "sales" / f"dt={DAY}"
    legacy = quarantine_day / "run=old" / "rows.parquet"  # the layout before one file per day
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"old")
    drop(lake, "a.csv", HEADER + clean_rows(30) + f"{DAY},,I9,1,1\n")
    first = ingest_day(lake, DAY, "run1", 0.05)
    second = ingest_day(lake, DAY, "run2", 0.05)
    assert first.quarantine == second.quarantine
    assert sorted(p.name for p in quarantine_day.iterdir()) == ["rows.parquet"]
    rows = pd.read_parquet(quarantine_day / "rows.parquet")
    assert rows["run_id"].tolist() == ["run2"]
    assert rows["reason"].tolist() == ["store_id is missing"]
    drop(lake, "a.csv", HEADER + clean_rows(30))  # the source fixed the file
    third = ingest_day(lake, DAY, "run3", 0.05)
    assert third.quarantine is None
    assert not quarantine_day.exists()
