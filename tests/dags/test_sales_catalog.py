"""dags/sales_catalog.py as parsed: it runs on the assets the other DAGs publish."""

from __future__ import annotations


def test_catalog_dag_runs_on_the_published_assets_and_refreshes_duckdb_by_default(dagbag):
    dag = dagbag.dags["sales_catalog"]
    assert type(dag.timetable).__name__ == "AssetTriggeredTimetable"
    uris = {a.uri for a in dag.timetable.asset_condition.objects}
    assert uris == {"salescast://curated/sales_daily", "salescast://lake/forecasts", "salescast://curated/items"}
    assert [t.task_id for t in dag.topological_sort()] == ["days_to_register", "refresh_duckdb"]
