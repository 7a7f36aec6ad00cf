"""Split the training history into one Parquet file per shard, streaming, in bounded memory.

Each shard reads only its own series, so its memory and time follow its series, not the
panel. The published ``sales_daily`` files (a snapshot: see ``tasks.snapshot_history``) are
read one day at a time, twice: first the ids (how many series, hence how many shards), then
the rows, which go through a bounded buffer to one ``ParquetWriter`` per shard. Ids are
dictionary-encoded into global integer codes, so a (store, item) pair is one uint64 and the
shard (``contracts.shard_of``, crc32) is computed once per distinct series, never per row.
"""

from __future__ import annotations

import resource
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from salescast.contracts import ForecastInputError, shard_of

# What a shard needs of a sales_daily row (the engine's REQUIRED columns), typed once.
HISTORY_SCHEMA = pa.schema(
    [("date", pa.date32()), ("store_id", pa.string()), ("item_id", pa.string()), ("units", pa.float64())]
)
HISTORY_FILE = "history.parquet"
# Rows held in memory before every shard's buffer is written out as a row group: about
# 30 bytes a row in Arrow, so ~120 MB whatever the panel; a row group is BUFFER_ROWS / shards.
BUFFER_ROWS = 4_000_000
_LOW = np.uint64(0xFFFFFFFF)


def shard_folder(shard: int) -> str:
    return f"shard={shard}"


class KeyCodes:
    """Global integer codes for store and item ids: the pair (store, item) is one uint64."""

    def __init__(self) -> None:
        self.stores = pa.array([], pa.string())
        self.items = pa.array([], pa.string())

    def codes(self, table: pa.Table) -> np.ndarray:
        store = self._encode(table.column("store_id"), "stores").astype(np.uint64)
        item = self._encode(table.column("item_id"), "items").astype(np.uint64)
        return (store << np.uint64(32)) | item

    def _encode(self, column: pa.ChunkedArray, attr: str) -> np.ndarray:
        """Global codes of one column; values not seen before are appended to the dictionary."""
        if pa.types.is_dictionary(column.type):  # read as such: no need to hash the strings again
            encoded = column.unify_dictionaries().combine_chunks()
        else:
            encoded = pc.dictionary_encode(column.combine_chunks())
        dictionary = encoded.dictionary.cast(pa.string())
        known = getattr(self, attr)
        where = pc.index_in(dictionary, value_set=known)
        if where.null_count:
            known = pa.concat_arrays([known, dictionary.filter(where.is_null())])
            setattr(self, attr, known)
            where = pc.index_in(dictionary, value_set=known)
        return where.to_numpy(zero_copy_only=False)[encoded.indices.to_numpy(zero_copy_only=False)]

    def shards(self, codes: np.ndarray, n_shards: int) -> np.ndarray:
        """``shard_of`` for each distinct pair code (one crc32 per series)."""
        stores = self.stores.take(pa.array(codes >> np.uint64(32))).to_pylist()
        items = self.items.take(pa.array(codes & _LOW)).to_pylist()
        return np.fromiter(
            (shard_of(s, i, n_shards) for s, i in zip(stores, items, strict=True)), dtype=np.int64, count=len(codes)
        )


def _read(path: Path, columns: Sequence[str], ids_as_dictionary: bool = False) -> pa.Table:
    """``columns`` of one sales_daily file, typed as HISTORY_SCHEMA (ids dictionary-encoded
    as Parquet stores them, if asked: pass 1 needs their codes, not the strings)."""
    ids = ["store_id", "item_id"] if ids_as_dictionary else None
    table = pq.read_table(path, columns=list(columns), read_dictionary=ids)
    for name in columns:
        if table.column(name).null_count:
            raise ForecastInputError(f"{path}: {table.column(name).null_count} rows have no {name}")
        wanted = HISTORY_SCHEMA.field(name).type
        kept = ids_as_dictionary and pa.types.is_dictionary(table.schema.field(name).type)
        if table.schema.field(name).type != wanted and not kept:
            table = table.set_column(table.schema.get_field_index(name), name, table.column(name).cast(wanted))
    return table


