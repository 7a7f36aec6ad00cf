"""One forecast run's published tables (``forecasts``, ``metrics``, ``safety_stock``, and with
drivers on ``forecast_drivers``, whose ``*`` rows are indexed like any other key), read once
per marker stamp and indexed by series, in a small least-recently-used cache."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from salescast.lake import DATA_FILE, Dataset, Lake

KEY = ["store_id", "item_id"]
FORECAST_COLUMNS = ["store_id", "item_id", "date", "horizon_step", "p10", "p50", "p90", "mean", "model"]


@dataclass
class RunTable:
    """A run's rows of one dataset and, per series, the positions of its rows."""

    stamp: str
    frame: pd.DataFrame
    positions: dict[tuple[str, str], np.ndarray]

    def rows(self, store_id: str, item_id: str) -> pd.DataFrame:
        found = self.positions.get((store_id, item_id))
        return self.frame.iloc[found] if found is not None else self.frame.iloc[0:0]


def _index(frame: pd.DataFrame, stamp: str) -> RunTable:
    if frame.empty:
        return RunTable(stamp, frame, {})
    return RunTable(stamp, frame, frame.groupby(KEY, sort=False).indices)


def read_table(lake: Lake, dataset: Dataset, value: str, stamp: str) -> RunTable:
    """Read one published partition. Raises FileNotFoundError if it vanished meanwhile."""
    columns = FORECAST_COLUMNS if dataset.folder == "forecasts" else None
    frame = lake.read_parquet(lake.partition_dir(dataset, date.fromisoformat(value)) / DATA_FILE, columns=columns)
    if "date" in frame.columns:
        frame["date"] = pd.to_datetime(frame["date"])
    return _index(frame, stamp)


class TableCache:
    """(dataset, partition) -> RunTable, refreshed when the marker stamp differs."""

    def __init__(self, lake: Lake, size: int = 24) -> None:
        self.lake, self.size = lake, size
        self._tables: OrderedDict[tuple[str, str], RunTable] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, dataset: Dataset, value: str, stamp: str) -> RunTable:
        key = (dataset.folder, value)
        with self._lock:
            table = self._tables.get(key)
            if table is not None and table.stamp == stamp:
                self._tables.move_to_end(key)
                return table
        table = read_table(self.lake, dataset, value, stamp)
        with self._lock:
            self._tables[key] = table
            self._tables.move_to_end(key)
            while len(self._tables) > self.size:
                self._tables.popitem(last=False)
        return table
