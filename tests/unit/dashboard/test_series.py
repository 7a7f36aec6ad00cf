"""A series page's drivers block on a real lake (tests.support.dashboard_lake.build_with_drivers:
a drivers delivery through the drivers ingest, a forecast run with SALESCAST_DRIVERS_MAPPING=
retail and one without, by the task functions): every value is what the published
``forecast_drivers`` table says for the series (read here with pandas, the most specific row
winning), censored days are the closed and out-of-stock ones of the history, their sales stay
in the history, and a run without drivers has no block."""

from __future__ import annotations

import functools
import shutil
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from salescast.dashboard.series import drivers_used
from salescast.dashboard.store import DashboardStore
from salescast.lake import RUN_DRIVERS, Lake
from salescast_dev.generate import simulate_day
from tests.support.dashboard_lake import (
    CLOSED,
    DRIVERS_FIRST,
    DRIVERS_HORIZON,
    DRIVERS_RUN,
    EVENTS,
    NO_EVENT,
    OUT_OF_STOCK,
    PARTLY,
    SPEC,
    STOCKED_OUT,
    STORE_PRICE_UP,
    build_with_drivers,
    lake_env,
)

SERIES = [(s, i) for s in SPEC.store_ids for i in SPEC.item_ids]
CHART = [(DRIVERS_FIRST + timedelta(days=n)).isoformat()
         for n in range((DRIVERS_RUN - DRIVERS_FIRST).days + DRIVERS_HORIZON + 1)]  # fmt: skip


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("drivers-dashboard")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in lake_env(root).items():
            patch.setenv(key, value)
        from salescast.config import Settings

        built = Lake.from_settings(Settings.from_env())
        build_with_drivers(built)
        yield built


@pytest.fixture(scope="module")
def store(lake):
    return DashboardStore(lake)


def days_of(block: dict, values: list) -> list[str]:
    return [day for day, value in zip(block["dates"], values, strict=True) if value == 1]


def chosen(root: Path, store_id: str, item_id: str) -> pd.Series:
    metrics = pd.read_parquet(root / "metrics" / f"run_date={DRIVERS_RUN}" / "part-0.parquet")
    mine = metrics[(metrics["store_id"] == store_id) & (metrics["item_id"] == item_id) & metrics["chosen"]]
    return mine.iloc[0]


@functools.cache
def generator(column: str) -> dict[str, dict[str, float]]:
    """Item -> chart day -> the chain-wide value of a driver, from the generator the delivery
    was made from."""
    frames = {day: simulate_day(SPEC, date.fromisoformat(day)).drop_duplicates("item_id") for day in CHART}
    return {item: {day: float(f.loc[f["item_id"] == item, column].iloc[0]) for day, f in frames.items()}
            for item in SPEC.item_ids}  # fmt: skip


def test_drivers_used_is_read_from_the_chosen_models_reason():
    assert drivers_used("lowest backtest mean wQL; drivers used: promo, price") == ["promo", "price"]
    assert drivers_used("lowest backtest mean wQL (intermittent); drivers used: event") == ["event"]
    assert drivers_used("lowest backtest mean wQL") == []
    assert drivers_used(None) == []


