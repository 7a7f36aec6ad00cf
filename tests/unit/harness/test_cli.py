"""`make run DAG=... DATE=...` (``python -m salescast_dev run``) for any day: it runs the DAG, or
fails saying why and what to do.

Airflow creates no task instance for a logical date before a DAG's start_date (outside
backfills), so `airflow dags test DAG D` then "succeeds" having run nothing. The DAGs' start
date is one setting (SALESCAST_START_DATE, early by default), and `make run` refuses a
date before it with the way to run that day.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest

from salescast.config import REPO_ROOT
from salescast_dev.generate import PanelSpec, write_landing
from tests.support.make_run import make_run_command, salescast_env

OLD_DAY = date(2010, 12, 1)  # Online Retail II starts in December 2009


@pytest.mark.slow
def test_make_run_for_a_day_before_2024_runs_the_dag_and_publishes(tmp_path):
    env = salescast_env(tmp_path, SALESCAST_SENSOR_TIMEOUT_SECONDS="30", SALESCAST_SENSOR_POKE_SECONDS="1")
    write_landing(PanelSpec(stores=2, items=5, seed=3), OLD_DAY, OLD_DAY, tmp_path / "lake" / "landing" / "sales")
    done = subprocess.run(
        make_run_command("sales_ingest", OLD_DAY), cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    partition = tmp_path / "lake" / "curated" / "sales_daily" / f"dt={OLD_DAY}"
    assert (partition / "_SUCCESS").exists(), "the run succeeded without publishing the day"
    assert json.loads((partition / "_SUCCESS").read_text())["rows"] > 0
    # sales_forecast has a deadline alert (SALESCAST_FORECAST_DEADLINE, on by default), which
    # Airflow 3.3.2's `dags test` cannot finish a run with: `make run` leaves it out
    done = subprocess.run(
        make_run_command("sales_forecast", OLD_DAY), cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (tmp_path / "lake" / "forecasts" / f"run_date={OLD_DAY}" / "_SUCCESS").exists()


def test_make_run_refuses_a_day_before_the_start_date_and_says_how_to_run_it(tmp_path):
    env = salescast_env(tmp_path, SALESCAST_START_DATE="2011-01-01")
    done = subprocess.run(
        make_run_command("sales_ingest", OLD_DAY), cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2, done.stdout + done.stderr
    message = done.stderr
    assert "2010-12-01 is before the start date 2011-01-01 of the DAGs (SALESCAST_START_DATE)" in message
    assert "SALESCAST_START_DATE=2010-12-01 make run DAG=sales_ingest DATE=2010-12-01" in message
    assert "python -m salescast ingest --start 2010-12-01" in message
    assert not (tmp_path / "airflow").exists()  # refused before Airflow started: nothing ran, nothing changed


def test_the_airflow_passthrough_refuses_it_too(tmp_path):
    env = salescast_env(tmp_path, SALESCAST_START_DATE="2011-01-01")
    done = subprocess.run(
        [sys.executable, "-m", "salescast_dev", "airflow", "dags", "test", "sales_forecast", "2010-12-01"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "is before the start date 2011-01-01" in done.stderr


def test_a_bad_start_date_names_the_variable(tmp_path):
    env = salescast_env(tmp_path, SALESCAST_START_DATE="2010-13-01")
    done = subprocess.run(
        [sys.executable, "-m", "salescast_dev", "run", "sales_ingest", "2011-01-01"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "SALESCAST_START_DATE='2010-13-01' is not a date" in done.stderr
