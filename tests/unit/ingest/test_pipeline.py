"""A day's ingest without Airflow: archive, map, validate, quarantine, publish.

The invariant under test everywhere: every record of every landing file is either
published or quarantined with a reason. Nothing is dropped silently.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import time
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from salescast.ingest.pipeline import (
    DayRejected,
    archive_raw,
    check_landing_ready,
    ingest_day,
    publish_day,
    standardize_day,
)
from salescast.lake import SALES_DAILY, Lake
from salescast.publish import DATA_FILE, read_manifest
from salescast_dev.generate import PanelSpec, write_landing

DAY = date(2025, 3, 3)
HEADER = "date,store_id,item_id,units,revenue\n"


def landing(lake: Lake, day: date = DAY) -> Path:
    folder = Path(lake.landing_dir(day).path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def drop(lake: Lake, name: str, data: bytes | str, day: date = DAY) -> Path:
    path = landing(lake, day) / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def clean_rows(n: int, day: date = DAY, store: str = "S01") -> str:
    return "".join(f"{day},{store},I{i:04d},{i % 7},{(i % 7) * 2.5}\n" for i in range(n))


def curated(lake: Lake, day: date = DAY) -> pd.DataFrame:
    return lake.read_parquet(lake.curated_dir(day) / DATA_FILE)


def quarantine(lake: Lake, result) -> pd.DataFrame:
    from airflow.sdk import ObjectStoragePath

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
