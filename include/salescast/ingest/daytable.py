"""One day's landing rows in a scratch folder: day-level flags, the GX suites, quarantine and the
daily sums, in bounded memory.

Batches of canonical rows (:mod:`salescast.ingest.standardize`) are appended to one Parquet
file per landing file; everything that needs the whole day (exact duplicates across files,
two records for one key, the suites, the sums) is DuckDB SQL over those files, run within
``SALESCAST_INGEST_MEMORY_MB`` and spilled to the scratch folder beyond it. Intermediate
results are Parquet files too, and quarantine and the daily rows stream out in batches. So
peak memory is that of one batch plus the limit, whatever the day's size. Results equal the
pandas code this replaced: the same reasons (the suites via :mod:`salescast.suite_sql`),
and sums in file order with the same compensated (Kahan) summation pandas'
``groupby().sum()`` uses, so every float is identical.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from salescast.config import DEFAULT_INGEST_MEMORY_MB
from salescast.ingest.parsing import LINE, MalformedRecord
from salescast.ingest.standardize import BATCH_SCHEMA, DATE_MAP_SCHEMA, LANDING_COLUMNS, SALES_DAILY_COLUMNS
from salescast.suite_sql import SqlOutcome, column_types, compile_suite, flags_sql, literal, summarise
from salescast.validation import describe, reason_with_value

THREADS = max(1, min(4, os.cpu_count() or 1))
OUT_BATCH = 65_536  # rows per batch streamed out of DuckDB
QUARANTINE_COLUMNS = ["dt", "run_id", "source_file", LINE, "kind", "reason", "raw"]
_ORDER = f"file_index, {LINE}"


def _daily_schema() -> pa.Schema:
    """The published file's schema, pandas metadata included, as the pandas code wrote it."""
    sample = pd.DataFrame(
        {"date": [date(2000, 1, 1)], "store_id": ["s"], "item_id": ["i"], "units": [1.0], "revenue": [1.0],
         "source_rows": [1]}
    ).astype({"store_id": object, "item_id": object, "source_rows": "int64"})  # fmt: skip
    return pa.Schema.from_pandas(sample[SALES_DAILY_COLUMNS], preserve_index=False)


def quarantine_frame(day: date, run_id: str, rows: dict[str, list], kind: str | list[str]) -> pd.DataFrame:
    """Quarantine rows (``source_file``, ``line_number``, ``reason``, ``raw``) with the day, run and kind."""
    frame = pd.DataFrame(
        {
            "dt": day,
            "run_id": run_id,
            "source_file": pd.Series(rows["source_file"], dtype=object),
            LINE: pd.Series(rows[LINE], dtype="Int64"),
            "kind": kind,
            "reason": pd.Series(rows["reason"], dtype=object),
            "raw": pd.Series(rows["raw"], dtype=object),
        }
    )
    return frame[QUARANTINE_COLUMNS]


DAILY_SCHEMA = _daily_schema()


@dataclass
class Checked:
    """What the day's table said: counts, the suites' outcomes, and the local files written."""

    candidates: int
    invalid: int
    excluded: int
    published_rows: int
    stores: frozenset[str]
    outcomes: list[SqlOutcome]
    daily_file: Path
    quarantine_file: Path | None
    quarantined: int


