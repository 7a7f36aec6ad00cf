"""The one reader for the tables a user hands the engine (history and drivers), and the
history-length check, through their public functions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salescast.forecast.input_files import InputFileError, check_history_length, read_table
from salescast.forecast.panel import build_panel


def _history(days: int = 40) -> pd.DataFrame:
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    return pd.DataFrame(
        [
            {"date": day, "store_id": store, "item_id": item, "units": float(n % 7)}
            for n, day in enumerate(dates)
            for store in ("S10", "S2", "S1")
            for item in ("a", "10")
        ]
    )


def test_parquet_ids_read_as_categories_and_numbers_as_they_are(tmp_path):
    history = _history()
    history.to_parquet(tmp_path / "text.parquet", index=False)
    history.assign(store_id=history["store_id"].str[1:].astype(int)).to_parquet(tmp_path / "num.parquet")
    text, numbers = read_table(tmp_path / "text.parquet", "history"), read_table(tmp_path / "num.parquet", "history")
    assert isinstance(text["store_id"].dtype, pd.CategoricalDtype)
    assert str(text["date"].dtype).startswith("datetime64")
    assert build_panel(text, "D").keys.equals(build_panel(history, "D").keys)
    assert list(build_panel(numbers, "D").keys["store_id"].unique()) == ["1", "10", "2"]


def test_a_folder_reads_every_visible_file_csv_and_parquet_alike(tmp_path):
    """Drivers often come as several files: one per source, some CSV and some Parquet."""
    history = _history()
    folder = tmp_path / "drivers"
    (folder / "weather").mkdir(parents=True)
    (folder / "_staging").mkdir()
    history.iloc[:100].to_csv(folder / "a.csv", index=False)
    history.iloc[100:].to_parquet(folder / "weather" / "b.parquet", index=False)
    history.to_csv(folder / "_staging" / "half-written.csv", index=False)  # a write in progress: not read
    (folder / "_SUCCESS").write_text("")
    (folder / ".hidden.csv").write_text("garbage")
    table = read_table(folder, "drivers")
    assert len(table) == len(history)
    assert table["store_id"].map(type).eq(str).all()  # ids stay text, "10" is not the number 10
    assert sorted(table["units"]) == sorted(history["units"])


def test_a_folder_of_parquet_partitions_gives_back_the_partition_column(tmp_path):
    history = _history()
    history.to_parquet(tmp_path / "lake", partition_cols=["store_id"], index=False)
    table = read_table(tmp_path / "lake", "history")
    assert set(table["store_id"].astype(str)) == {"S1", "S2", "S10"}
    assert len(table) == len(history)


def _file(folder, name: str, data: bytes | None):
    path = folder / name
    if data is None:
        path.mkdir()
    else:
        path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("empty.csv", b"", "history file {p}/empty.csv is empty: it needs a header date,store_id"),
        ("bad.csv", b"date,store_id\n\xff\xfe,\x00\n", "is not a readable UTF-8 CSV"),
        ("bad.parquet", b"not parquet", "history file {p}/bad.parquet is not a readable Parquet"),
        ("nothing", None, "history folder {p}/nothing holds no file"),
    ],
)
def test_unusable_files_are_named_with_what_to_fix(tmp_path, name, data, fragment):
    with pytest.raises(InputFileError) as caught:
        read_table(_file(tmp_path, name, data), "history")
    assert fragment.format(p=tmp_path) in str(caught.value)
    with pytest.raises(InputFileError, match=f"drivers file {tmp_path}/gone.csv does not exist"):
        read_table(tmp_path / "gone.csv", "drivers")


def test_a_horizon_longer_than_the_history_counts_complete_periods_only():
    history = _history(days=40)  # Mon 2024-01-01 .. Fri 2024-02-09: 5 complete weeks, a partial 6th
    check_history_length(history, "D", 39, "h.csv")
    with pytest.raises(InputFileError, match="--horizon 40 is longer than the history: 40 days"):
        check_history_length(history, "D", 40, "h.csv")
    with pytest.raises(InputFileError, match="5 complete weeks from 2024-01-01 to 2024-02-09"):
        check_history_length(history, "W-SUN", 5, "h.csv")
    check_history_length(history, "W-SUN", 4, "h.csv")


def test_mixed_utc_offsets_are_refused_with_the_fix():
    history = pd.DataFrame(
        {"date": ["2024-01-01T00:00:00+01:00", "2024-01-02T00:00:00+02:00"], "store_id": "s", "item_id": "i",
         "units": np.ones(2)}
    )  # fmt: skip
    with pytest.raises(InputFileError, match="different UTC offsets"):
        check_history_length(history, "D", 1, "h.csv")
