"""Every series' daily sales in memory, sorted by series then day.

A series page needs two years of one series out of 10,000; reading 730 partitions per request
would take seconds, so the published ``sales_daily`` partitions are held as three flat arrays
(day, units, and per-series offsets: 12 bytes a row, about 90 MB for 10,000 series x 2
years). A refresh re-reads only the partitions whose ``_SUCCESS`` marker changed, appeared or
went away; a partition holds one day (``dt=D`` rows all have ``date`` D: the ``sales_daily``
suite checks it), so replacing a partition is replacing that day's rows.
"""

from __future__ import annotations

import io
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from salescast.lake import DATA_FILE, SALES_DAILY, Lake

EPOCH = date(1970, 1, 1)
COLUMNS = ["date", "store_id", "item_id", "units"]
KEY_UNITS = ["store_id", "item_id", "units"]  # the index takes the day from the partition
VOLUME_DAYS = 28  # "volume" in the series list: units sold over the last four weeks of history
READ_THREADS = 8  # partitions are small objects: reads wait on storage, not on the CPU
READS: Counter[str] = Counter()  # sales_daily partitions read for the index, per day (tests, bench)
_READS_LOCK = threading.Lock()


def day_number(value: str | date) -> int:
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return (day - EPOCH).days


def iso_days(days: np.ndarray) -> list[str]:
    return np.datetime_as_string(days.astype("datetime64[D]"), unit="D").tolist()


@dataclass
class Registry:
    """Series ids -> stable integer codes (grow-only, so codes survive refreshes).

    Rows are encoded without Python strings per row: a partition read with dictionary-encoded
    ids gives each store and item a number, a pair of numbers is one int64 key, and the keys of
    known series are a sorted array to ``searchsorted`` in; only new series touch the dicts."""

    stores: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    codes: dict[tuple[str, str], int] = field(default_factory=dict)
    store_numbers: dict[str, int] = field(default_factory=dict)
    item_numbers: dict[str, int] = field(default_factory=dict)
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # sorted pair keys
    key_codes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # their codes

    def code(self, store_id: str, item_id: str) -> int:
        key = (store_id, item_id)
        found = self.codes.get(key)
        if found is None:
            found = self.codes[key] = len(self.stores)
            self.stores.append(store_id)
            self.items.append(item_id)
        return found

    def encode(self, stores: pa.Array, items: pa.Array) -> np.ndarray:
        """Codes of many rows, from dictionary arrays of the ids (one chunk each)."""
        keys = (_numbers(stores, self.store_numbers) << 32) | _numbers(items, self.item_numbers)
        at = np.minimum(np.searchsorted(self.keys, keys), max(len(self.keys) - 1, 0))
        known = (self.keys[at] == keys) if len(self.keys) else np.zeros(len(keys), dtype=bool)
        if not known.all():
            self._add(stores, items, keys, known)
            return self.encode(stores, items)
        return self.key_codes[at]

    def _add(self, stores: pa.Array, items: pa.Array, keys: np.ndarray, known: np.ndarray) -> None:
        new, first = np.unique(keys[~known], return_index=True)
        rows = pa.array(np.flatnonzero(~known)[first])
        names = zip(stores.take(rows).to_pylist(), items.take(rows).to_pylist(), strict=True)
        codes = np.array([self.code(store, item) for store, item in names], dtype=np.int64)
        merged = np.concatenate([self.keys, new])
        order = np.argsort(merged, kind="stable")
        self.keys, self.key_codes = merged[order], np.concatenate([self.key_codes, codes])[order]


def _numbers(column: pa.Array, numbers: dict[str, int]) -> np.ndarray:
    """Each row's id as a number, stable across partitions (looked up once per distinct id)."""
    if not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode()
    names = column.dictionary.to_pylist()
    table = np.array([numbers.setdefault(name, len(numbers)) for name in names], dtype=np.int64)
    return table[column.indices.to_numpy(zero_copy_only=False).astype(np.int64)]


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


def empty_index(registry: Registry | None = None) -> SalesIndex:
    return SalesIndex({}, registry or Registry(), np.zeros(1, dtype=np.int64), np.zeros(0, np.int32), np.zeros(0))


def read_sales_day(lake: Lake, value: str, columns: list[str] = COLUMNS) -> pd.DataFrame | None:
    path = lake.partition_dir(SALES_DAILY, date.fromisoformat(value)) / DATA_FILE
    try:
        return lake.read_parquet(path, columns=columns)
    except FileNotFoundError:
        return None


def read_day_table(lake: Lake, value: str) -> pa.Table | None:
    """One partition's ids (dictionary-encoded: no Python string per row) and units; None if
    it vanished (unpublished mid-refresh). Counted in ``READS``."""
    path = lake.partition_dir(SALES_DAILY, date.fromisoformat(value)) / DATA_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    with _READS_LOCK:
        READS[value] += 1
    table = pq.read_table(io.BytesIO(data), columns=KEY_UNITS, read_dictionary=KEY_UNITS[:2])
    if table["store_id"].null_count or table["item_id"].null_count:  # not a series: left out
        table = table.filter(pc.and_(pc.is_valid(table["store_id"]), pc.is_valid(table["item_id"])))
    return table


