"""The dags/ folder as the scheduler parses it: every DAG imports cleanly, offline, quickly, and
carries the operational settings we rely on; a bad setting fails the files at parse time; every
DAG starts on the configured start date."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from salescast.config import DAGS_DIR
from tests.support.dags import parse_offline
from tests.support.make_run import salescast_env

EXPECTED_DAGS = {"sales_ingest", "sales_forecast", "sales_catalog", "sales_items", "sales_overrides"}
TIME_SCHEDULED = {"sales_ingest", "sales_forecast", "sales_items", "sales_overrides"}  # sales_catalog: their Assets


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) >= EXPECTED_DAGS


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAGS))
def test_dag_has_owner_tags_retries_timeouts_and_alerts(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert "salescast" in dag.tags
    assert dag.on_failure_callback is not None
    assert dag.dagrun_timeout is not None
    assert dag.max_active_runs >= 1
    assert dag.catchup is False
    for task in dag.tasks:
        assert task.owner == "salescast", task.task_id
        assert task.on_failure_callback, f"{task.task_id} has no failure callback"
        assert task.execution_timeout is not None or getattr(task, "timeout", None), task.task_id
    sensors = [t for t in dag.tasks if t.task_id.startswith("wait_for_")]
    assert sensors or dag_id not in TIME_SCHEDULED, "every time-scheduled DAG starts with a sensor"
    for sensor in sensors:
        assert 0 < sensor.timeout < 7 * 86400
        assert sensor.mode == "reschedule"
    assert any(t.retries > 0 for t in dag.tasks)


def test_aws_mode_dags_use_the_amazon_provider(monkeypatch):
    """With an s3:// lake and Athena the same files build the provider-based tasks."""
    monkeypatch.setenv("SALESCAST_LAKE_URI", "s3://salescast-bucket/lake")
    monkeypatch.setenv("SALESCAST_SQL_ENGINE", "athena")
    bag = parse_offline()
    assert bag.import_errors == {}
    catalog = bag.dags["sales_catalog"]
    order = [t.task_id for t in catalog.topological_sort()]
    assert order[:2] == ["days_to_register", "register_partitions"]
    assert order[2:] == [
        "view_forecast_latest",
        "view_history_and_forecast",
        "view_forecast_vs_actual",
        "view_forecast_accuracy",
        "view_safety_stock",
        "view_forecast_by_store",
        "view_forecast_total",
        "view_item_master_latest",
        "view_forecast_by_category",
        "view_forecast_value_added",
        "smoke_count_rows",
    ]
    for task_id in order[2:]:
        athena = catalog.get_task(task_id)
        assert type(athena).__name__ == "AthenaOperator"
        assert athena.output_location == "s3://salescast-bucket/lake/_athena_results/"
        assert athena.workgroup == "primary"
        assert athena.database == "salescast"
        assert athena.execution_timeout is not None
        assert athena.on_failure_callback
    ingest = bag.dags["sales_ingest"]
    s3 = ingest.get_task("wait_for_landing_s3")
    assert type(s3).__name__ == "S3KeySensor"
    assert s3.deferrable
    assert s3.bucket_name == "salescast-bucket"
    assert s3.bucket_key == "lake/landing/sales/{{ ds }}/*"
    assert [t.task_id for t in ingest.topological_sort()][:2] == ["wait_for_landing_s3", "wait_for_landing"]


@pytest.mark.parametrize(
    "deployment",
    [{}, {"SALESCAST_LAKE_URI": "s3://salescast-bucket/lake", "SALESCAST_SQL_ENGINE": "athena"}],
    ids=["embedded", "aws"],
)
def test_parsing_the_dag_folder_is_fast_and_imports_nothing_heavy(deployment):
    """Heavy libraries belong inside tasks: the scheduler parses DAG files all the time."""
    code = f"""
import json, sys, time, importlib.util, pathlib
t = time.process_time()  # CPU seconds: what parsing costs, not how busy the machine is
for path in sorted(pathlib.Path({str(DAGS_DIR)!r}).glob("*.py")):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
heavy = ("pandas", "pyarrow", "great_expectations", "statsmodels", "duckdb", "matplotlib")
heavy = [m for m in heavy if m in sys.modules]
print(json.dumps({{"seconds": time.process_time() - t, "heavy": heavy}}))
"""
    # Airflow itself is imported first and not counted: that cost is the scheduler's, not ours.
    warm = "import airflow.sdk, airflow.providers.standard.decorators.sensor\n"
    out = subprocess.run(
        [sys.executable, "-c", warm + code], capture_output=True, text=True, check=True,
        env=os.environ.copy() | deployment,
    )  # fmt: skip
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    assert measured["heavy"] == []
    assert measured["seconds"] < 2.0, measured


def test_a_bad_frequency_is_an_import_error_naming_the_variable(monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("SALESCAST_FREQ", "Q")
    bag = DagBag(dag_folder=str(DAGS_DIR))
    failed = {path.rsplit("/", 1)[-1]: error for path, error in bag.import_errors.items()}
    assert {"sales_ingest.py", "sales_forecast.py"} <= set(failed)
    assert all("SALESCAST_FREQ='Q' is not supported" in error for error in failed.values())
    assert "sales_forecast" not in bag.dag_ids


def test_every_dag_starts_on_the_configured_start_date(tmp_path):
    probe = (
        "import json; from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(DAGS_DIR)!r})\n"
        "print(json.dumps({d: str(bag.dags[d].start_date.date()) for d in sorted(bag.dag_ids)}))"
    )
    for start in ("2009-12-01", None):
        env = salescast_env(tmp_path, **({"SALESCAST_START_DATE": start} if start else {}))
        env |= {"AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
        out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
        starts = json.loads(out.stdout.strip().splitlines()[-1])
        assert set(starts) == {"sales_catalog", "sales_forecast", "sales_ingest", "sales_items", "sales_overrides"}
        assert set(starts.values()) == {start or "2000-01-01"}, starts
