"""`make demo` on a fresh home, shortened, then what a newcomer finds in the UI.

The demo's output (a short line per step, the logs in the folder it names, the way to the
UI), its lake and warehouse, dated to end yesterday. Then `make run` of a past day, and a real
Airflow on that home: every run the demo and `make run` made lasts the seconds it took, read
back through the REST API (Airflow 3.3's `dags test` records a past day's run as started on
that day: apache/airflow#66127), and the Forecasts API offers a run whose actuals have arrived,
with real scores.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import duckdb
import pandas as pd
import pytest

from salescast.config import REPO_ROOT
from tests.support.net import free_port, isolated_env

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

DAYS, HISTORY_DAYS = 2, 45
DAGS = ("sales_ingest", "sales_forecast", "sales_catalog")


def run_demo(home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "salescast_dev", "demo", "--days", str(DAYS), "--history-days", str(HISTORY_DAYS),
         "--stores", "3", "--items", "40"],
        capture_output=True, text=True, cwd=REPO_ROOT, env=isolated_env(home), check=False, timeout=600,
    )  # fmt: skip


def check_output(out: subprocess.CompletedProcess, home: Path, yesterday: date) -> None:
    """A product's output: a short line per step, the logs in the folder it names, the way to the UI."""
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"days ingested and forecast: {DAYS} of {DAYS}" in out.stdout
    assert f"headline accuracy ({yesterday}):  backtest mean wQL" in out.stdout
    lines = out.stdout.splitlines()
    assert len(lines) < 30, out.stdout
    assert not any("[info" in line or "INFO" in line for line in lines + out.stderr.splitlines()), out.stderr[-2000:]
    history_log = home / "logs" / "demo" / "history.log"
    assert f"log {history_log}" in out.stdout
    assert f"ingest {yesterday - timedelta(days=DAYS)}" in history_log.read_text()
    assert "Forecasts (sidebar)" in out.stdout


def check_lake(home: Path, yesterday: date) -> None:
    lake = home / "lake"
    assert (home / "airflow" / "airflow.db").exists()
    assert (lake / "curated" / "sales_daily" / f"dt={yesterday}" / "_SUCCESS").exists()
    assert (lake / "forecasts" / f"run_date={yesterday}" / "_SUCCESS").exists()
    assert (lake / "reports" / f"run_date={yesterday}" / "index.html").exists()
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        types = dict(con.execute("SELECT type, COUNT(*) FROM history_and_forecast GROUP BY type").fetchall())
    assert set(types) == {"history", "p10", "p50", "p90"}
    published = pd.read_parquet(lake / "forecasts" / f"run_date={yesterday}" / "part-0.parquet")
    assert types["p50"] == len(published) > 0  # the latest run's forecast for every series


def check_run_durations(api, past_day: date) -> dict[str, list[float]]:
    """Every run lasted seconds, not the days since its logical date; returns them per DAG."""
    durations = {}
    for dag_id in DAGS:
        runs = api.call("GET", f"/dags/{dag_id}/dagRuns?limit=100")["dag_runs"]
        assert runs, dag_id
        for run in runs:
            assert run["state"] == "success", run
            started = datetime.fromisoformat(run["start_date"].replace("Z", "+00:00"))
            ended = datetime.fromisoformat(run["end_date"].replace("Z", "+00:00"))
            assert abs((ended - started).total_seconds() - run["duration"]) < 1, run
            assert 0 < run["duration"] < 600, run  # would be days for a past logical date
        durations[dag_id] = [round(run["duration"], 1) for run in runs]
    ingest_days = {r["logical_date"][:10] for r in api.call("GET", "/dags/sales_ingest/dagRuns?limit=100")["dag_runs"]}
    assert past_day.isoformat() in ingest_days  # the `make run` of the past day is among them
    return durations


def check_scored_run(base_url: str, token: str, yesterday: date) -> None:
    """The Forecasts API: the latest run's days lie ahead, and it offers the run before it,
    whose first day (yesterday) has arrived, with scores."""

    def get(path: str) -> dict:
        request = urllib.request.Request(base_url + path, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    series = get("/salescast/api/series?limit=1")["series"][0]
    key = f"store_id={quote(series['store_id'])}&item_id={quote(series['item_id'])}"
    latest = get(f"/salescast/api/series/detail?{key}")
    assert latest["run_date"] == yesterday.isoformat()
    assert latest["forecast"]["scores"] is None  # its 7 days are all ahead
    assert latest["scored_run"] == (yesterday - timedelta(days=1)).isoformat()
    scored = get(f"/salescast/api/series/detail?{key}&run_date={latest['scored_run']}")
    assert scored["forecast"]["scores"]["points"] == 1  # yesterday arrived, the rest lie ahead
    assert scored["forecast"]["scores"]["wape"] is not None


# long on purpose: one demo, one `make run`, one Airflow on the home they made, checked in order
@pytest.mark.timeout(1800)
def test_demo_then_make_run_of_a_past_day_show_real_durations_in_the_ui(tmp_path, monkeypatch):
    from salescast.config import Settings
    from salescast_dev.airflow_stack import AirflowStack
    from tests.support.airflow_api import Api

    home = tmp_path / "home"
    yesterday = datetime.now(UTC).date() - timedelta(days=1)  # the demo's data end there
    out = run_demo(home)
    check_output(out, home, yesterday)
    check_lake(home, yesterday)

    past_day = yesterday - timedelta(days=DAYS + HISTORY_DAYS - 1)  # the first day of the demo's history
    done = subprocess.run(["make", "-s", "run", "DAG=sales_ingest", f"DATE={past_day}"], cwd=REPO_ROOT,
                          env=isolated_env(home), capture_output=True, text=True, check=False, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    monkeypatch.setenv("SALESCAST_HOME", str(home))
    monkeypatch.delenv("SALESCAST_LAKE_URI", raising=False)
    stack = AirflowStack(Settings.from_env(), free_port(), tmp_path / "components", base_env=isolated_env(home))
    with stack:
        token = stack.token()
        durations = check_run_durations(Api(stack.url, token), past_day)
        check_scored_run(stack.url, token, yesterday)
    print(f"\nrun durations read back through the REST API (s): {durations}")
