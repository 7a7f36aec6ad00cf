"""``salescast.lake``: the one place every byte of the lake goes through, on ``file://`` and
``s3://`` lakes.

A write that fails leaves no temporary file behind (``Lake.write_bytes``, ``Lake.replace_file``).
A full disk while ``archive_raw`` copied a 4.6 MB landing file left a 4.6 MB ``.tmp`` in
``raw/``. On a local lake a real full tmpfs; on S3 (moto_server) the object store refuses the
copy that moves the temporary object into place. Either way: the error is reported, ``raw/``
holds nothing new, and a retry after the fault archives the file byte for byte.

Long names a source or Airflow may legally use never end in "File name too long". A landing
file may have a name of up to 255 bytes, an Airflow run id up to 250 characters; the names
salescast derives from them (temporary files, content-hashed raw copies, ``run=`` folders) must
stay within the 255 bytes a file-system path component allows (``salescast.lake.fit_name``).
"""

from __future__ import annotations

import errno
import os
from datetime import date

import pytest

from salescast.config import Settings
from salescast.forecast import tasks as forecast_tasks
from salescast.ingest.pipeline import archive_raw, ingest_day
from salescast.lake import NAME_MAX, RUN_DATASETS, Lake, fit_name
from salescast.publish import read_manifest
from tests.support.lakes import fill, on_both_lakes
from tests.unit.test_publish import DAY as PUBLISH_DAY
from tests.unit.test_publish import build_history

DAY = date(2025, 3, 6)
LANDING = "big.csv"
INGEST_DAY = date(2025, 3, 5)