class DayTable:
    """The scratch database of one ingest run of one day (``work``: a private folder)."""

    def __init__(self, work: Path, day: date, run_id: str, memory_mb: int = DEFAULT_INGEST_MEMORY_MB) -> None:
        """``memory_mb``: DuckDB's limit (``SALESCAST_INGEST_MEMORY_MB``, 600 by default); the rest
        of the process (Python, the libraries, one batch) takes about 450 MB more."""
        import duckdb

        self.work, self.day, self.run_id = work, day, run_id
        self.con = duckdb.connect()  # in memory: what is big lives in Parquet files in ``work``
        spill = work / "spill"
        spill.mkdir(exist_ok=True)
        self.con.execute(
            f"SET memory_limit = '{int(memory_mb)}MB'; SET threads = {THREADS}; "
            f"SET temp_directory = {literal(str(spill))}; SET preserve_insertion_order = false; "
            # every join here is the day LEFT JOIN a small table: keep the small side the one hashed (the
            # optimiser, misled by an estimate, could hash the day and run out of memory)
            "SET disabled_optimizers = 'join_order,build_side_probe_side'"
        )
        self._create("dates", DATE_MAP_SCHEMA)
        self.con.execute(
            f"CREATE TABLE early (section INTEGER, file_index INTEGER, source_file VARCHAR, {LINE} BIGINT, "
            "kind VARCHAR, reason VARCHAR, raw VARCHAR)"
        )
        self._writers: dict[int, pq.ParquetWriter] = {}
        pq.write_table(BATCH_SCHEMA.empty_table(), self._landing_file(-1))  # the day's rows: landing-*.parquet

    def _landing_file(self, file_index: int) -> Path:
        """``landing-000001.parquet``...; ``landing-empty.parquet`` (-1) sorts last, as DuckDB
        estimates a glob's rows from its first file."""
        return self.work / (f"landing-{file_index + 1:06d}.parquet" if file_index >= 0 else "landing-empty.parquet")

    def _create(self, name: str, schema: pa.Schema) -> None:
        empty = schema.empty_table()  # noqa: F841 - read by DuckDB's replacement scan
        self.con.execute(f"CREATE TABLE {name} AS SELECT * FROM empty")

    def _insert(self, name: str, table: pa.Table) -> None:
        self.con.register("incoming", table)
        self.con.execute(f"INSERT INTO {name} SELECT * FROM incoming")
        self.con.unregister("incoming")

    def add_rows(self, file_index: int, rows: pa.Table) -> None:
        """Append a batch of a file's canonical rows (to that file's Parquet: LZ4, written at
        several times the speed of a DuckDB insert, and scanned as fast)."""
        if file_index not in self._writers:
            path = self._landing_file(file_index)
            self._writers[file_index] = pq.ParquetWriter(path, BATCH_SCHEMA, compression="lz4")
        self._writers[file_index].write_table(rows)

    def end_file(self, file_index: int) -> set[str]:
        """Close a file's rows; its distinct date texts (its date order is decided from all of them)."""
        writer = self._writers.pop(file_index, None)
        if writer is None:
            return set()
        writer.close()
        path = literal(str(self._landing_file(file_index)))
        sql = f"SELECT DISTINCT date_raw FROM read_parquet({path}) WHERE date_raw IS NOT NULL"
        return {row[0] for row in self.con.execute(sql).fetchall()}

    def add_dates(self, dates: pa.Table) -> None:
        self._insert("dates", dates)

    def add_malformed(self, file_index: int, name: str, malformed: list[MalformedRecord]) -> None:
        if malformed:
            self._insert("early", _early(0, file_index, name, [(m.line_number, m.reason, m.raw) for m in malformed]))

    def add_unreadable(self, file_index: int, name: str, reason: str) -> None:
        entry = [(None, f"unreadable file: {reason}", None)]
        self._insert("early", _early(1, file_index, name, entry, "unreadable_file"))

    def forget_file(self, file_index: int) -> None:
        """Drop what a file added before it turned out unreadable: it is quarantined whole."""
        writer = self._writers.pop(file_index, None)
        if writer is not None:
            writer.close()
        self._landing_file(file_index).unlink(missing_ok=True)
        for table in ("dates", "early"):
            self.con.execute(f"DELETE FROM {table} WHERE file_index = ?", [file_index])

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self.con.close()

    # ---- the day ----------------------------------------------------------------------------

    def check(self, aggregating: set[str], parameters: dict[str, Any]) -> Checked:
        """Flag, validate, quarantine and sum the day; write the daily rows and the quarantine."""
        self._views()
        landing = self._landing_suite(aggregating, parameters)
        quarantine, quarantined = self._write_quarantine(landing)
        daily_file = self._write_daily(landing)
        self.con.execute(
            f"CREATE VIEW daily AS SELECT CAST(date AS VARCHAR) AS date, * EXCLUDE (date) "
            f"FROM read_parquet({literal(str(daily_file))})"
        )
        daily = self._suite("sales_daily", "daily", parameters)
        counts = self.con.execute(
            "SELECT (SELECT count(*) FROM candidates), (SELECT count(*) FROM landing WHERE excluded IS NOT NULL), "
            "(SELECT count(*) FROM daily)"
        ).fetchall()[0]
        stores = frozenset(r[0] for r in self.con.execute("SELECT DISTINCT store_id FROM daily").fetchall())
        invalid = self.con.execute(f"SELECT count(*) FROM checked WHERE {self._any(landing)}").fetchall()[0][0]
        return Checked(counts[0], invalid, counts[1], counts[2], stores, [landing, daily], daily_file, quarantine,
                       quarantined)  # fmt: skip

    def _views(self) -> None:
        files = literal(str(self.work / "landing-*.parquet"))
        self.con.execute(f"CREATE VIEW landing AS SELECT * FROM read_parquet({files})")
        self.con.execute(
            "CREATE VIEW dated AS SELECT l.*, d.date, coalesce(d.date_ambiguous, FALSE) AS date_ambiguous "
            "FROM landing l LEFT JOIN dates d ON l.file_index = d.file_index AND l.date_raw = d.date_raw"
        )

    def _windowed(self, aggregating: set[str]) -> None:
        """``windowed``: the candidates (not excluded) with the flags that need the whole day.

        An exact duplicate is a record of the same source format and content as an earlier one,
        in any file of the day (the first stays); for one-row-per-key sources, records that share
        a date, store and item clash. Both are found in two steps so that no step sorts the whole
        day: a 64-bit hash groups the day (a few bytes per record in memory) and names the few
        candidates, then the exact comparison runs on those alone. A hash collision only adds a
        candidate, never a flag."""
        per_key = f"NOT list_contains([{', '.join(literal(s) for s in sorted(aggregating))}]::VARCHAR[], source)"
        plain = ", ".join(c for c in LANDING_COLUMNS if c not in ("duplicate_of", "conflicting_key"))
        self.con.execute(
            f"CREATE VIEW positioned AS SELECT file_index, {plain}, file_index::BIGINT * 4294967296 + {LINE} AS pos "
            "FROM dated WHERE excluded IS NULL"
        )
        self._materialise(
            "duplicates",
            f"""SELECT pos, first_value(source_file || ':' || {LINE}) OVER w AS duplicate_of, row_number() OVER w AS n
                FROM positioned
                WHERE hash(source, raw) IN (SELECT hash(source, raw) FROM positioned GROUP BY ALL HAVING count(*) > 1)
                WINDOW w AS (PARTITION BY source, raw ORDER BY pos)""",
        )
        self.con.execute(
            "CREATE VIEW deduplicated AS SELECT p.*, CASE WHEN d.n > 1 THEN d.duplicate_of END AS duplicate_of, "
            "d.n IS NULL OR d.n = 1 AS first_seen FROM positioned p LEFT JOIN duplicates d USING (pos)"
        )
        keyed = f"first_seen AND date IS NOT NULL AND store_id IS NOT NULL AND item_id IS NOT NULL AND {per_key}"
        key = "hash(date, store_id, item_id)"
        self._materialise(
            "clashes",
            f"""SELECT pos FROM (
                    SELECT pos, count(*) OVER (PARTITION BY date, store_id, item_id) AS n FROM deduplicated
                    WHERE {keyed} AND {key} IN (
                        SELECT {key} FROM deduplicated WHERE {keyed} GROUP BY ALL HAVING count(*) > 1)
                ) WHERE n > 1""",
        )
        columns = ", ".join("c.pos IS NOT NULL AS conflicting_key" if c == "conflicting_key" else f"d.{c}"
                            for c in LANDING_COLUMNS)  # fmt: skip
        self.con.execute(
            f"CREATE VIEW windowed AS SELECT d.file_index, {columns} "
            "FROM deduplicated d LEFT JOIN clashes c USING (pos)"
        )

    def _landing_suite(self, aggregating: set[str], parameters: dict[str, Any]) -> SqlOutcome:
        """Day-level flags and the landing suite's rules in one pass, materialised as ``checked``
        (every candidate with its ``rule_<i>`` flags): what follows reads that one file, no join."""
        self._windowed(aggregating)
        rules = compile_suite("landing", parameters, column_types(self.con, "windowed"))
        self._materialise("checked", f"SELECT *, {flags_sql(rules)} FROM windowed")
        self.con.execute(f"CREATE VIEW candidates AS SELECT {', '.join(LANDING_COLUMNS)} FROM checked")
        return summarise(self.con, "landing", rules, "candidates", "checked")

    def _suite(self, suite: str, relation: str, parameters: dict[str, Any]) -> SqlOutcome:
        """Run a suite's rules on ``relation``: ``<relation>_flags`` holds one boolean per row-level rule."""
        rules = compile_suite(suite, parameters, column_types(self.con, relation))
        self._materialise(f"{relation}_flags", f"SELECT {flags_sql(rules)} FROM {relation}")
        return summarise(self.con, suite, rules, relation, f"{relation}_flags")

    def _materialise(self, name: str, sql: str) -> None:
        """A query's result as a Parquet file and a view on it: written as it streams, and never
        held in DuckDB's memory (a table would be, and could not be evicted)."""
        path = literal(str(self.work / f"{name}.parquet"))
        self.con.execute(f"COPY ({sql}) TO {path} (FORMAT parquet, COMPRESSION lz4)")
        self.con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({path})")

    @staticmethod
    def _any(outcome: SqlOutcome) -> str:
        return " OR ".join(r.name for r in outcome.row_rules) or "FALSE"

    # ---- outputs -------------------------------------------------------------------------------

    def _write_quarantine(self, landing: SqlOutcome) -> tuple[Path | None, int]:
        """The day's bad records, in the order the pandas code wrote them: malformed records,
        unreadable files, excluded lines, invalid records (each in file and line order)."""
        target = self.work / "quarantine.parquet"
        schema = pa.Schema.from_pandas(quarantine_frame(self.day, self.run_id, _one_row(), "x"), preserve_index=False)
        written = 0
        with pq.ParquetWriter(target, schema, compression="zstd") as writer:
            for frame in self._quarantine_frames(landing):
                writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
                written += len(frame)
        if not written:
            target.unlink()
            return None, 0
        return target, written

    def _quarantine_frames(self, landing: SqlOutcome) -> Iterator[pd.DataFrame]:
        early = f"SELECT source_file, {LINE}, kind, reason, raw FROM early ORDER BY section, {_ORDER}"
        for rows in self._batches(early):
            yield quarantine_frame(self.day, self.run_id, rows, rows["kind"])
        excluded = f"SELECT source_file, {LINE}, excluded AS reason, raw FROM landing WHERE excluded IS NOT NULL"
        for rows in self._batches(excluded + f" ORDER BY {_ORDER}"):
            yield quarantine_frame(self.day, self.run_id, rows, "excluded")
        yield from self._invalid_frames(landing)

    def _invalid_frames(self, landing: SqlOutcome) -> Iterator[pd.DataFrame]:
        rules = landing.row_rules
        if not rules:
            return
        shows = sorted({r.config["meta"]["show"] for r in rules if r.config["meta"].get("show")})
        select = ", ".join(["source_file", LINE, "raw", *shows] + [r.name for r in rules])
        sql = f"SELECT {select} FROM checked WHERE {self._any(landing)} ORDER BY {_ORDER}"
        for rows in self._batches(sql):
            rows["reason"] = [row_reasons_text(rules, rows, i) for i in range(len(rows[LINE]))]
            yield quarantine_frame(self.day, self.run_id, rows, "invalid")

    def _batches(self, sql: str) -> Iterator[dict[str, list]]:
        reader = self.con.sql(sql).to_arrow_reader(OUT_BATCH)
        for batch in reader:
            if batch.num_rows:
                yield {name: batch.column(name).to_pylist() for name in batch.schema.names}

    def _write_daily(self, landing: SqlOutcome) -> Path:
        """The accepted records' daily rows, streamed to a local Parquet file."""
        target = self.work / "daily.parquet"
        source = f"checked c WHERE NOT ({self._any(landing)})"
        with pq.ParquetWriter(target, DAILY_SCHEMA, compression="zstd") as writer:
            writer.write_table(DAILY_SCHEMA.empty_table())
            for batch in self.con.sql(daily_sql(source)).to_arrow_reader(OUT_BATCH):
                writer.write_table(pa.Table.from_batches([batch]).cast(DAILY_SCHEMA))
        return target


