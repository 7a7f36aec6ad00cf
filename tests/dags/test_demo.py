"""`make demo`'s job, shortened: init Airflow, generate, `airflow dags test` per day, summary."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from salescast.config import REPO_ROOT

pytestmark = pytest.mark.slow


def test_demo_runs_end_to_end_on_a_fresh_home(tmp_path):
    yesterday = datetime.now(UTC).date() - timedelta(days=1)  # the demo's data end there
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SALESCAST"))}
    env["SALESCAST_HOME"] = str(tmp_path / "home")
    out = subprocess.run(
        [sys.executable, "-m", "salescast", "demo", "--days", "1", "--history-days", "45", "--stores", "3",
         "--items", "40"],
        capture_output=True, text=True, cwd=REPO_ROOT, env=env, check=False, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "days ingested and forecast: 1 of 1" in out.stdout
    assert f"headline accuracy ({yesterday}):  backtest mean wQL" in out.stdout
    assert (tmp_path / "home" / "airflow" / "airflow.db").exists()
    # a product's output: a short line per step, the logs in the folder it names, the way to the UI
    lines = out.stdout.splitlines()
    assert len(lines) < 30, out.stdout
    assert not any("[info" in line or "INFO" in line for line in lines + out.stderr.splitlines()), out.stderr[-2000:]
    history_log = tmp_path / "home" / "logs" / "demo" / "history.log"
    assert f"log {history_log}" in out.stdout
    assert f"ingest {yesterday - timedelta(days=1)}" in history_log.read_text()
    assert "Forecasts (sidebar)" in out.stdout
    lake = tmp_path / "home" / "lake"
    assert (lake / "curated" / "sales_daily" / f"dt={yesterday}" / "_SUCCESS").exists()
    assert (lake / "forecasts" / f"run_date={yesterday}" / "_SUCCESS").exists()
    assert (lake / "reports" / f"run_date={yesterday}" / "index.html").exists()
    import duckdb

    with duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb"), read_only=True) as con:
        types = dict(con.execute("SELECT type, COUNT(*) FROM history_and_forecast GROUP BY type").fetchall())
    assert set(types) == {"history", "p10", "p50", "p90"}
    import pandas as pd

    published = pd.read_parquet(lake / "forecasts" / f"run_date={yesterday}" / "part-0.parquet")
    assert types["p50"] == len(published) > 0  # the latest run's forecast for every series
