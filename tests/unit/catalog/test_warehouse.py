"""``salescast.catalog.warehouse``: `salescast catalog` while another process has
``warehouse.duckdb`` open (docs/sql.md invites it), on ``file://`` and ``s3://`` lakes: a real
second process holds a DuckDB connection.

A reader (``read_only=True``) must not stop the refresh: the refreshed warehouse is written
aside and swapped in (the reader keeps the views it opened), and the message names the reader.
A writer does stop it: a clear message naming the process (its PID), no traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest

from salescast.config import REPO_ROOT, Settings
from salescast.lake import SALES_DAILY, Lake
from salescast.publish import DATA_FILE, publish_partition
from tests.support.lakes import on_both_lakes
from tests.unit.test_publish import DAY, build_history

HOLD = """
import duckdb, sys
connection = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
print("open", flush=True)
sys.stdin.read()
"""


def catalog() -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "salescast", "catalog"],
        cwd=REPO_ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture
def holder():
    """Start a process holding a DuckDB connection on a file; stopped at the end."""
    procs: list[subprocess.Popen] = []

    def start(path: str, mode: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLD, path, mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        procs.append(proc)
        assert proc.stdout.readline().strip() == "open"
        return proc

    yield start
    for proc in procs:
        proc.stdin.close()
        proc.wait(timeout=30)


def publish_one_more_day(lake: Lake) -> None:
    day = DAY + timedelta(days=1)
    staged = lake.staging_dir(SALES_DAILY, day) / DATA_FILE
    lake.write_parquet(staged, lake.read_parquet(lake.curated_dir(DAY) / DATA_FILE).assign(date=day))
    publish_partition(lake, staged, lake.curated_dir(day), {"dataset": "sales_daily", "rows": 3})


def sales_rows() -> int:
    from salescast.catalog.warehouse import connect

    with connect(Settings.from_env()) as connection:
        return connection.execute("SELECT COUNT(*) FROM sales_daily").fetchone()[0]


@on_both_lakes
def test_a_reader_does_not_stop_the_refresh(lake, holder):
    build_history(lake)
    first = catalog()
    assert first.returncode == 0, first.stderr[-2000:]
    before = sales_rows()
    reader = holder(str(Settings.from_env().warehouse_path), "ro")
    publish_one_more_day(lake)
    done = catalog()
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert f"PID {reader.pid}" in done.stderr  # says who had it open, and what it means for them
    assert "swapped in" in done.stderr
    assert sales_rows() == before + 3  # the new day is in the warehouse new connections open
    leftovers = [p.name for p in Settings.from_env().warehouse_path.parent.iterdir() if ".tmp" in p.name]
    assert leftovers == []


@on_both_lakes
def test_a_writer_stops_the_refresh_with_a_message_naming_it(lake, holder):
    build_history(lake)
    assert catalog().returncode == 0
    writer = holder(str(Settings.from_env().warehouse_path), "rw")
    done = catalog()
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert f"PID {writer.pid}" in done.stderr
    assert "close that connection" in done.stderr
