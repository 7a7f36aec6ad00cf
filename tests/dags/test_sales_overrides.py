"""Planner overrides through their DAG with dag.test(): deliveries as of their day, a day without
one succeeds with nothing to ingest, bad rows are quarantined while the rest publish, and an
unreadable file fails the run without publishing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from salescast.forecast.overrides_asof import overrides_as_of
from salescast.lake import OVERRIDES, Lake
from salescast.publish import is_published
from tests.support.dags import run

pytestmark = pytest.mark.slow

HEADER = "store_id,item_id,date_from,date_to,kind,value,reason,author,expires"


@pytest.fixture
def overrides_env(home, airflow_db, monkeypatch):
    monkeypatch.setenv("SALESCAST_SENSOR_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("SALESCAST_SENSOR_POKE_SECONDS", "1")
    monkeypatch.setenv("SALESCAST_OVERRIDES_SETTLE_SECONDS", "0")
    monkeypatch.setenv("SALESCAST_LANDING_SETTLE_SECONDS", "0")
    monkeypatch.setenv("SALESCAST_MAX_BAD_ROW_FRACTION", "0.5")  # small deliveries: bad rows in a few
    from salescast.config import Settings

    lake = Lake.from_settings(Settings.from_env())
    return lake, Path(lake.root.path)


def _deliver(root: Path, asof: date, name: str, lines: list[str]) -> None:
    folder = root / "landing" / "overrides" / asof.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(lines) + "\n")


def test_deliveries_publish_as_of_their_day_and_a_day_without_one_is_a_quiet_success(overrides_env):
    lake, root = overrides_env
    first = ["S1,I1,2025-03-10,2025-03-16,set,120,listing change,ana,",
             "S1,*,2025-03-10,2025-03-12,pct,-150,closing,ana,",
             "*,I2,2025-03-02,2025-03-09,pct,-20,promo ends,bo,2025-03-02"]  # fmt: skip
    _deliver(root, date(2025, 3, 1), "o.csv", [HEADER, *first])
    _deliver(root, date(2025, 3, 3), "o.csv", [HEADER, "S1,I1,2025-03-12,2025-03-12,add,10,event,cy,"])
    _deliver(root, date(2025, 3, 4), "o.csv", ["store_id,item_id,kind,value", "S1,I1,add,1"])  # unreadable
    for asof in (date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)):
        assert run("sales_overrides", asof).state == "success"
    assert run("sales_overrides", date(2025, 3, 4)).state == "failed"  # rejected: fix the file, re-run the day
    assert not lake.partition_dir(OVERRIDES, date(2025, 3, 4)).exists()
    assert is_published(lake.partition_dir(OVERRIDES, date(2025, 3, 1)))
    assert not lake.partition_dir(OVERRIDES, date(2025, 3, 2)).exists()  # no delivery: nothing to publish
    assert (root / "raw" / "overrides" / "dt=2025-03-03" / "o.csv").exists()
    bad = lake.read_parquet(lake.quarantine_file(date(2025, 3, 1), "overrides"))
    assert bad["reason"].tolist() == ["a pct value below -100 (percent) would make the forecast negative (got -150.0)"]

    on_second = overrides_as_of(lake, date(2025, 3, 2))  # a backfill of 03-02 does not see 03-03's
    assert on_second["override_id"].tolist() == ["2025-03-01/o.csv:2", "2025-03-01/o.csv:4"]
    on_third = overrides_as_of(lake, date(2025, 3, 3))  # *,I2 expired on 03-02
    assert on_third["override_id"].tolist() == ["2025-03-01/o.csv:2", "2025-03-03/o.csv:2"]


def test_the_overrides_dag_is_always_there_with_the_ingest_conventions(dagbag):
    dag = dagbag.dags["sales_overrides"]
    sensor = dag.get_task("wait_for_overrides")
    assert sensor.mode == "reschedule"
    assert 0 < sensor.timeout < 7 * 86_400
    assert dag.get_task("ingest").outlets[0].name == "salescast.overrides"
    assert dag.on_failure_callback is not None
    assert {"ingest", "overrides"} <= set(dag.tags)