def land(lake: Lake, size: int) -> bytes:
    line = f"{DAY},S01,I0001,3\n".encode()
    data = b"date,store_id,item_id,units\n" + line * (size // len(line))
    lake.write_bytes(lake.landing_dir(DAY) / LANDING, data)
    return data


def raw_names(lake: Lake) -> list[str]:
    folder = lake.raw_dir(DAY)
    return sorted(str(p).rsplit("/", 1)[-1] for p in folder.fs.find(folder.path)) if folder.exists() else []


def test_a_full_disk_while_archiving_leaves_no_temporary_file(tiny_disk):
    lake = Lake.from_settings(Settings.from_env())
    data = land(lake, 1_500_000)
    filler = fill(tiny_disk, leave=512 * 1024)  # room for part of the copy, not all of it
    with pytest.raises(OSError, match="No space left") as failure:
        archive_raw(lake, DAY)
    assert failure.value.errno == errno.ENOSPC
    assert raw_names(lake) == []
    filler.unlink()
    archive_raw(lake, DAY)  # space freed: the retry archives the file whole
    assert raw_names(lake) == [LANDING]
    assert (lake.raw_dir(DAY) / LANDING).read_bytes() == data


class RefusedCopy:
    """The object store refuses the copy that moves a temporary object into ``raw/`` (S3 has no
    full disk; a refused or interrupted request is its way to fail half-way)."""

    def __init__(self, monkeypatch, lake: Lake) -> None:
        self.hits = 0
        fs = lake.root.fs
        original = fs._call_s3

        async def call(method, *args, **kwargs):
            if method == "copy_object" and "/raw/" in f"/{kwargs.get('Key', '')}":
                self.hits += 1
                raise OSError(errno.EIO, os.strerror(errno.EIO), kwargs["Key"])
            return await original(method, *args, **kwargs)

        monkeypatch.setattr(fs, "_call_s3", call)
        self.undo = lambda: monkeypatch.setattr(fs, "_call_s3", original)


@on_both_lakes
def test_a_refused_move_on_s3_leaves_no_temporary_object(lake, monkeypatch):
    if lake.is_local:
        pytest.skip("a local move is a rename; the local case is the real full disk above")
    data = land(lake, 200_000)
    fault = RefusedCopy(monkeypatch, lake)
    with pytest.raises(OSError, match="Input/output error"):
        archive_raw(lake, DAY)
    assert fault.hits == 1
    assert raw_names(lake) == []
    fault.undo()
    archive_raw(lake, DAY)
    assert raw_names(lake) == [LANDING]
    assert (lake.raw_dir(DAY) / LANDING).read_bytes() == data


# ---- long names ----------------------------------------------------------------------------------


LONG_FILE = "s" * 240 + ".csv"  # 244 characters
LONG_RUN_ID = "scheduled__" + "r" * 237  # 248 characters; Airflow allows 250


def land_file(lake: Lake, name: str, units: int) -> None:
    rows = "".join(f"{INGEST_DAY},S01,I{i:03d},{units}\n" for i in range(30))
    bad = f"{INGEST_DAY},S01,,3\n"  # one quarantined record: the quarantine file is written too
    lake.write_bytes(lake.landing_dir(INGEST_DAY) / name, f"date,store_id,item_id,units\n{rows}{bad}".encode())


def names_under(lake: Lake, folder: str) -> list[str]:
    base = lake.root / folder
    return sorted(str(p).rsplit("/", 1)[-1] for p in base.fs.find(base.path)) if base.exists() else []


@on_both_lakes
def test_a_landing_file_name_of_244_characters_is_archived_and_ingested(lake):
    land_file(lake, LONG_FILE, 2)
    result = ingest_day(lake, INGEST_DAY, "manual__long-file", 0.5)
    assert result.published_rows == 30
    assert result.files == [LONG_FILE]  # archived under its own name
    land_file(lake, LONG_FILE, 3)  # new content under the same name: archived beside it, content-hashed
    again = ingest_day(lake, INGEST_DAY, "manual__long-file-2", 0.5)
    assert len(again.files) == 1
    assert again.files[0] != LONG_FILE
    assert len(again.files[0].encode()) <= NAME_MAX
    assert again.files[0].endswith(".csv")
    raw = names_under(lake, "raw")
    assert sorted(raw) == sorted([LONG_FILE, again.files[0]])  # no temporary file left
    assert lake.read_parquet(lake.curated_dir(INGEST_DAY) / "part-0.parquet")["units"].tolist() == [3.0] * 30


@on_both_lakes
def test_a_run_id_of_248_characters_ingests_and_forecasts(lake, monkeypatch):
    land_file(lake, "day.csv", 2)
    result = ingest_day(lake, INGEST_DAY, LONG_RUN_ID, 0.5)
    assert result.quarantined == 1
    assert result.published_rows == 30
    assert lake.read_parquet(lake.quarantine_file(INGEST_DAY))["run_id"].tolist() == [LONG_RUN_ID]
    assert all(len(n.encode()) <= NAME_MAX for n in names_under(lake, "quarantine") + names_under(lake, "reports"))

    monkeypatch.setenv("SALESCAST_HISTORY_DAYS", "30")
    build_history(lake)
    ds = PUBLISH_DAY.isoformat()
    shards = [forecast_tasks.forecast_shard(ds, LONG_RUN_ID, s) for s in forecast_tasks.plan_shards(ds, LONG_RUN_ID)]
    forecast_tasks.publish_forecasts(ds, LONG_RUN_ID, shards)
    assert {(read_manifest(lake, lake.run_dir(n, PUBLISH_DAY)) or {}).get("run_id") for n in RUN_DATASETS} == {
        LONG_RUN_ID
    }


def test_fit_name_keeps_short_names_and_shortens_long_ones_distinctly():
    assert fit_name("a.csv") == "a.csv"
    long_a, long_b = fit_name("é" * 200 + "a.csv.gz"), fit_name("é" * 200 + "b.csv.gz")
    assert long_a != long_b
    assert all(len(n.encode()) <= NAME_MAX and n.endswith(".csv.gz") for n in (long_a, long_b))
    assert fit_name("." + "x" * 300 + ".tmp").startswith(".")  # a temporary name stays hidden
