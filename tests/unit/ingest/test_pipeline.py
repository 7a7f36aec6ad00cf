"""A day's ingest without Airflow (``salescast.ingest.pipeline``): archive, map, validate,
quarantine, publish.

The invariant under test everywhere: every record of every landing file is either
published or quarantined with a reason. Nothing is dropped silently.

Bad landing input (issue 11): each case is rejected or quarantined with a reason that names the
file or column and says what to do, and nothing is lost on the way; the real parser, mapping, GX
suites and lake on a temporary folder. The last section runs such cases on a file:// lake and
an s3:// lake (moto_server): for every input record of every case, it is published (summed into
its daily row) or quarantined with a reason, never both and never neither; money and units are
never swapped; re-running the day changes nothing (same curated bytes, the same rows in the one
quarantine file, no new raw copy).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import os
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from salescast.ingest.parsing import parse_file
from salescast.ingest.pipeline import (
    QUARANTINE_FILE,
    DayRejected,
    IngestResult,
    archive_raw,
    check_landing_ready,
    ingest_day,
    publish_day,
    standardize_day,
)
from salescast.lake import SALES_DAILY, SUCCESS_MARKER, Lake
from salescast.publish import DATA_FILE, read_manifest
from salescast_dev.generate import PanelSpec, write_landing
from tests.support.lakes import on_both_lakes

DAY = date(2025, 3, 3)
HEADER = "date,store_id,item_id,units,revenue\n"
POS_HEADER = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"


def landing(lake: Lake, day: date = DAY) -> Path:
    folder = Path(lake.landing_dir(day).path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def drop(lake: Lake, name: str, data: bytes | str, day: date = DAY) -> Path:
    path = landing(lake, day) / name
    path.parent.mkdir(parents=True, exist_ok=True)  # a name may hold a sub-folder
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def clean_rows(n: int, day: date = DAY, store: str = "S01") -> str:
    return "".join(f"{day},{store},I{i:04d},{i % 7},{(i % 7) * 2.5}\n" for i in range(n))


def curated(lake: Lake, day: date = DAY) -> pd.DataFrame:
    return lake.read_parquet(lake.curated_dir(day) / DATA_FILE)


def quarantine(lake: Lake, result) -> pd.DataFrame:
    from airflow.sdk import ObjectStoragePath

    return lake.read_parquet(ObjectStoragePath(result.quarantine))


def nonzero_rows(n: int, day: date = DAY, store: str = "S01") -> str:
    return "".join(f"{day},{store},I{i:04d},{i % 7 + 1},{(i % 7 + 1) * 2.5}\n" for i in range(n))


def quarantine_of(lake: Lake, result) -> pd.DataFrame:
    from airflow.sdk import ObjectStoragePath

    assert result.quarantine, "nothing was quarantined"
    return lake.read_parquet(ObjectStoragePath(result.quarantine))


# ---- readiness -------------------------------------------------------------------------


def test_sensor_waits_for_files_then_for_them_to_settle(lake):
    assert not check_landing_ready(lake, DAY, settle_seconds=60).ready
    path = drop(lake, "a.csv", HEADER + clean_rows(3))
    young = check_landing_ready(lake, DAY, settle_seconds=60)
    assert not young.ready
    assert "still changing" in young.detail
    assert "a.csv" in young.detail
    old = time.time() - 120
    os.utime(path, (old, old))
    assert check_landing_ready(lake, DAY, settle_seconds=60).ready


def test_ready_marker_and_ignored_names(lake):
    drop(lake, "a.csv", HEADER + clean_rows(3))
    drop(lake, ".b.csv.tmp", "half")
    drop(lake, "c.csv.part", "half")
    drop(lake, "_READY", "")
    readiness = check_landing_ready(lake, DAY, settle_seconds=3600)
    assert readiness.ready
    assert readiness.files == ["a.csv"]


# ---- archive ---------------------------------------------------------------------------


def test_raw_archive_is_byte_identical_and_never_rewritten(lake):
    original = HEADER + clean_rows(5)
    drop(lake, "a.csv", original)
    first = archive_raw(lake, DAY)
    raw = Path(lake.raw_dir(DAY).path)
    assert (raw / "a.csv").read_bytes() == original.encode()
    assert first[0].sha256 == hashlib.sha256(original.encode()).hexdigest()
    mtime = (raw / "a.csv").stat().st_mtime_ns
    archive_raw(lake, DAY)  # same content again: nothing written
    assert (raw / "a.csv").stat().st_mtime_ns == mtime
    corrected = HEADER + clean_rows(6)
    drop(lake, "a.csv", corrected)
    second = archive_raw(lake, DAY)
    assert (raw / "a.csv").read_bytes() == original.encode()
    assert second[0].raw.startswith("a~")
    assert second[0].raw.endswith(".csv")
    assert (raw / second[0].raw).read_bytes() == corrected.encode()
    assert sorted(p.name for p in raw.iterdir()) == sorted(["a.csv", second[0].raw])


def test_archive_only_takes_the_files_the_sensor_saw(lake):
    drop(lake, "a.csv", HEADER + clean_rows(2))
    drop(lake, "b.csv", HEADER + clean_rows(2, store="S02"))
    assert [a.landing for a in archive_raw(lake, DAY, ["a.csv"])] == ["a.csv"]
    with pytest.raises(FileNotFoundError, match="vanished"):
        archive_raw(lake, DAY, ["gone.csv"])


# ---- standardize + validate ------------------------------------------------------------


def test_every_defect_kind_gets_a_specific_reason_and_counts_add_up(lake):
    good = clean_rows(200)
    bad = (
        f"{DAY},,I9001,1,1.0\n"  # null store
        f"{DAY},S01,,1,1.0\n"  # null item
        f"{DAY},S01,I9002,12x,1.0\n"  # unparseable number
        f"2025-03-02,S01,I9003,1,1.0\n"  # another day
        f"03/03/2025,S01,I9004,1,1.0\n"  # unknown date format
        f"{DAY},S01,I9005,250000,1.0\n"  # implausible
        f"{DAY},S01,I0001,1,2.5\n"  # duplicate of line 3 (I0001, 1 unit)
        f"{DAY},S01,I0002,9,1.0\n"  # conflicts with I0002's row
        f"{DAY},S01,I9006\n"  # malformed record
    )
    drop(lake, "a.csv", HEADER + good + bad)
    result = standardize_day(lake, DAY, "run1", archive_raw(lake, DAY), max_bad_fraction=0.5)
    q = quarantine(lake, result)
    reasons = dict(zip(q["line_number"].astype(int), q["reason"], strict=True))
    first_bad = 2 + 200
    assert reasons[first_bad] == "store_id is missing"
    assert reasons[first_bad + 1] == "item_id is missing"
    assert reasons[first_bad + 2] == "units is missing or not a number (got '12x')"
    assert reasons[first_bad + 3] == "date is not the day of the landing folder (got '2025-03-02')"
    assert reasons[first_bad + 4] == "date is missing or not in a known format (got '03/03/2025')"
    assert reasons[first_bad + 5] == "units outside the plausible range -10000..100000 (got 250000.0)"
    assert reasons[first_bad + 6] == "exact duplicate of an earlier record (got 'a.csv:3')"
    assert "same date, store_id and item_id" in reasons[first_bad + 7]
    assert "same date, store_id and item_id" in reasons[4]  # the original I0002 row is ambiguous too
    assert reasons[first_bad + 8] == "malformed record: 3 fields where the header has 5"
    assert set(q["kind"]) == {"invalid"}
    assert result.records_in == 209
    assert result.accepted + result.invalid + result.excluded == result.records_in
    assert result.invalid == 10
    assert result.healthy
    assert result.published_rows == 199  # 200 clean rows minus the ambiguous I0002
    raw_lines = set(q["raw"].dropna())
    assert any('"units": "12x"' in r for r in raw_lines)


def test_pos_lines_are_aggregated_and_fees_quarantined_as_excluded(lake):
    header = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
    lines = (
        "536365,85123A,HEART,6,2025-03-03 08:26:00,2.55,17850.0,United Kingdom\n"
        "536366,85123a,HEART,4,2025-03-03 09:00:00,2.55,,United Kingdom\n"
        "C536367,85123A,HEART,-2,2025-03-03 10:00:00,2.55,17850.0,United Kingdom\n"
        "536368,85123A,HEART,1,2025-03-03 10:00:00,2.55,12345.0,France\n"
        "536368,POST,POSTAGE,1,2025-03-03 10:00:00,18.0,12345.0,France\n"
        "536369,22423,CAKESTAND,1,2025-03-03 11:00:00,-12.75,12345.0,France\n"
    )
    drop(lake, "invoices.csv", header + lines)
    result = standardize_day(lake, DAY, "run1", archive_raw(lake, DAY), max_bad_fraction=0.5)
    assert (result.records_in, result.accepted, result.excluded, result.invalid) == (6, 4, 1, 1)
    publish_day(lake, DAY, "run1", result.to_dict())
    daily = curated(lake).set_index(["store_id", "item_id"])
    assert daily.loc[("United Kingdom", "85123A"), "units"] == 8
    assert daily.loc[("United Kingdom", "85123A"), "revenue"] == pytest.approx(8 * 2.55)
    assert daily.loc[("United Kingdom", "85123A"), "source_rows"] == 3
    assert daily.loc[("France", "85123A"), "units"] == 1
    q = quarantine(lake, result).set_index("kind")
    assert q.loc["excluded", "reason"] == "non-product line (stock code POST)"
    assert q.loc["invalid", "reason"] == "unit price is negative or above 100000 (got -12.75)"


def test_unreadable_file_is_quarantined_whole_and_fails_the_day(lake):
    drop(lake, "good.csv", HEADER + clean_rows(20))
    drop(lake, "broken.csv.gz", b"\x1f\x8b garbage")
    drop(lake, "wrong.csv", "sku;qty\nA;1\n")
    with pytest.raises(DayRejected) as rejected:
        ingest_day(lake, DAY, "run1", max_bad_fraction=0.05)
    message = str(rejected.value)
    assert "unreadable file broken.csv.gz: not a valid gzip file" in message
    assert "unreadable file wrong.csv: unrecognised columns" in message
    assert not lake.curated_dir(DAY).exists()
    q = lake.read_parquet(lake.root / "quarantine" / "sales" / f"dt={DAY}" / "rows.parquet")
    files = q[q["kind"] == "unreadable_file"].set_index("source_file")
    assert sorted(files.index) == ["broken.csv.gz", "wrong.csv"]
    assert files["line_number"].isna().all()
    assert (Path(lake.raw_dir(DAY).path) / "broken.csv.gz").exists()  # kept for the operator


def test_too_many_bad_rows_fail_the_day_with_the_threshold_named(lake):
    drop(lake, "a.csv", HEADER + clean_rows(10) + f"{DAY},,I9,1,1\n{DAY},,I8,1,1\n")
    result = standardize_day(lake, DAY, "run1", archive_raw(lake, DAY), max_bad_fraction=0.1)
    assert not result.healthy
    assert result.staged is None
    assert "2 of 12 records invalid (16.7%), above the 10.0% allowed" in result.problems[0]
    assert quarantine(lake, result)["reason"].tolist() == ["store_id is missing"] * 2


def test_a_day_of_header_only_files_publishes_nothing_and_says_so(lake):
    drop(lake, "a.csv", HEADER)
    result = standardize_day(lake, DAY, "run1", archive_raw(lake, DAY), max_bad_fraction=0.05)
    assert result.warnings == ["a.csv: header only, no data records"]
    assert "validation: no valid rows: nothing would be published for the day (observed 0)" in result.problems


def test_a_header_only_file_beside_good_files_is_only_a_warning(lake):
    drop(lake, "a.csv", HEADER + clean_rows(5))
    drop(lake, "b.csv", HEADER)
    result = ingest_day(lake, DAY, "run1", max_bad_fraction=0.05)
    assert result.healthy
    assert result.published_rows == 5
    assert result.warnings == ["b.csv: header only, no data records"]


# ---- publish ---------------------------------------------------------------------------


def test_generated_days_with_defects_publish_and_account_for_every_record(lake):
    spec = PanelSpec(stores=4, items=200, seed=11)
    write_landing(spec, DAY, DAY, Path(lake.root.path) / "landing" / "sales", defects=True, bad_file_rate=0.0)
    result = ingest_day(lake, DAY, "run1", max_bad_fraction=0.05)
    assert result.invalid > 0
    assert result.accepted + result.invalid + result.excluded == result.records_in
    published = curated(lake)
    assert published["source_rows"].sum() == result.accepted
    assert len(published) == result.published_rows
    assert not published.duplicated(["date", "store_id", "item_id"]).any()
    assert set(published["date"]) == {DAY}
    report = Path(lake.reports_dir(DAY).path) / "ingest" / "run=run1"
    assert (report / "validation.html").read_text().count("Suite ") == 2
    assert '"success": true' in (report / "validation.json").read_text()


def test_rerun_gives_the_same_partition_and_touches_no_other_day(lake):
    other = date(2025, 3, 4)
    drop(lake, "a.csv", HEADER + clean_rows(30))
    drop(lake, "a.csv", HEADER + clean_rows(30, day=other), day=other)
    ingest_day(lake, DAY, "run1", 0.05)
    ingest_day(lake, other, "run1", 0.05)
    other_file = Path(lake.curated_dir(other).path) / DATA_FILE
    before_other = (other_file.read_bytes(), other_file.stat().st_mtime_ns)
    first = curated(lake)
    ingest_day(lake, DAY, "run2", 0.05)
    pd.testing.assert_frame_equal(first, curated(lake))
    assert (other_file.read_bytes(), other_file.stat().st_mtime_ns) == before_other
    assert read_manifest(lake, lake.curated_dir(DAY))["run_id"] == "run2"
    assert sorted(p.name for p in Path(lake.curated_dir(DAY).path).iterdir()) == ["_SUCCESS", DATA_FILE]
    assert not lake.staging_dir(SALES_DAILY, DAY).exists()


def test_a_run_killed_mid_publish_leaves_no_published_partition(lake, monkeypatch):
    drop(lake, "a.csv", HEADER + clean_rows(10))
    ingest_day(lake, DAY, "run1", 0.05)
    drop(lake, "a.csv", HEADER + clean_rows(12))
    result = standardize_day(lake, DAY, "run2", archive_raw(lake, DAY), 0.05)

    def killed(self, source, target):
        raise KeyboardInterrupt("worker killed")

    monkeypatch.setattr(Lake, "move", killed)
    with pytest.raises(KeyboardInterrupt):
        publish_day(lake, DAY, "run2", result.to_dict())
    monkeypatch.undo()
    assert read_manifest(lake, lake.curated_dir(DAY)) is None  # readers skip an unmarked partition
    assert len(curated(lake)) == 10  # and the old data file is still whole
    result = standardize_day(lake, DAY, "run3", archive_raw(lake, DAY), 0.05)
    publish_day(lake, DAY, "run3", result.to_dict())
    assert len(curated(lake)) == 12
    assert read_manifest(lake, lake.curated_dir(DAY))["rows"] == 12


def test_gzip_files_from_a_day_are_read(lake):
    drop(lake, "a.csv.gz", gzip.compress((HEADER + clean_rows(4)).encode()))
    assert ingest_day(lake, DAY, "r", 0.05).published_rows == 4


def test_generated_pos_day_with_defects_accounts_for_every_line(lake):
    spec = PanelSpec(stores=4, items=80, seed=2, fmt="pos")
    write_landing(spec, DAY, DAY, Path(lake.root.path) / "landing" / "sales", defects=True, bad_file_rate=0.0)
    result = ingest_day(lake, DAY, "run1", max_bad_fraction=0.05)
    assert result.records_in > result.published_rows > 0  # lines were summed per store x item
    assert result.accepted + result.invalid + result.excluded == result.records_in
    published = curated(lake)
    assert published["source_rows"].sum() == result.accepted
    assert set(published["store_id"]) <= set(spec.store_ids)
    q = quarantine(lake, result)
    assert set(q["kind"]) <= {"invalid", "excluded"}
    assert q["reason"].notna().all()


# ---- bad input (issue 11) -------------------------------------------------------------------------


def test_money_column_is_never_read_as_units(lake):
    drop(lake, "a.csv", "date,store,sku,qty,sales\n2025-03-03,S1,A,2,19.98\n")
    ingest_day(lake, DAY, "run1", 0.05)
    row = curated(lake).iloc[0]
    assert (row["units"], row["revenue"]) == (2.0, 19.98)


@pytest.mark.parametrize("value", ["8,00", "NaN", "abc", "inf", "€8"])
def test_unparseable_revenue_is_quarantined_naming_the_column(lake, value):
    drop(lake, "a.csv", HEADER + nonzero_rows(40) + f'{DAY},S01,I9000,1,"{value}"\n')
    result = standardize_day(lake, DAY, "run1", archive_raw(lake, DAY), max_bad_fraction=0.5)
    q = quarantine_of(lake, result)
    assert q["reason"].tolist() == [f"revenue is not a number (got '{value}')"]
    assert q["line_number"].tolist() == [42]
    assert (result.accepted, result.invalid) == (40, 1)


def test_an_empty_revenue_is_allowed_and_published_as_null(lake):
    drop(lake, "a.csv", HEADER + nonzero_rows(5) + f"{DAY},S01,I9000,1,\n")
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


def test_semicolon_delimited_file_is_read(lake):
    drop(lake, "a.csv", "date;store_id;item_id;units;revenue\n2025-03-03;S1;A;2;5.0\n2025-03-03;S1;B;1;2.5\n")
    result = ingest_day(lake, DAY, "run1", 0.05)
    assert result.published_rows == 2


def test_a_subfolder_of_the_landing_day_is_reported_not_silently_ignored(lake, caplog):
    drop(lake, "a.csv", HEADER + nonzero_rows(3))
    drop(lake, "late/b.csv", HEADER + nonzero_rows(3, store="S02"))
    caplog.set_level(logging.WARNING, logger="salescast")
    result = ingest_day(lake, DAY, "run1", 0.05)
    assert any("late" in w and "not read" in w for w in result.warnings), result.warnings
    assert any("late" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_a_day_with_only_a_subfolder_says_so_while_waiting(lake):
    drop(lake, "late/b.csv", HEADER + nonzero_rows(3))
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
    drop(lake, "a.csv", HEADER + nonzero_rows(30) + f"{DAY},,I9,1,1\n")
    first = ingest_day(lake, DAY, "run1", 0.05)
    second = ingest_day(lake, DAY, "run2", 0.05)
    assert first.quarantine == second.quarantine
    assert sorted(p.name for p in quarantine_day.iterdir()) == ["rows.parquet"]
    rows = pd.read_parquet(quarantine_day / "rows.parquet")
    assert rows["run_id"].tolist() == ["run2"]
    assert rows["reason"].tolist() == ["store_id is missing"]
    drop(lake, "a.csv", HEADER + nonzero_rows(30))  # the source fixed the file
    third = ingest_day(lake, DAY, "run3", 0.05)
    assert third.quarantine is None
    assert not quarantine_day.exists()


# ---- every record published or quarantined, on file:// and s3:// lakes ----------------------------


@dataclass(frozen=True)
class Record:
    """One input record: where it is, and what it must add to its daily row if published."""

    file: str
    line: int
    store: str
    item: str
    units: float
    revenue: float | None
    bad: bool = False  # must end in quarantine (an unreadable file's records are all bad)


@dataclass
class Case:
    id: str
    files: dict[str, bytes]
    records: list[Record]
    day: date = DAY
    rejected: str | None = None  # a fragment of the rejection, when the day must be rejected
    reasons: tuple[str, ...] = ()  # fragments the quarantine reasons must contain
    warnings: tuple[str, ...] = ()
    checks: list = field(default_factory=list)  # extra checks of the published rows


def daily_rows(file: str, n: int, store: str = "S01", first_line: int = 2, prefix: str = "I") -> list[Record]:
    """Units 1..7 and revenue units x 2.49: a swap of the two can never go unnoticed."""
    return [
        Record(file, first_line + i, store, f"{prefix}{i:03d}", float(i % 7 + 1), round((i % 7 + 1) * 2.49, 2))
        for i in range(n)
    ]


def csv_bytes(records: list[Record], header: str = HEADER, sep: str = ",", encoding: str = "utf-8") -> bytes:
    lines = [f"{DAY}{sep}{r.store}{sep}{r.item}{sep}{r.units:g}{sep}{r.revenue}\n" for r in records]
    return (header.replace(",", sep) + "".join(lines)).encode(encoding)


def money_vs_units() -> Case:
    records = daily_rows("till.csv", 30)
    lines = "".join(f"{DAY},{r.store},{r.item},{r.units:g},{r.revenue}\n" for r in records)
    data = ("date,store,sku,qty,sales\n" + lines).encode()  # `sales` is money, `qty` is units

    def money_stays_money(published: pd.DataFrame) -> None:
        row = published.set_index("item_id").loc["I001"]
        assert (row["units"], row["revenue"]) == (2.0, 4.98)

    return Case("money-vs-units-header", {"till.csv": data}, records, checks=[money_stays_money])


def unparseable_revenue() -> Case:
    records = daily_rows("a.csv", 40)
    bad = Record("a.csv", 42, "S01", "I900", 1.0, None, bad=True)
    data = csv_bytes(records) + f'{DAY},S01,I900,1,"8,00"\n'.encode()
    reason = "revenue is not a number (got '8,00')"
    return Case("unparseable-revenue", {"a.csv": data}, [*records, bad], reasons=(reason,))


def windows_1252() -> Case:
    records = [Record("w.csv", 2 + i, "Café", f"PROMO–€{i}", float(i + 1), round((i + 1) * 2.49, 2)) for i in range(20)]
    return Case("cp1252", {"w.csv": csv_bytes(records, encoding="cp1252")}, records, warnings=("Windows-1252",))


def day_first_pos() -> Case:
    day = date(2010, 12, 2)
    lines, records = [], []
    for i in range(20):
        qty, price = i % 5 + 1, 2.55
        lines.append(f"5363{i:02d},85123A,WHITE HEART,{qty},02/12/2010 08:{i:02d},{price},17850,United Kingdom\n")
        records.append(Record("pos.csv", 2 + i, "United Kingdom", "85123A", qty, qty * price))
    lines.append("C536379,85123A,WHITE HANGING HEART,-2,02/12/2010 09:41,2.55,17850,United Kingdom\n")
    records.append(Record("pos.csv", 22, "United Kingdom", "85123A", -2.0, -2 * 2.55))  # a return, netted
    lines.append("536380,POST,POSTAGE,3,02/12/2010 10:00,18.00,12583,France\n")
    records.append(Record("pos.csv", 23, "France", "POST", 3.0, 54.0, bad=True))  # excluded, with its reason

    def on_the_second_of_december(published: pd.DataFrame) -> None:
        assert set(published["date"]) == {day}

    return Case(
        "day-first-dates",
        {"pos.csv": (POS_HEADER + "".join(lines)).encode()},
        records,
        day=day,
        reasons=("non-product line (stock code POST)",),
        checks=[on_the_second_of_december],
    )


def semicolons() -> Case:
    records = daily_rows("s.csv", 20)
    return Case("semicolon-delimiter", {"s.csv": csv_bytes(records, sep=";")}, records)


def header_only_next_to_good() -> Case:
    records = daily_rows("a.csv", 20)
    files = {"a.csv": csv_bytes(records), "empty_export.csv": HEADER.encode()}
    return Case("header-only-next-to-good-file", files, records, warnings=("header only",))


def header_only_alone() -> Case:
    return Case("header-only-file-alone", {"empty_export.csv": HEADER.encode()}, [], rejected="empty_export.csv")


def mixed_encodings() -> Case:
    data = (HEADER + f"{DAY},Café,A,1,2.49\n").encode() + f"{DAY},Café,B,2,4.98\n".encode("cp1252")
    records = [
        Record("mixed.csv", 2, "Café", "A", 1.0, 2.49, bad=True),
        Record("mixed.csv", 3, "Café", "B", 2.0, 4.98, bad=True),
    ]
    return Case("mixed-encodings", {"mixed.csv": data}, records, rejected="mixes UTF-8 and another encoding")


def corrupt_gzip() -> Case:
    records = [r.__class__(**{**r.__dict__, "bad": True}) for r in daily_rows("day.csv.gz", 200)]
    data = gzip.compress(csv_bytes(records))
    return Case("corrupt-gzip", {"day.csv.gz": data[: len(data) // 2]}, records, rejected="not a valid gzip file")


def corrupt_parquet() -> Case:
    records = [r.__class__(**{**r.__dict__, "bad": True, "line": r.line - 1}) for r in daily_rows("day.parquet", 50)]
    frame = pd.DataFrame(
        {"date": str(DAY), "store_id": [r.store for r in records], "item_id": [r.item for r in records],
         "units": [r.units for r in records], "revenue": [r.revenue for r in records]}
    )  # fmt: skip
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    data = bytearray(buffer.getvalue())
    data[200:230] = b"\xff" * 30  # a damaged data page; the footer is intact
    return Case("corrupt-parquet", {"day.parquet": bytes(data)}, records, rejected="not a valid Parquet file")


def parquet_nan_revenue() -> Case:
    table = pa.table(
        {"date": [str(DAY)] * 30, "store_id": ["S01"] * 30, "item_id": [f"I{i:03d}" for i in range(30)],
         "units": [float(i % 7 + 1) for i in range(30)],
         "revenue": pa.array([float("nan")] + [round((i % 7 + 1) * 2.49, 2) for i in range(1, 30)])}
    )  # fmt: skip
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    records = [
        Record("p.parquet", i + 1, "S01", f"I{i:03d}", float(i % 7 + 1), round((i % 7 + 1) * 2.49, 2), bad=i == 0)
        for i in range(30)
    ]
    reason = "revenue is not a number (got 'nan')"
    return Case("parquet-nan-revenue", {"p.parquet": buffer.getvalue()}, records, reasons=(reason,))


# issue 27 row 6: the characters of the id rule (salescast.ids), once in a store id and once in
# an item id, via CSV (NUL included: a stray NUL is the record's problem) and via Parquet alike
HOSTILE_ID_CHARACTERS = (
    "\n\t\x07\x1b\x00"  # controls
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"  # bidi
    "\u200b\u200c\u200d\ufeff\u2060"  # zero-width
)


def _hostile_records(file: str, lines: list[int], store: str) -> list[Record]:
    """The hostile ids, then 1000 good records of ``store`` (bad records stay under 5%)."""
    ids = [(f"S{c}{n:02d}", "I001") for n, c in enumerate(HOSTILE_ID_CHARACTERS)]
    ids += [(store, f"I{n:02d}{c}X") for n, c in enumerate(HOSTILE_ID_CHARACTERS)]
    ids += [(store, f"G{n:03d}") for n in range(1000)]
    return [
        Record(file, line, store, item, 1.0, 2.49, bad=n < 2 * len(HOSTILE_ID_CHARACTERS))
        for n, ((store, item), line) in enumerate(zip(ids, lines, strict=False))
    ]


def hostile_ids() -> Case:
    import csv

    placeholder = _hostile_records("ids.csv", list(range(2, 3000)), "S01")
    text, lines, line = io.StringIO(newline=""), [], 1
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["date", "store_id", "item_id", "units", "revenue"])
    for r in placeholder:
        writer.writerow([str(DAY), r.store, r.item, "1", "2.49"])
        line += 1 + r.store.count("\n") + r.item.count("\n")  # a quoted newline is a line of its own
        lines.append(line)
    in_csv = _hostile_records("ids.csv", lines, "S01")
    in_parquet = _hostile_records("ids.parquet", list(range(1, 3000)), "S02")
    table = pa.table(
        {"date": [str(DAY)] * len(in_parquet), "store_id": [r.store for r in in_parquet],
         "item_id": [r.item for r in in_parquet], "units": [1.0] * len(in_parquet), "revenue": [2.49] * len(in_parquet)}
    )  # fmt: skip
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    reasons = tuple(
        f"{column} contains {kind} U+{ord(c):04X}"
        for c, kind in [("\x00", "a control character"), ("\x07", "a control character"),
                        ("\u202e", "a bidirectional control character"),
                        ("\u200b", "an invisible (zero-width or formatting) character")]
        for column in ("store_id", "item_id")
    )  # fmt: skip
    files = {"ids.csv": text.getvalue().encode(), "ids.parquet": buffer.getvalue()}
    return Case("hostile-ids", files, [*in_csv, *in_parquet], reasons=reasons)


CASES = [
    money_vs_units(),
    unparseable_revenue(),
    windows_1252(),
    day_first_pos(),
    semicolons(),
    header_only_next_to_good(),
    header_only_alone(),
    mixed_encodings(),
    corrupt_gzip(),
    corrupt_parquet(),
    parquet_nan_revenue(),
    hostile_ids(),
]


def run(lake: Lake, case: Case, run_id: str) -> IngestResult | DayRejected:
    try:
        return ingest_day(lake, case.day, run_id, 0.05)
    except DayRejected as rejected:
        return rejected


def snapshot(lake: Lake, day: date) -> dict:
    """What a re-run must leave exactly as it was."""
    curated = lake.curated_dir(day)
    quarantine = lake.root / "quarantine" / "sales" / f"dt={day}"
    rows = (
        lake.read_parquet(quarantine / QUARANTINE_FILE).drop(columns="run_id")
        if (quarantine / QUARANTINE_FILE).exists()
        else None
    )
    return {
        "curated": (curated / DATA_FILE).read_bytes() if (curated / DATA_FILE).exists() else None,
        "published": (curated / SUCCESS_MARKER).exists(),
        "quarantine_files": [p.name for p in [*lake.list_files(quarantine), *lake.iter_dirs(quarantine)]],
        "quarantine_rows": None if rows is None else rows.astype(str).to_dict("records"),
        "raw": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in lake.list_files(lake.raw_dir(day))},
    }


def account(lake: Lake, case: Case) -> None:
    """Published or quarantined with a reason, never both, never neither; sums exact."""
    quarantine = lake.root / "quarantine" / "sales" / f"dt={case.day}" / QUARANTINE_FILE
    q = (
        lake.read_parquet(quarantine)
        if quarantine.exists()
        else pd.DataFrame(columns=["source_file", "line_number", "kind", "reason"])
    )
    assert q["reason"].map(lambda r: isinstance(r, str) and len(r) > 10).all(), q
    for fragment in case.reasons:
        assert q["reason"].str.contains(fragment, regex=False).any(), (fragment, q["reason"].tolist())
    whole_files = set(q.loc[q["kind"] == "unreadable_file", "source_file"])
    lines = q.loc[q["kind"] != "unreadable_file", ["source_file", "line_number"]]
    assert not lines.duplicated().any(), "a record is quarantined twice"
    quarantined_lines = {(f, int(n)) for f, n in lines.itertuples(index=False)}
    inputs = {(r.file, r.line) for r in case.records}
    assert quarantined_lines <= inputs, quarantined_lines - inputs  # every entry is a real input record
    assert whole_files <= set(case.files)
    in_quarantine = [r for r in case.records if r.file in whole_files or (r.file, r.line) in quarantined_lines]
    assert {(r.file, r.line) for r in in_quarantine} == {(r.file, r.line) for r in case.records if r.bad}

    kept = [r for r in case.records if r not in in_quarantine]
    curated = lake.curated_dir(case.day)
    if not (curated / SUCCESS_MARKER).exists():
        assert kept == [], "records neither published nor quarantined"
        return
    published = lake.read_parquet(curated / DATA_FILE)
    expected: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for r in kept:
        expected[(r.store, r.item)].append(r)
    got = published.set_index(["store_id", "item_id"])
    assert set(got.index) == set(expected), "published rows that no kept record explains, or kept records missing"
    for key, records in expected.items():
        row = got.loc[key]
        assert row["source_rows"] == len(records), key  # each kept record summed once: never both, never twice
        assert row["units"] == pytest.approx(sum(r.units for r in records)), key
        revenues = [r.revenue for r in records]
        if any(v is None for v in revenues):
            assert pd.isna(row["revenue"]), key
        else:
            assert row["revenue"] == pytest.approx(sum(revenues)), key  # money is money, units are units
    for check in case.checks:
        check(published)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@on_both_lakes
def test_every_record_is_published_or_quarantined_and_a_rerun_changes_nothing(lake, case):
    for name, data in case.files.items():
        lake.write_bytes(lake.landing_dir(case.day) / name, data)
    first = run(lake, case, "run1")
    if case.rejected:
        assert isinstance(first, DayRejected), "the day should have been rejected"
        assert case.rejected in str(first)
        assert "re-run the day" in str(first)
    else:
        assert isinstance(first, IngestResult), str(first)
        for fragment in case.warnings:
            assert any(fragment in w for w in first.warnings), first.warnings
    account(lake, case)
    before = snapshot(lake, case.day)
    assert before["raw"] == {name: hashlib.sha256(data).hexdigest() for name, data in case.files.items()}
    assert before["quarantine_files"] in ([], [QUARANTINE_FILE])

    second = run(lake, case, "run2")
    assert type(second) is type(first)
    assert snapshot(lake, case.day) == before  # same curated bytes, same quarantine rows in one file, same raw/
    account(lake, case)


# ---- issue 27 row 13: memory that does not grow with the day ---------------------------------------

_INGEST_CHILD = """
import sys
from datetime import date
from salescast.config import Settings
from salescast.ingest.pipeline import ingest_day
from salescast.lake import Lake
settings = Settings.from_env()
day = date.fromisoformat(sys.argv[1])
ingest_day(Lake.from_settings(settings), day, "memory", 0.05, memory_mb=settings.ingest_memory_mb)
"""


def _land_generated_day(lake: Lake, day: date, items: int, tmp_path) -> None:
    from salescast_dev.generate import PanelSpec, write_landing

    out = tmp_path / f"gen-{day}"
    write_landing(PanelSpec(stores=25, items=items, seed=3), day, day, out, defects=True, bad_file_rate=0.0)
    for path in sorted((out / day.isoformat()).iterdir()):
        lake.write_bytes(lake.landing_dir(day) / path.name, path.read_bytes())


def _peak_rss_mb_of_ingest(day: date) -> float:
    """Peak RSS of one ``ingest_day`` in a fresh process (its own ``ru_maxrss``, imports included),
    with DuckDB's share set low so that the bound, not the machine, is what is measured."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, SALESCAST_INGEST_MEMORY_MB="100")
    child = subprocess.Popen([sys.executable, "-c", _INGEST_CHILD, day.isoformat()], env=env)
    _, status, usage = os.wait4(child.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the ingest failed"
    return usage.ru_maxrss / 1024


@on_both_lakes
def test_ingest_memory_does_not_grow_with_the_day(lake, tmp_path):
    """A day of ~6x the records (35k -> 210k) costs < 150 MB more at peak: the day is streamed in
    batches and checked in DuckDB within its limit. Before, every record cost 2.3-3.3 KB (a 10M-record
    day needed over 20 GB): here that would be > 400 MB more."""
    small, big = date(2025, 3, 3), date(2025, 3, 4)
    _land_generated_day(lake, small, 2000, tmp_path)
    _land_generated_day(lake, big, 12000, tmp_path)
    rss_small, rss_big = _peak_rss_mb_of_ingest(small), _peak_rss_mb_of_ingest(big)
    published = lake.read_parquet(lake.curated_dir(big) / DATA_FILE, ["source_rows"])["source_rows"].sum()
    assert published > 5 * lake.read_parquet(lake.curated_dir(small) / DATA_FILE, ["source_rows"])["source_rows"].sum()
    assert rss_big - rss_small < 150, f"peak RSS {rss_small:.0f} MB -> {rss_big:.0f} MB"
