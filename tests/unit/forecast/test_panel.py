"""Panel building: the dense panel built from integer codes is the pivot table it replaces,
cell for cell; a weekly or monthly period the history covers only in part is left out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import numpy as np
import pandas as pd
import pytest

from salescast.config import REPO_ROOT
from salescast.forecast.engine import ForecastConfig, ForecastInputError, run_forecast
from salescast.forecast.panel import build_panel, series_by_day


def _messy_history() -> pd.DataFrame:
    """Duplicate rows, unsorted keys, integer and text ids, a row at noon, missing days."""
    rng = np.random.default_rng(3)
    days = pd.date_range("2023-01-01", periods=60, freq="D")
    rows = [
        {"date": day, "store_id": store, "item_id": item, "units": float(rng.poisson(4))}
        for store in ("S10", "S2", "S1")
        for item in ("b", "a", "10", "9")
        for day in days
        if rng.random() > 0.2
    ]
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=1)
    extra = pd.DataFrame(
        {
            "date": [days[5], days[5], days[7] + pd.Timedelta(hours=12)],
            "store_id": ["S1", "S1", "S2"],
            "item_id": ["a", "a", "b"],
            "units": [2.5, -1.0, 9.0],
        }
    )
    return pd.concat([frame, extra], ignore_index=True)


def test_series_by_day_is_the_pivot_table():
    history = _messy_history()
    days = pd.date_range(history["date"].min().normalize(), "2023-03-05", freq="D")
    index, values = series_by_day(history, days)
    pivot = history.pivot_table(index=["store_id", "item_id"], columns="date", values="units", aggfunc="sum")
    expected = pivot.reindex(columns=days, fill_value=0.0).fillna(0.0)
    assert list(index) == list(expected.index)
    np.testing.assert_array_equal(values, expected.to_numpy())


def test_build_panel_keeps_ids_as_text_and_imputes_unknown_days():
    history = _messy_history()
    history["store_id"] = history["store_id"].str[1:].astype(int)  # numeric store ids: sorted as text
    known = pd.date_range("2023-01-01", periods=60, freq="D").delete([20])
    panel = build_panel(history, "D", known_days=known)
    assert list(panel.keys["store_id"].unique()) == ["1", "10", "2"]
    assert panel.imputed_days == 1
    np.testing.assert_array_equal(panel.values[:, 20], panel.values[:, 13])  # a week earlier


def test_categorical_ids_give_the_same_panel_as_text_ids():
    """Ids read as a Parquet dictionary (categories in any order) change nothing."""
    history = _messy_history()
    categorical = history.assign(
        store_id=pd.Categorical(history["store_id"], categories=["S2", "S10", "S1"]),
        item_id=pd.Categorical(history["item_id"], categories=["b", "9", "a", "10"]),
    )
    for freq in ("D", "W", "M"):
        text, codes = build_panel(history, freq), build_panel(categorical, freq)
        assert codes.keys.equals(text.keys)
        np.testing.assert_array_equal(codes.values, text.values)
        np.testing.assert_array_equal(codes.first, text.first)


def test_time_zone_aware_days_across_daylight_saving():
    """Days of a zone with a 23-hour day still land on their calendar day."""
    days = pd.date_range("2023-03-20", "2023-04-05", freq="D", tz="Europe/Berlin")
    history = pd.DataFrame({"date": days, "store_id": "s", "item_id": "i", "units": np.arange(len(days)) + 1.0})
    _, values = series_by_day(history, days)
    np.testing.assert_array_equal(values[0], np.arange(len(days)) + 1.0)


# Weekly and monthly forecasts from daily rows: a period the history covers only in part.
#
# A history that ends on a Wednesday holds three days of the current week; summed, they read as
# a week of very low sales. Such a period is left out of training and forecast as horizon step 1
# (the first target date is that period's end), and the run summary says which period was left
# out. The same goes for a history, or a newly launched series, that starts mid-week.


WEEKDAYS = np.array([80.0, 90.0, 95.0, 100.0, 110.0, 125.0, 100.0])  # Monday..Sunday: 700 a week


def daily(start: str, end: str, series: tuple[str, str] = ("s1", "i1")) -> pd.DataFrame:
    days = pd.date_range(start, end, freq="D")
    return pd.DataFrame(
        {"date": days.date, "store_id": series[0], "item_id": series[1], "units": WEEKDAYS[days.day_of_week]}
    )


def sundays(first: str, periods: int) -> list[date]:
    return list(pd.date_range(first, periods=periods, freq="W-SUN").date)


def test_a_history_ending_mid_week_forecasts_the_current_week_as_step_one():
    history = daily("2023-01-02", "2024-03-13")  # Monday .. Wednesday: 3 of the last week's 7 days
    panel = build_panel(history, "W")
    assert panel.dates[-1] == pd.Timestamp("2024-03-10")  # the last complete week
    assert panel.values.min() == pytest.approx(700.0)  # no week of 270 units
    result = run_forecast(history, ForecastConfig(horizon=3, freq="W"))
    assert list(result.forecasts["date"]) == sundays("2024-03-17", 3)  # the current week first
    assert list(result.forecasts["horizon_step"]) == [1, 2, 3]
    assert result.forecasts["p50"].to_numpy() == pytest.approx(np.full(3, 700.0))


def test_a_history_ending_mid_month_forecasts_the_current_month_as_step_one():
    history = daily("2021-01-01", "2024-03-13")
    history["units"] = 10.0
    panel = build_panel(history, "M")
    assert panel.dates[-1] == pd.Timestamp("2024-02-29")
    assert panel.values.min() >= 280.0  # February: no month of 130 units
    result = run_forecast(history, ForecastConfig(horizon=2, freq="M"))
    assert list(result.forecasts["date"]) == [date(2024, 3, 31), date(2024, 4, 30)]
    assert (result.forecasts["p50"] > 280.0).all()


def test_a_noisy_history_ending_mid_week_is_not_forecast_low():
    rng = np.random.default_rng(3)
    history = daily("2022-01-03", "2024-03-12")  # ends on a Tuesday
    history["units"] = history["units"] * rng.uniform(0.8, 1.2, len(history))
    result = run_forecast(history, ForecastConfig(horizon=4, freq="W-SUN"))
    assert result.forecasts["date"].iloc[0] == date(2024, 3, 17)
    assert result.forecasts["p50"].to_numpy() == pytest.approx(np.full(4, 700.0), rel=0.1)


def test_a_history_starting_mid_week_starts_at_its_first_complete_week():
    history = daily("2023-01-04", "2023-12-31")  # Wednesday .. Sunday
    panel = build_panel(history, "W")
    assert panel.dates[0] == pd.Timestamp("2023-01-15")  # not the Wednesday-to-Sunday week of 01-08
    assert panel.values.min() == pytest.approx(700.0)


def test_a_series_launched_mid_week_starts_at_its_first_complete_week():
    old = daily("2023-01-02", "2024-03-10")
    new = daily("2024-01-18", "2024-03-10", ("s1", "new"))  # launched on a Thursday: 4 days that week
    result = run_forecast(pd.concat([old, new]), ForecastConfig(horizon=2, freq="W"))
    launched = result.forecasts[result.forecasts["item_id"] == "new"]
    assert launched["mean"].to_numpy() == pytest.approx([700.0, 700.0])  # not dragged down by 435
    assert launched["p10"].to_numpy() == pytest.approx([700.0, 700.0])


def test_a_week_with_an_unpublished_day_is_imputed_not_read_as_low_sales():
    history = daily("2024-01-01", "2024-03-31")
    known = pd.DatetimeIndex(sorted(set(pd.to_datetime(history["date"])) - {pd.Timestamp("2024-02-13")}))
    history = history[pd.to_datetime(history["date"]) != pd.Timestamp("2024-02-13")]  # a rejected day
    panel = build_panel(history, "W", end=pd.Timestamp("2024-03-31"), known_days=known)
    assert panel.imputed_days == 1
    assert panel.values.min() == pytest.approx(700.0)  # the Tuesday came from the Tuesday before


def test_the_dag_shape_end_mid_week_with_known_days_targets_the_current_week():
    history = daily("2023-03-16", "2024-03-13")  # a 364-day window from Thursday to Wednesday
    known = pd.DatetimeIndex(pd.to_datetime(history["date"]))
    result = run_forecast(
        history, ForecastConfig(horizon=2, freq="W-SUN"), end=pd.Timestamp("2024-03-13"), known_days=known
    )
    assert list(result.forecasts["date"]) == sundays("2024-03-17", 2)
    assert result.forecasts["p50"].to_numpy() == pytest.approx([700.0, 700.0])


@pytest.mark.parametrize(
    ("dates", "freq", "last_period"),
    [
        (pd.date_range("2022-01-03", periods=120, freq="W-MON"), "W", "2024-04-21"),  # weekly totals dated Monday
        (pd.date_range("2022-01-02", periods=120, freq="W-SUN"), "W", "2024-04-14"),  # ... dated Sunday
        (pd.date_range("2016-01-01", periods=60, freq="MS"), "M", "2020-12-31"),  # monthly totals dated the 1st
        (pd.date_range("2016-01-31", periods=60, freq="ME"), "M", "2020-12-31"),  # ... dated month end
    ],
)
def test_rows_that_are_already_one_per_period_are_whole_periods(dates, freq, last_period):
    from salescast.forecast.panel import partial_periods

    history = pd.DataFrame({"date": dates.date, "store_id": "s", "item_id": "i", "units": 500.0})
    panel = build_panel(history, freq)
    assert len(panel.dates) == len(dates)
    assert panel.dates[-1] == pd.Timestamp(last_period)
    assert partial_periods(history, freq) == {"leading": None, "trailing": None}


def test_a_history_without_one_complete_period_is_refused_with_the_reason():
    with pytest.raises(ForecastInputError, match=r"covers no complete period .*2024-03-06 to 2024-03-09"):
        build_panel(daily("2024-03-06", "2024-03-09"), "W")
    with pytest.raises(ForecastInputError, match="no complete period"):
        build_panel(daily("2024-03-01", "2024-03-30"), "M")  # March 31 is missing


def test_partial_periods_names_the_periods_left_out():
    from salescast.forecast.panel import partial_periods

    assert partial_periods(daily("2023-01-04", "2024-03-13"), "W") == {
        "leading": {"period_end": "2023-01-08", "first_day": "2023-01-04", "last_day": "2023-01-08",
                    "days_seen": 5, "days_in_period": 7},
        "trailing": {"period_end": "2024-03-17", "first_day": "2024-03-11", "last_day": "2024-03-13",
                     "days_seen": 3, "days_in_period": 7},
    }  # fmt: skip
    assert partial_periods(daily("2023-01-02", "2024-03-13"), "D") == {"leading": None, "trailing": None}
    complete = partial_periods(daily("2023-01-02", "2024-03-10"), "W")
    assert complete == {"leading": None, "trailing": None}
    # the DAG passes the day it forecasts from: a history that is complete up to it
    assert partial_periods(daily("2023-01-02", "2024-03-10"), "W", end=pd.Timestamp("2024-03-12"))["trailing"] == {
        "period_end": "2024-03-17", "first_day": "2024-03-11", "last_day": "2024-03-12",
        "days_seen": 2, "days_in_period": 7,
    }  # fmt: skip


def test_the_forecast_command_says_so_in_its_summary(tmp_path):
    history = tmp_path / "history.csv"
    daily("2023-01-04", "2024-03-13").to_csv(history, index=False)
    out = subprocess.run(
        [sys.executable, "-m", "salescast", "forecast", "--history", str(history), "--freq", "W",
         "--horizon", "2", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=REPO_ROOT, env=os.environ.copy(), check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["dropped_partial_period"]["trailing"]["period_end"] == "2024-03-17"
    assert summary["dropped_partial_period"]["leading"]["period_end"] == "2023-01-08"
    assert "2024-03-11..2024-03-13 (3 of 7 days)" in out.stderr
    forecasts = pd.read_parquet(tmp_path / "out" / "forecasts.parquet")
    assert list(forecasts["date"]) == sundays("2024-03-17", 2)


def test_the_forecast_dag_tasks_say_so_in_the_run_summary(lake, monkeypatch):
    from salescast.forecast import tasks as forecast_tasks
    from salescast.lake import SALES_DAILY
    from salescast.publish import publish_partition

    monkeypatch.setenv("SALESCAST_FREQ", "W-SUN")
    monkeypatch.setenv("SALESCAST_HORIZON", "2")
    monkeypatch.setenv("SALESCAST_HISTORY_DAYS", "200")
    history = pd.concat([daily("2024-01-01", "2024-03-13"), daily("2024-01-01", "2024-03-13", ("s2", "i2"))])
    history["revenue"] = history["units"] * 2.0
    history["source_rows"] = 1
    for day, rows in history.groupby("date"):
        staged = lake.staging_dir(SALES_DAILY, day) / "part-0.parquet"
        lake.write_parquet(staged, rows.reset_index(drop=True))
        publish_partition(lake, staged, lake.curated_dir(day), {"rows": len(rows)})
    ds, run_id = "2024-03-13", "manual__2024-03-13"
    shards = [forecast_tasks.forecast_shard(ds, run_id, spec) for spec in forecast_tasks.plan_shards(ds, run_id)]
    forecast_tasks.publish_forecasts(ds, run_id, shards)
    summary = lake.read_json(lake.reports_dir(date(2024, 3, 13)) / "forecast_summary.json")
    assert summary["dropped_partial_period"]["trailing"] == {
        "period_end": "2024-03-17", "first_day": "2024-03-11", "last_day": "2024-03-13",
        "days_seen": 3, "days_in_period": 7,
    }  # fmt: skip
    assert summary["dropped_partial_period"]["leading"] is None  # 2024-01-01 is a Monday
    forecasts = lake.read_parquet(lake.run_dir("forecasts", date(2024, 3, 13)) / "part-0.parquet")
    assert set(forecasts["date"]) == set(sundays("2024-03-17", 2))
    assert forecasts["p50"].to_numpy() == pytest.approx(np.full(4, 700.0))


def test_censored_days_are_imputed_partly_available_days_scaled_and_nothing_before_the_first_sale():
    days = pd.date_range("2024-01-01", periods=21, freq="D")
    units = np.r_[np.zeros(3), np.arange(4.0, 22.0)]  # first sale on day 3
    history = pd.DataFrame({"date": days, "store_id": "S1", "item_id": "I1", "units": units})

    def censor(keys: pd.DataFrame, grid: pd.DatetimeIndex):
        assert keys.to_dict("list") == {"store_id": ["S1"], "item_id": ["I1"]}
        censored = np.zeros((1, len(grid)), dtype=bool)
        censored[0, [1, 12, 19]] = True  # day 1 is before the first sale: not a stock-out
        exposure = np.ones((1, len(grid)))
        exposure[0, 15] = 0.8
        return censored, exposure

    panel = build_panel(history, "D", censor=censor)
    assert panel.censored is not None
    assert np.flatnonzero(panel.censored[0]).tolist() == [12, 19]
    assert panel.values[0, 12] == units[5]  # the same weekday a week earlier
    assert panel.values[0, 19] == units[5]  # a week earlier, itself imputed (a chain of stock-outs)
    assert panel.values[0, 15] == units[15] / 0.8  # seen for 80% of the day: scaled to the whole day
    assert panel.values[0, 1] == 0.0
    assert panel.first[0] == 3
    plain = build_panel(history, "D")
    assert plain.censored is None
    np.testing.assert_array_equal(plain.values[0], units)


def test_a_stock_out_longer_than_a_week_carries_the_last_week_seen_forward():
    days = pd.date_range("2024-01-01", periods=28, freq="D")
    units = np.tile(np.arange(1.0, 8.0), 4)
    units[10:24] = 0.0  # two weeks out of stock
    history = pd.DataFrame({"date": days, "store_id": "S1", "item_id": "I1", "units": units})

    def censor(keys: pd.DataFrame, grid: pd.DatetimeIndex):
        censored = np.zeros((1, len(grid)), dtype=bool)
        censored[0, 10:24] = True
        return censored, np.ones((1, len(grid)))

    panel = build_panel(history, "D", censor=censor)
    np.testing.assert_array_equal(panel.values[0], np.tile(np.arange(1.0, 8.0), 4))
