"""A bad setting fails the DAG files when they are parsed, with the variable's name, rather
than a task at run time (issue 11: SALESCAST_FREQ=Q used to fail train_shard three times)."""

from __future__ import annotations

from salescast.config import DAGS_DIR


def test_a_bad_frequency_is_an_import_error_naming_the_variable(monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("SALESCAST_FREQ", "Q")
    bag = DagBag(dag_folder=str(DAGS_DIR))
    failed = {path.rsplit("/", 1)[-1]: error for path, error in bag.import_errors.items()}
    assert {"sales_ingest.py", "sales_forecast.py"} <= set(failed)
    assert all("SALESCAST_FREQ='Q' is not supported" in error for error in failed.values())
    assert "sales_forecast" not in bag.dag_ids
