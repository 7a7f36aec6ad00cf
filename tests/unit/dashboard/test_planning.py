"""The dashboard's totals and forecast value added are the SQL views' own numbers, read from the lake."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from salescast.dashboard.planning import planning
from salescast.lake import Lake
from salescast.publish import DATA_FILE

RUN = date(2025, 3, 7)


def write(root: Path, prefix: str, key: str, value: str, frame: pd.DataFrame) -> None:
    folder = root / prefix / f"{key}={value}"
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / DATA_FILE, index=False)
    (folder / "_SUCCESS").write_text("{}")


@pytest.fixture
def lake(tmp_path) -> Lake:
    """Two stores x two items; a week before the run sold 5 a day, the week after 10; the
    statistical p50 is 9, a planner set S1/A to 20 (harmful); items A (food) and B (home)."""
    root = tmp_path / "lake"
    for n in range(14):
        day = date(2025, 3, 1) + timedelta(days=n)
        units = 5.0 if n < 7 else 10.0
        sales = pd.DataFrame([{"date": day, "store_id": s, "item_id": i, "units": units, "revenue": 1.0,
                               "source_rows": 1} for s in ("S1", "S2") for i in ("A", "B")])  # fmt: skip
        write(root, "curated/sales_daily", "dt", day.isoformat(), sales)
    rows = pd.DataFrame([{"run_date": RUN, "store_id": s, "item_id": i, "date": RUN + timedelta(days=k),
                          "p10": 7.0, "p50": 9.0, "p90": 12.0, "horizon_step": k, "mean": 9.0, "model": "theta"}
                         for s in ("S1", "S2") for i in ("A", "B") for k in range(1, 8)])  # fmt: skip
    write(root, "forecasts", "run_date", RUN.isoformat(), rows)
    hit = (rows["store_id"] == "S1") & (rows["item_id"] == "A")
    final = rows.assign(override_id=None, override_kind=None, override_value=float("nan"), override_author=None,
                        override_reason=None)  # fmt: skip
    final.loc[hit, ["p50", "override_id", "override_kind", "override_value"]] = [20.0, "x", "set", 20.0]
    write(root, "forecasts_final", "run_date", RUN.isoformat(), final)
    items = pd.DataFrame({"item_id": ["A", "B"], "category": ["food", "home"], "subcategory": "s", "brand": "b",
                          "launch_date": date(2024, 1, 1), "status": "active", "analog_item_id": None,
                          "source_file": "items.csv", "asof": date(2025, 1, 1)})  # fmt: skip
    write(root, "curated/items", "asof", "2025-01-01", items)
    return Lake(str(root))


def test_totals_add_up_and_forecast_value_added_says_the_override_hurt(lake):
    out = planning(lake, None)
    assert (out["run_dates"], out["run_date"]) == (["2025-03-07"], "2025-03-07")
    stores = {r["name"]: r for r in out["stores"]}
    assert stores["S1"]["sum_p50"] == pytest.approx(2 * 7 * 9.0)  # two items x seven days, statistical
    assert stores["S1"]["actual"] == pytest.approx(2 * 7 * 10.0)
    assert stores["S1"]["days_known"] == 7
    categories = {r["name"]: r for r in out["categories"]}
    assert set(categories) == {"food", "home"}
    assert sum(r["sum_p50"] for r in out["categories"]) == pytest.approx(sum(r["sum_p50"] for r in out["total"]))
    assert sum(r["sum_p50"] for r in out["stores"]) == pytest.approx(4 * 7 * 9.0)
    [fva] = out["fva"]
    assert (fva["points"], fva["points_overridden"], fva["abs_actual"]) == (28, 7, 280.0)
    assert fva["naive"] == pytest.approx(28 * 5.0)  # last week's 5 against this week's 10
    assert fva["statistical"] == pytest.approx(28 * 1.0)
    assert fva["final"] == pytest.approx(21 * 1.0 + 7 * 10.0)  # S1/A set to 20: 10 off every day
    assert fva["fva_statistical"] == pytest.approx((140 - 28) / 280)
    assert fva["fva_overrides"] == pytest.approx((28 - 91) / 280)  # below 0: the override hurt
    assert planning(lake, "2024-01-01")["run_date"] == "2025-03-07"  # an unknown run: the newest


def test_an_empty_lake_has_nothing_to_sum(tmp_path):
    out = planning(Lake(str(tmp_path / "empty")), None)
    assert out == {"run_dates": [], "run_date": None, "stores": [], "categories": [], "total": [], "fva": []}
