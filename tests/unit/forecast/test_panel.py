"""The dense panel built from integer codes is the pivot table it replaces, cell for cell."""

from __future__ import annotations

import numpy as np
import pandas as pd

from salescast.forecast.panel import _series_by_day, build_panel


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
    index, values = _series_by_day(history, days)
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


def test_cli_reads_parquet_ids_as_categories_and_numbers_as_they_are(tmp_path):
    from salescast.cli import _read_history

    history = _messy_history()
    history.to_parquet(tmp_path / "text.parquet", index=False)
    history.assign(store_id=history["store_id"].str[1:].astype(int)).to_parquet(tmp_path / "num.parquet")
    text, numbers = _read_history(str(tmp_path / "text.parquet")), _read_history(str(tmp_path / "num.parquet"))
    assert isinstance(text["store_id"].dtype, pd.CategoricalDtype)
    assert str(text["date"].dtype).startswith("datetime64")
    assert build_panel(text, "D").keys.equals(build_panel(history, "D").keys)
    assert list(build_panel(numbers, "D").keys["store_id"].unique()) == ["1", "10", "2"]


def test_time_zone_aware_days_across_daylight_saving():
    """Days of a zone with a 23-hour day still land on their calendar day."""
    days = pd.date_range("2023-03-20", "2023-04-05", freq="D", tz="Europe/Berlin")
    history = pd.DataFrame({"date": days, "store_id": "s", "item_id": "i", "units": np.arange(len(days)) + 1.0})
    _, values = _series_by_day(history, days)
    np.testing.assert_array_equal(values[0], np.arange(len(days)) + 1.0)


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