def daily_sql(source: str) -> str:
    """Accepted records (``source``, aliased ``c``) summed per (date, store, item), in key order,
    as the pandas code did: ``fsum`` in file order is the same Kahan sum as pandas'
    ``groupby().sum()``, so the same floats; revenue is null when any record lacks it (unknown,
    never an understated sum)."""
    order = f"ORDER BY c.file_index, c.{LINE}"
    return f"""
        SELECT CAST(c.date AS DATE) AS date, c.store_id, c.item_id, fsum(c.units {order}) AS units,
               CASE WHEN count(c.revenue) = count(*) THEN fsum(c.revenue {order}) END AS revenue,
               count(*) AS source_rows
        FROM {source}
        GROUP BY ALL ORDER BY date, c.store_id, c.item_id
    """


def aggregate_daily(accepted: pd.DataFrame) -> pd.DataFrame:
    """:func:`daily_sql` on a frame of accepted landing rows (tests, small days)."""
    import duckdb

    rows = accepted.assign(file_index=accepted.get("file_index", 0))  # noqa: F841 - read by DuckDB
    table = duckdb.connect().sql(daily_sql("rows c")).to_arrow_table().cast(DAILY_SCHEMA)
    return table.to_pandas()


def _early(section: int, file_index: int, name: str, entries: list[tuple], kind: str = "invalid") -> pa.Table:
    n = len(entries)
    return pa.table(
        {
            "section": pa.array([section] * n, pa.int32()),
            "file_index": pa.array([file_index] * n, pa.int32()),
            "source_file": pa.array([name] * n, pa.string()),
            LINE: pa.array([e[0] for e in entries], pa.int64()),
            "kind": pa.array([kind] * n, pa.string()),
            "reason": pa.array([e[1] for e in entries], pa.string()),
            "raw": pa.array([e[2] for e in entries], pa.string()),
        }
    )


def _one_row() -> dict[str, list]:
    return {"source_file": ["f"], LINE: [1], "reason": ["r"], "raw": ["{}"]}


def row_reasons_text(rules: list, rows: dict[str, list], i: int) -> str:
    """The reasons of one row, in the suite's order, as GX worded them."""
    parts = []
    for rule in rules:
        if rows[rule.name][i]:
            show = rule.config["meta"].get("show")
            parts.append(reason_with_value(rule.config, rows[show][i]) if show else describe(rule.config))
    return "; ".join(parts)