def read_rows(registry: Registry, lake: Lake, values: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, set]:
    """Rows of some partitions as (series code, day, units) and the partitions found; reads
    run in threads (storage waits), encoding in this one (the registry is not thread-safe)."""
    parts, read = [], set()
    if values:
        with ThreadPoolExecutor(max_workers=min(READ_THREADS, len(values))) as pool:
            tables = pool.map(lambda v: read_day_table(lake, v), values)
            for value, table in zip(values, tables, strict=True):
                if table is None:
                    continue
                read.add(value)
                for batch in table.to_batches():
                    codes = registry.encode(batch.column("store_id"), batch.column("item_id"))
                    units = batch.column("units").to_numpy(zero_copy_only=False).astype(np.float64)
                    parts.append((codes, np.full(len(codes), day_number(value), dtype=np.int32), units))
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0), read
    codes, days, units = (np.concatenate(column) for column in zip(*parts, strict=True))
    return codes, days, units, read


def _keys(codes: np.ndarray, days: np.ndarray) -> np.ndarray:
    """One int64 per row that sorts like (series, day)."""
    return (codes.astype(np.int64) << 32) | (days.astype(np.int64) + (1 << 31))


def find(offsets: np.ndarray, days: np.ndarray, codes: np.ndarray, day: np.ndarray | int) -> np.ndarray:
    """Per series in ``codes``: the first position in its slice whose day is >= ``day``.

    A binary search of all slices at once (about 10 steps over ``len(codes)`` elements), so
    finding one day in 10,000 series reads no other row of the 5.6 M."""
    lo, hi = offsets[codes].copy(), offsets[codes + 1].copy()
    last = max(len(days) - 1, 0)
    while (active := lo < hi).any():
        mid = (lo + hi) // 2
        less = active & (days[np.minimum(mid, last)] < day)
        lo, hi = np.where(less, mid + 1, lo), np.where(active & ~less, mid, hi)
    return lo


def drop_days(index: SalesIndex, dropped: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The index's arrays without the rows of ``dropped`` days (a series has at most one row
    a day: found by ``find``, then removed in one copy)."""
    if not dropped or not len(index.days):
        return index.offsets, index.days, index.units
    every = np.arange(index.n_series, dtype=np.int64)
    gone, removed = [], np.zeros(index.n_series, dtype=np.int64)
    for value in dropped:
        at = find(index.offsets, index.days, every, day_number(value))
        hit = (at < index.offsets[1:]) & (index.days[np.minimum(at, len(index.days) - 1)] == day_number(value))
        gone.append(at[hit])
        removed += hit
    rows = np.concatenate(gone)
    offsets = index.offsets - np.concatenate([[0], np.cumsum(removed)])
    return offsets, np.delete(index.days, rows), np.delete(index.units, rows)


def insert_rows(
    offsets: np.ndarray, days: np.ndarray, units: np.ndarray, new: tuple, n_series: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted arrays with ``new`` (codes, days, units) merged in by position: only the new rows
    are sorted, then one ``find`` and one ``insert`` copy, not a sort of every row."""
    codes, new_days, new_units = new
    offsets = np.concatenate([offsets, np.full(n_series + 1 - len(offsets), offsets[-1], dtype=np.int64)])
    if not len(codes):
        return offsets, days, units
    order = np.argsort(_keys(codes, new_days), kind="stable")
    codes, new_days, new_units = codes[order], new_days[order], new_units[order]
    counts = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=n_series))])
    if not len(days):
        return offsets + counts, new_days, new_units
    at = find(offsets, days, codes, new_days)
    return offsets + counts, np.insert(days, at, new_days), np.insert(units, at, new_units)


def refresh(index: SalesIndex | None, lake: Lake, stamps: dict[str, str]) -> SalesIndex:
    """The index for ``stamps`` (partition -> marker stamp), reusing what did not change.

    Only partitions whose marker changed, appeared or went away are touched: their old rows
    are dropped, the new ones read and merged in by position. The old index is not modified
    (other requests may still be reading it)."""
    index = index or empty_index()
    if index.stamps == stamps:
        return index
    dropped = [v for v, s in index.stamps.items() if stamps.get(v) != s]
    wanted = [v for v, s in stamps.items() if index.stamps.get(v) != s]
    offsets, days, units = drop_days(index, dropped)
    *new, read = read_rows(index.registry, lake, wanted)
    offsets, days, units = insert_rows(offsets, days, units, tuple(new), len(index.registry.stores))
    held = {v: s for v, s in stamps.items() if v in read or (v in index.stamps and index.stamps[v] == s)}
    return SalesIndex(held, index.registry, offsets, days, units)
