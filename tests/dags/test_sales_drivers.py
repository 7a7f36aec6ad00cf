"""Drivers through the DAGs with dag.test(): deliveries as of their day, and a forecast (or a
backfill) for D that uses only what was known on D."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from salescast.ingest.pipeline import ingest_day
from salescast.lake import CENSORED, DRIVERS, RUN_DRIVERS, Lake
from salescast.publish import DATA_FILE, is_published
from tests.support.dags import run

pytestmark = pytest.mark.slow

RUN_DAY = date(2025, 3, 31)
FIRST = date(2025, 1, 1)
PROMO_LIFT = 3.0


def _promo_days(first: date, last: date) -> set[date]:
    """One day in nine, on no fixed weekday (a weekly model cannot pass for the promotion effect)."""
    return {first + timedelta(days=n) for n in range(4, (last - first).days + 1, 9)}


@pytest.fixture
def drivers_env(home, airflow_db, monkeypatch):
    monkeypatch.setenv("SALESCAST_SENSOR_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("SALESCAST_SENSOR_POKE_SECONDS", "1")
    monkeypatch.setenv("SALESCAST_DRIVERS_MAPPING", "retail")
    monkeypatch.setenv("SALESCAST_DRIVERS_SETTLE_SECONDS", "0")
    from salescast.config import Settings

    lake = Lake.from_settings(Settings.from_env())
    root = Path(lake.root.path)
    rng = np.random.default_rng(7)
    promos = _promo_days(FIRST, RUN_DAY)
    day = FIRST
    while day <= RUN_DAY:  # item P sells three times as much on promotion days; item Q is never promoted
        lift = PROMO_LIFT if day in promos else 1.0
        rows = pd.DataFrame({"date": day.isoformat(), "store_id": "S1", "item_id": ["P", "Q"],
                             "units": [rng.poisson(20 * lift), rng.poisson(20)]})  # fmt: skip
        folder = root / "landing" / "sales" / day.isoformat()
        folder.mkdir(parents=True)
        rows.to_csv(folder / "sales.csv", index=False)
        ingest_day(lake, day, "bootstrap", 0.05)
        day += timedelta(days=1)
    return lake, root


def _deliver(root: Path, asof: date, rows: list[tuple[date, str, str, float]], name: str = "promo.csv") -> None:
    folder = root / "landing" / "drivers" / asof.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows, columns=["date", "store_id", "item_id", "promo"])
    frame.assign(date=frame["date"].map(date.isoformat)).to_csv(folder / name, index=False)


def test_a_forecast_uses_the_drivers_known_on_its_day_and_a_backfill_reproduces_it(drivers_env):
    lake, root = drivers_env
    horizon = [RUN_DAY + timedelta(days=n) for n in range(1, 8)]
    thursday, saturday = horizon[2], horizon[4]  # 2025-04-03 and 2025-04-05
    # known on 2025-03-25: the whole promotion calendar of P, past promotions and the next one
    calendar = [(d, "S1", "P", 1.0) for d in [*sorted(_promo_days(FIRST, RUN_DAY)), thursday]]
    _deliver(root, date(2025, 3, 25), calendar)
    # decided on 2025-04-01, after the run day: the promotion moves from Thursday to Saturday
    _deliver(root, date(2025, 4, 1), [(thursday, "S1", "P", 0.0), (saturday, "S1", "P", 1.0)])
    _deliver(root, date(2025, 3, 25), [(thursday, "S9", "P", 1.0), (thursday, "S1", "NEW", 1.0)], "new.csv")
    stock = pd.DataFrame({"date": ["2025-03-20", "2025-03-21"], "store_id": "S1", "item_id": "Q", "in_stock": 0.0})
    stock.to_csv(root / "landing" / "drivers" / "2025-03-25" / "stock.csv", index=False)  # Q sold out two days
    for asof in (date(2025, 3, 25), date(2025, 3, 26), date(2025, 4, 1)):
        assert run("sales_drivers", asof).state == "success"
    assert is_published(lake.partition_dir(DRIVERS, date(2025, 3, 25)))
    assert not is_published(lake.partition_dir(DRIVERS, date(2025, 3, 26)))  # no delivery: nothing to publish
    assert (root / "raw" / "drivers" / "dt=2025-04-01" / "promo.csv").exists()

    assert run("sales_forecast", RUN_DAY).state == "success"
    summary = lake.read_json(lake.reports_dir(RUN_DAY) / "forecast_summary.json")
    assert summary["drivers"]["as_of_days"] == ["2025-03-25"]  # the 04-01 delivery is in the future of D
    assert summary["drivers"]["on_run_date"] is False
    assert summary["drivers"]["known_ahead"] == ["promo"]
    assert summary["drivers"]["unknown_series_keys"] == 2  # a store and an item that never sold: kept, unused
    assert sorted(summary["drivers"]["unknown_series_examples"]) == ["S1/NEW", "S9/P"]
    forecasts = lake.read_parquet(lake.run_dir("forecasts", RUN_DAY) / DATA_FILE)
    promoted = forecasts[forecasts["item_id"] == "P"].set_index("date")["p50"]
    others = promoted.drop(index=[thursday])
    assert promoted[thursday] > 1.5 * others.mean(), promoted  # the lift the history shows, on the planned day
    assert promoted[saturday] < 1.3 * others.drop(index=[saturday]).mean()  # not yet known on D
    used = lake.read_parquet(lake.partition_dir(RUN_DRIVERS, RUN_DAY) / DATA_FILE)  # what the run saw, published
    assert set(pd.to_datetime(used.loc[used["promo"] == 1, "date"]).dt.date) >= {thursday}
    assert saturday not in set(pd.to_datetime(used.loc[used["promo"] == 1, "date"]).dt.date)
    metrics = lake.read_parquet(lake.run_dir("metrics", RUN_DAY) / DATA_FILE)
    chosen = metrics[metrics["chosen"]].set_index("item_id")
    assert "promo" in chosen.loc["P", "reason"]
    assert chosen.loc["Q", "censored_days"] == 2
    censored = lake.read_parquet(lake.partition_dir(CENSORED, RUN_DAY) / DATA_FILE)  # for the accuracy views
    assert censored[["store_id", "item_id"]].drop_duplicates().values.tolist() == [["S1", "Q"]]
    assert sorted(map(str, censored["date"])) == ["2025-03-20", "2025-03-21"]
    assert set(censored["run_date"]) == {RUN_DAY}

    # a backfill of D a long time later, with the later delivery published, gives the same forecast
    first = forecasts.copy()
    assert run("sales_forecast", RUN_DAY).state == "success"
    again = lake.read_parquet(lake.run_dir("forecasts", RUN_DAY) / DATA_FILE)
    pd.testing.assert_frame_equal(first, again)


@pytest.mark.parametrize("mapping", ["", "retail"])
def test_drivers_on_add_their_dag_and_the_forecasts_wait_and_off_change_nothing(home, monkeypatch, mapping):
    from airflow.dag_processing.dagbag import DagBag

    from salescast.config import DAGS_DIR

    monkeypatch.setenv("SALESCAST_DRIVERS_MAPPING", mapping)
    bag = DagBag(dag_folder=str(DAGS_DIR))
    assert bag.import_errors == {}
    forecast = bag.dags["sales_forecast"]
    if not mapping:
        assert "sales_drivers" not in bag.dag_ids
        assert "wait_for_drivers" not in forecast.task_ids
        return
    drivers = bag.dags["sales_drivers"]
    sensor = drivers.get_task("wait_for_drivers")
    assert sensor.mode == "reschedule"
    assert 0 < sensor.timeout < 7 * 86_400
    assert drivers.get_task("ingest").outlets[0].name == "salescast.drivers"
    assert drivers.on_failure_callback is not None
    assert "wait_for_drivers" in forecast.get_task("plan").upstream_task_ids
