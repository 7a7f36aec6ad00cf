"""Every series' daily sales in memory, sorted by series then day.

A series page needs two years of one series out of 10,000; reading 730 partitions per request
would take seconds, so the published ``sales_daily`` partitions are held as three flat arrays
(day, units, and per-series offsets: 12 bytes a row, about 90 MB for 10,000 series x 2
years). A refresh re-reads only the partitions whose ``_SUCCESS`` marker changed, appeared or
went away; a partition holds one day (``dt=D`` rows all have ``date`` D: the ``sales_daily``
suite checks it), so replacing a partition is replacing that day's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from salescast.lake import DATA_FILE, SALES_DAILY, Lake

EPOCH = date(1970, 1, 1)
COLUMNS = ["date", "store_id", "item_id", "units"]
KEY_UNITS = ["store_id", "item_id", "units"]  # the index takes the day from the partition
BATCH = 32  # partitions read and encoded together
VOLUME_DAYS = 28  # "volume" in the series list: units sold over the last four weeks of history
READ_THREADS = 8  # partitions are small objects: reads wait on storage, not on the CPU


def day_number(value: str | date) -> int:
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return (day - EPOCH).days


def iso_days(days: np.ndarray) -> list[str]:
    return np.datetime_as_string(days.astype("datetime64[D]"), unit="D").tolist()


@dataclass
class Registry:
    """Series ids -> stable integer codes (grow-only, so codes survive refreshes)."""

    stores: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    codes: dict[tuple[str, str], int] = field(default_factory=dict)

    def code(self, store_id: str, item_id: str) -> int:
        key = (store_id, item_id)
        found = self.codes.get(key)
        if found is None:
            found = self.codes[key] = len(self.stores)
            self.stores.append(store_id)
            self.items.append(item_id)
        return found

    def encode(self, stores: pd.Series, items: pd.Series) -> np.ndarray:
        """Codes of many rows: factorize first, so the dict sees each series once."""
        store_codes, store_names = pd.factorize(stores)
        item_codes, item_names = pd.factorize(items)
        pairs = store_codes.astype(np.int64) * max(len(item_names), 1) + item_codes
        local, unique_pairs = pd.factorize(pairs)
        width = max(len(item_names), 1)
        mapped = np.array(
            [self.code(store_names[p // width], item_names[p % width]) for p in unique_pairs], dtype=np.int64
        )
        return mapped[local] if len(mapped) else np.zeros(0, dtype=np.int64)


@dataclass
class SalesIndex:
    """The published days' sales, one contiguous slice per series (by registry code)."""

    stamps: dict[str, str]
    registry: Registry
    offsets: np.ndarray  # int64, len = series + 1
    days: np.ndarray  # int32 days since 1970-01-01, ascending within a series
    units: np.ndarray  # float64
    published: np.ndarray = field(init=False)  # int32 days of the partitions held
    published_iso: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.published = np.array([day_number(v) for v in self.stamps], dtype=np.int32)
        self.published_iso = list(self.stamps)

    @property
    def n_series(self) -> int:
        return len(self.offsets) - 1

    def code(self, store_id: str, item_id: str) -> int | None:
        code = self.registry.codes.get((store_id, item_id))
        return code if code is not None and code < self.n_series else None

    def rows(self, code: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.offsets[code], self.offsets[code + 1]
        return self.days[lo:hi], self.units[lo:hi]

    def daily(self, code: int) -> np.ndarray:
        """Units on every published day (0 where the series has no row: missing = no sales)."""
        values = np.zeros(len(self.published), dtype=np.float64)
        days, units = self.rows(code)
        at = np.searchsorted(self.published, days)
        ok = (at < len(self.published)) & (self.published[np.minimum(at, len(self.published) - 1)] == days)
        values[at[ok]] = units[ok]
        return values

    def volumes(self, last_days: int = VOLUME_DAYS) -> np.ndarray:
        """Units per series over the last ``last_days`` published days."""
        if not len(self.days):
            return np.zeros(self.n_series)
        cut = self.published[-1] - last_days + 1
        cumulative = np.concatenate([[0.0], np.cumsum(np.where(self.days >= cut, self.units, 0.0))])
        return cumulative[self.offsets[1:]] - cumulative[self.offsets[:-1]]

    def series_codes(self) -> np.ndarray:
        """The code of every row (for a rebuild)."""
        return np.repeat(np.arange(self.n_series, dtype=np.int64), np.diff(self.offsets))


def empty_index(registry: Registry | None = None) -> SalesIndex:
    return SalesIndex({}, registry or Registry(), np.zeros(1, dtype=np.int64), np.zeros(0, np.int32), np.zeros(0))


def read_partitions(
    lake: Lake, values: Iterable[str], read: Callable[[str], pd.DataFrame | None]
) -> dict[str, pd.DataFrame]:
    """``read(value)`` for each partition value in threads; a partition that vanished
    (unpublished mid-refresh, returned as None) is left out."""
    values = list(values)
    if not values:
        return {}
    with ThreadPoolExecutor(max_workers=min(READ_THREADS, len(values))) as pool:
        frames = dict(zip(values, pool.map(read, values), strict=True))
    return {v: f for v, f in frames.items() if f is not None}


def read_sales_day(lake: Lake, value: str, columns: list[str] = COLUMNS) -> pd.DataFrame | None:
    path = lake.partition_dir(SALES_DAILY, date.fromisoformat(value)) / DATA_FILE
    try:
        return lake.read_parquet(path, columns=columns)
    except FileNotFoundError:
        return None


def _encode(registry: Registry, frames: dict[str, pd.DataFrame]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of some partitions as (series code, day, units); the day is the partition's."""
    frame = pd.concat(frames.values(), ignore_index=True)
    days = np.repeat(np.array([day_number(v) for v in frames], dtype=np.int32), [len(f) for f in frames.values()])
    return registry.encode(frame["store_id"], frame["item_id"]), days, frame["units"].to_numpy(dtype=np.float64)


def refresh(index: SalesIndex | None, lake: Lake, stamps: dict[str, str]) -> SalesIndex:
    """The index for ``stamps`` (partition -> marker stamp), reusing what did not change.

    Changed partitions are read in batches and turned into integer codes at once, so a cold
    build never holds two years of id strings (about 1 GB for 10,000 series) in memory."""
    index = index or empty_index()
    if index.stamps == stamps:
        return index
    dropped = [day_number(v) for v, s in index.stamps.items() if stamps.get(v) != s]
    wanted = [v for v, s in stamps.items() if index.stamps.get(v) != s]
    codes, days, units = index.series_codes(), index.days, index.units
    keep = ~np.isin(days, dropped)
    parts, read = [(codes[keep], days[keep], units[keep])], set()
    for start in range(0, len(wanted), BATCH):
        frames = read_partitions(lake, wanted[start : start + BATCH], lambda v: read_sales_day(lake, v, KEY_UNITS))
        if frames:
            parts.append(_encode(index.registry, frames))
            read.update(frames)
    codes, days, units = (np.concatenate(column) for column in zip(*parts, strict=True))
    # kept rows are sorted already and a stable sort (timsort) merges the new ones cheaply
    order = np.argsort((codes << 32) | (days.astype(np.int64) + (1 << 31)), kind="stable")
    offsets = np.searchsorted(codes[order], np.arange(len(index.registry.stores) + 1)).astype(np.int64)
    held = {v: s for v, s in stamps.items() if v in read or (v in index.stamps and index.stamps[v] == s)}
    return SalesIndex(held, index.registry, offsets, days[order], units[order])