@dataclass
class SeriesScan:
    """What the first pass learns: every distinct series (sorted pair codes) and the first day."""

    keys: KeyCodes
    codes: np.ndarray
    first_day: date | None
    rows: int
    stores: list[frozenset[str]]  # per input file (a day): the stores with rows in it


def scan_series(paths: Sequence[Path]) -> SeriesScan:
    """Pass 1: the distinct series and the first day of the history, reading only ids and dates.

    After the first days almost every pair is known: a sorted lookup finds the few new ones."""
    keys, known, rows, first = KeyCodes(), np.empty(0, np.uint64), 0, None
    stores: list[frozenset[str]] = []
    for path in paths:
        table = _read(path, ("date", "store_id", "item_id"), ids_as_dictionary=True)
        rows += table.num_rows
        if not table.num_rows:
            stores.append(frozenset())
            continue
        low = pc.min(table.column("date")).as_py()
        first = low if first is None else min(first, low)
        codes = keys.codes(table)
        stores.append(frozenset(keys.stores.take(pa.array(np.unique(codes >> np.uint64(32)))).to_pylist()))
        at = np.minimum(np.searchsorted(known, codes), max(known.size - 1, 0))
        new = codes[known[at] != codes] if known.size else codes
        if new.size:  # np.union1d hashes the whole set: a sort of the merged array is cheaper
            known = np.sort(np.concatenate([known, np.unique(new)]))
    return SeriesScan(keys, known, first, rows, stores)


@dataclass
class Split:
    """Pass 2's result: rows and series per shard (shards without series get no file)."""

    series: list[int]
    rows: list[int]


class _ShardWriters:
    """One ParquetWriter per shard, opened on its first rows; buffered rows flushed together."""

    def __init__(self, folder: Path, n_shards: int) -> None:
        self.folder = folder
        self.writers: dict[int, pq.ParquetWriter] = {}
        self.buffers: list[list[pa.Table]] = [[] for _ in range(n_shards)]
        self.rows = [0] * n_shards
        self.buffered = 0
        _allow_open_files(n_shards + 64)

    def add(self, table: pa.Table, shards: np.ndarray) -> None:
        order = np.argsort(shards, kind="stable")
        counts = np.bincount(shards, minlength=len(self.buffers))
        ordered, starts = table.take(pa.array(order)), np.cumsum(counts) - counts
        for shard in np.flatnonzero(counts):
            self.buffers[shard].append(ordered.slice(int(starts[shard]), int(counts[shard])))
            self.rows[shard] += int(counts[shard])
        self.buffered += table.num_rows
        if self.buffered >= BUFFER_ROWS:
            self.flush()

    def flush(self) -> None:
        for shard, parts in enumerate(self.buffers):
            if parts:
                self._writer(shard).write_table(pa.concat_tables(parts))
                parts.clear()
        self.buffered = 0

    def _writer(self, shard: int) -> pq.ParquetWriter:
        if shard not in self.writers:
            target = self.folder / shard_folder(shard) / HISTORY_FILE
            target.parent.mkdir(parents=True, exist_ok=True)
            self.writers[shard] = pq.ParquetWriter(target, HISTORY_SCHEMA, compression="zstd")
        return self.writers[shard]

    def close(self) -> None:
        self.flush()
        for writer in self.writers.values():
            writer.close()


def _allow_open_files(needed: int) -> None:
    """Up to Airflow's map length (1024) writers are open at once: raise the soft fd limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        limit = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


def split_history(paths: Sequence[Path], scan: SeriesScan, n_shards: int, folder: Path) -> Split:
    """Pass 2: every row of ``paths`` into ``folder/shard=i/history.parquet`` by ``shard_of``."""
    key_shards = scan.keys.shards(scan.codes, n_shards)
    writers = _ShardWriters(folder, n_shards)
    try:
        for path in paths:
            table = _read(path, HISTORY_SCHEMA.names)
            if table.num_rows:
                writers.add(table, key_shards[np.searchsorted(scan.codes, scan.keys.codes(table))])
    finally:
        writers.close()
    series = np.bincount(key_shards, minlength=n_shards).tolist()
    return Split(series, writers.rows)