@pytest.mark.parametrize("mapping", ["retail", None])
def test_the_block_holds_the_series_drivers_on_the_days_the_chart_shows(store, lake, mapping):
    """With the mapping the flags are its declared flags; without one (an api-server without
    SALESCAST_DRIVERS_MAPPING) the drivers whose values are all 0/1: the same page."""
    root = Path(lake.root.path)
    published = pd.read_parquet(root / "forecast_drivers" / f"run_date={DRIVERS_RUN}" / "part-0.parquet")
    promo_days = {item: [d for d, v in days.items() if v == 1] for item, days in generator("promo").items()}
    used_somewhere = False
    for store_id, item_id in SERIES:
        detail = store.series_detail(store_id, item_id, None, mapping)
        block = detail["drivers"]
        assert detail["run_date"] == DRIVERS_RUN.isoformat()
        assert block["dates"] == CHART == detail["history"]["dates"] + detail["forecast"]["dates"]
        assert block["names"] == [c for c in published.columns if c not in ("date", "store_id", "item_id")]
        assert set(block["flags"]) <= {"promo", "event"}  # price, in_stock and store_open are no flags
        assert days_of(block, block["flags"].get("promo", [0] * len(CHART))) == promo_days[item_id]
        # a `*, *` event, unless a row of the series itself says otherwise (NO_EVENT: event 0)
        if (store_id, item_id) == NO_EVENT:
            assert "event" not in block["flags"]
        else:
            assert days_of(block, block["flags"]["event"]) == [d.isoformat() for d in EVENTS]
        # the item's chain price (`*, I`), but STOCKED_OUT's own row (`S01, I0003`) beats it
        chain = generator("price")[item_id]
        own = STORE_PRICE_UP if (store_id, item_id) == STOCKED_OUT else 0.0
        assert block["price"] == pytest.approx([chain[d] + own for d in CHART])
        # closures: S01 (`S01, *`) on CLOSED, one day of history and one ahead; S02 has no store_open
        if store_id == "S01":
            assert days_of(block, block["closed"]) == [d.isoformat() for d in CLOSED]
        else:
            assert block["closed"] is None
        # censored: the history's closed day, and STOCKED_OUT's out-of-stock days (not PARTLY: 0.7 >= 0.5)
        expected = [CLOSED[0]] if store_id == "S01" else []
        expected += list(OUT_OF_STOCK) if (store_id, item_id) == STOCKED_OUT else []
        assert block["censored"] == sorted(d.isoformat() for d in expected)
        assert PARTLY.isoformat() not in block["censored"]
        # the censored days' recorded sales stay in the history (the chart draws them apart)
        units = dict(zip(detail["history"]["dates"], detail["history"]["units"], strict=True))
        assert all(units[d] is not None for d in block["censored"])
        if store_id == "S01":
            assert units[CLOSED[0].isoformat()] == 0.0  # the store sent nothing: recorded 0, demand unknown
        if (store_id, item_id) == STOCKED_OUT:
            assert [units[d.isoformat()] for d in OUT_OF_STOCK] == [1.0, 1.0]
        best = chosen(root, store_id, item_id)
        assert block["model"] == best["model"] == detail["metrics"]["model"]
        reason = str(best["reason"])
        expected_used = reason.split("drivers used: ")[1].split(", ") if "drivers used: " in reason else []
        assert block["drivers_used"] == expected_used
        used_somewhere |= bool(expected_used)
    assert used_somewhere, "no chosen model used drivers: the generator's promotions lift demand 1.7x"


def test_the_block_matches_the_published_table_read_independently(store, lake):
    """Every driver of one series on every chart day is the value of its most specific
    published row (`S, I` over `*, I` over `S, *` over `*, *`), looked up here row by row."""
    root = Path(lake.root.path)
    table = pd.read_parquet(root / "forecast_drivers" / f"run_date={DRIVERS_RUN}" / "part-0.parquet")
    table["date"] = pd.to_datetime(table["date"]).dt.strftime("%Y-%m-%d")
    store_id, item_id = STOCKED_OUT
    block = store.series_detail(store_id, item_id, None, "retail")["drivers"]
    for name in ("price", "promo", "event", "store_open"):
        want = []
        for day in CHART:
            value = np.nan
            for reach in ((store_id, item_id), ("*", item_id), (store_id, "*"), ("*", "*")):
                hit = table[(table["date"] == day) & (table["store_id"] == reach[0]) & (table["item_id"] == reach[1])]
                if len(hit) and not np.isnan(hit[name].iloc[0]):
                    value = float(hit[name].iloc[0])
                    break
            want.append(value)
        got = {"price": block["price"], "promo": block["flags"].get("promo"), "event": block["flags"].get("event"),
               "store_open": [None if c is None else 1.0 - c for c in block["closed"]]}[name]  # fmt: skip
        assert [None if np.isnan(v) else v for v in want] == pytest.approx(got), name


def test_a_run_without_drivers_has_no_block(store):
    detail = store.series_detail(*STOCKED_OUT, (DRIVERS_RUN - timedelta(days=1)).isoformat(), "retail")
    assert detail["forecast"] is not None
    assert detail["drivers"] is None
    assert "drivers used" not in str(detail["metrics"]["reason"])


def test_the_drivers_table_is_read_once_per_publish_and_never_stale(lake, tmp_path):
    """Cached on its _SUCCESS stamp like the run's other tables; a re-run of the day without
    drivers removes the partition (salescast.forecast.tasks.publish_forecasts), and the next
    page has no block."""
    copy = tmp_path / "lake"
    shutil.copytree(Path(lake.root.path), copy)
    mine = DashboardStore(Lake(copy.as_uri()))
    first = mine.series_detail(*STOCKED_OUT, None, "retail")["drivers"]
    cached = mine.tables._tables[(RUN_DRIVERS.folder, DRIVERS_RUN.isoformat())]
    assert mine.series_detail(*STOCKED_OUT, None, "retail")["drivers"] == first
    assert mine.tables._tables[(RUN_DRIVERS.folder, DRIVERS_RUN.isoformat())] is cached  # not read again
    mine.lake.remove_tree(mine.lake.partition_dir(RUN_DRIVERS, DRIVERS_RUN))
    assert mine.series_detail(*STOCKED_OUT, None, "retail")["drivers"] is None
