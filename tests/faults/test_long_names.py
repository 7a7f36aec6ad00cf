"""Long names a source or Airflow may legally use never end in "File name too long".

A landing file may have a name of up to 255 bytes, an Airflow run id up to 250 characters; the
names salescast derives from them (temporary files, content-hashed raw copies, ``run=``
folders) must stay within the 255 bytes a file-system path component allows
(``salescast.lake.fit_name``), on ``file://`` and ``s3://`` lakes alike.
"""

from __future__ import annotations

from datetime import date

from salescast.forecast import tasks as forecast_tasks
from salescast.ingest.pipeline import ingest_day
from salescast.lake import NAME_MAX, RUN_DATASETS, Lake, fit_name
from salescast.publish import read_manifest

from .test_publish_faults import DAY, build_history

INGEST_DAY = date(2025, 3, 5)
LONG_FILE = "s" * 240 + ".csv"  # 244 characters
LONG_RUN_ID = "scheduled__" + "r" * 237  # 248 characters; Airflow allows 250


def land(lake: Lake, name: str, units: int) -> None:
    rows = "".join(f"{INGEST_DAY},S01,I{i:03d},{units}\n" for i in range(30))
    bad = f"{INGEST_DAY},S01,,3\n"  # one quarantined record: the quarantine file is written too
    lake.write_bytes(lake.landing_dir(INGEST_DAY) / name, f"date,store_id,item_id,units\n{rows}{bad}".encode())


def names_under(lake: Lake, folder: str) -> list[str]:
    base = lake.root / folder
    return sorted(str(p).rsplit("/", 1)[-1] for p in base.fs.find(base.path)) if base.exists() else []


def test_a_landing_file_name_of_244_characters_is_archived_and_ingested(lake):
    land(lake, LONG_FILE, 2)
    result = ingest_day(lake, INGEST_DAY, "manual__long-file", 0.5)
    assert result.published_rows == 30
    assert result.files == [LONG_FILE]  # archived under its own name
    land(lake, LONG_FILE, 3)  # new content under the same name: archived beside it, content-hashed
    again = ingest_day(lake, INGEST_DAY, "manual__long-file-2", 0.5)
    assert len(again.files) == 1
    assert again.files[0] != LONG_FILE
    assert len(again.files[0].encode()) <= NAME_MAX
    assert again.files[0].endswith(".csv")
    raw = names_under(lake, "raw")
    assert sorted(raw) == sorted([LONG_FILE, again.files[0]])  # no temporary file left
    assert lake.read_parquet(lake.curated_dir(INGEST_DAY) / "part-0.parquet")["units"].tolist() == [3.0] * 30


def test_a_run_id_of_248_characters_ingests_and_forecasts(lake, monkeypatch):
    land(lake, "day.csv", 2)
    result = ingest_day(lake, INGEST_DAY, LONG_RUN_ID, 0.5)
    assert result.quarantined == 1
    assert result.published_rows == 30
    assert lake.read_parquet(lake.quarantine_file(INGEST_DAY))["run_id"].tolist() == [LONG_RUN_ID]
    assert all(len(n.encode()) <= NAME_MAX for n in names_under(lake, "quarantine") + names_under(lake, "reports"))

    monkeypatch.setenv("SALESCAST_HISTORY_DAYS", "30")
    build_history(lake)
    ds = DAY.isoformat()
    shards = [forecast_tasks.forecast_shard(ds, LONG_RUN_ID, s) for s in forecast_tasks.plan_shards(ds, LONG_RUN_ID)]
    forecast_tasks.publish_forecasts(ds, LONG_RUN_ID, shards)
    assert {(read_manifest(lake, lake.run_dir(n, DAY)) or {}).get("run_id") for n in RUN_DATASETS} == {LONG_RUN_ID}


def test_fit_name_keeps_short_names_and_shortens_long_ones_distinctly():
    assert fit_name("a.csv") == "a.csv"
    long_a, long_b = fit_name("é" * 200 + "a.csv.gz"), fit_name("é" * 200 + "b.csv.gz")
    assert long_a != long_b
    assert all(len(n.encode()) <= NAME_MAX and n.endswith(".csv.gz") for n in (long_a, long_b))
    assert fit_name("." + "x" * 300 + ".tmp").startswith(".")  # a temporary name stays hidden
