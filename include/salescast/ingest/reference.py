"""What the as-of reference feeds (the item master, planner overrides) share, so each feed's
module holds only its own rules: reading a delivery's files as text records of a contract,
the quarantine frames, ids and days as ingest stores them, running a feed's GX suite, and
writing the day's quarantine and curated Parquet.

A reference feed is small (what planners type), so its files are read whole, in memory,
with the sales files' rules (:func:`salescast.ingest.parsing.read_rows`). Every value stays
text until its suite has judged it, so a bad value is quarantined as it was written.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from salescast import ids
from salescast.ingest.daytable import QUARANTINE_COLUMNS
from salescast.ingest.parsing import LINE, UnreadableFile, read_rows
from salescast.ingest.pipeline import ArchivedFile, replace_quarantine
from salescast.lake import Lake, parquet_bytes
from salescast.validation import SuiteOutcome, validate

_DAY = re.compile(r"\A(\d{4}-\d{2}-\d{2})(?:[ T]00:00(?::00)?)?\Z")  # a Parquet timestamp at midnight is a day


@dataclass(frozen=True)
class FileContract:
    """One kind of file of a feed: its columns, the ids an unknown cell's quarantine entry names
    (so the row can be found) and what a header without the required columns is told."""

    kind: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    key: tuple[str, ...] = ()
    expected: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.required, *self.optional)


@dataclass
class ReadFiles:
    """A delivery's files read as text records, by kind, and what could not be read as one."""

    records: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    bad: list[pd.DataFrame] = field(default_factory=list)
    count: int = 0  # records, unknown-column cells, malformed records, unreadable files
    problems: list[str] = field(default_factory=list)  # unreadable files: the delivery is rejected
    warnings: list[str] = field(default_factory=list)


def read_files(
    lake: Lake,
    day: date,
    archived: list[ArchivedFile],
    work: Path,
    feed: str,
    contract_of: Callable[[str], FileContract],
) -> ReadFiles:
    """The archived files of ``day`` (local copies in ``work``) read by the contract of each
    file's name: records by kind, and the bad entries found before any rule runs."""
    copies = lake.local_copies([lake.raw_dir(day, feed) / a.raw for a in archived], work / "raw")
    read = ReadFiles()
    for item, local in zip(archived, copies, strict=True):
        contract = contract_of(item.raw)
        try:
            records, problems = read_records(item.raw, local.read_bytes(), contract)
        except UnreadableFile as error:
            read.problems.append(f"unreadable file {item.raw}: {error.reason}")
            read.bad.append(bad_records(item.raw, [0], "file", [error.reason], [""]))
            read.count += 1
            continue
        if records.empty and problems.empty:
            read.warnings.append(f"{item.raw}: no {contract.kind} records (header only)")
        read.records.setdefault(contract.kind, []).append(records)
        read.bad.append(problems)
        read.count += len(records) + len(problems)
    return read


def read_records(name: str, data: bytes, contract: FileContract) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One file's records as text in the contract's columns (None where an optional column is
    absent), and its bad entries: malformed records and each non-empty cell of a column the
    contract does not have. Raises UnreadableFile when the header lacks a required column."""
    table, rows, malformed = read_rows(name, data)
    header = [h for h in table.header if h != LINE]
    lowered = {h.strip().lower(): h for h in header}
    if len(lowered) != len(header):
        raise UnreadableFile(
            name, f"two columns with one name in header {header} (names are compared case-insensitively)"
        )
    missing = [c for c in contract.required if c not in lowered]
    if missing:
        raise UnreadableFile(name, f"no {', '.join(missing)} column: {contract.expected}")
    records = pd.DataFrame({"source_file": name, LINE: rows[LINE]})
    for column in contract.columns:
        records[column] = rows[lowered[column]] if column in lowered else None
    unknown = [h for h in header if h.strip().lower() not in contract.columns]
    cells = [_unknown_cells(name, rows, column, contract, records) for column in unknown]
    bad = bad_records(name, [m.line_number for m in malformed], "record", [m.reason for m in malformed],
                      [m.raw for m in malformed])  # fmt: skip
    return records, concat_bad([*cells, bad])


def _unknown_cells(
    name: str, rows: pd.DataFrame, column: str, contract: FileContract, records: pd.DataFrame
) -> pd.DataFrame:
    """Each non-empty cell of a column the contract does not have: ``colour=red for item_id=I1``."""
    text = rows[column]
    given = (text.notna() & (text.astype(str).str.strip() != "")).to_numpy()
    reason = (f"column {column.strip()!r} is not in the {contract.kind} contract ({', '.join(contract.columns)}): "
              "its values are not published (the rest of the row is)")  # fmt: skip
    raw = column.strip() + "=" + text[given].astype(str)
    for n, key in enumerate(contract.key):
        raw += (" for " if n == 0 else ", ") + f"{key}=" + records.loc[given, key].astype(str)
    return bad_records(name, rows.loc[given, LINE].tolist(), "column", [reason] * int(given.sum()), raw.tolist())


def bad_records(name: str, lines: list[int], kind: str, reasons: list[str], raw: list[str]) -> pd.DataFrame:
    """Quarantine entries of one file (``kind``: file, record, column or invalid)."""
    return pd.DataFrame({"source_file": name, LINE: pd.Series(lines, dtype="int64"), "kind": kind,
                         "reason": pd.Series(reasons, dtype=object), "raw": pd.Series(raw, dtype=object)})  # fmt: skip


def concat_bad(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Quarantine entries in one frame (an empty one with the columns when there are none)."""
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else bad_records("", [], "", [], []).iloc[0:0]


def concat_records(parts: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    """Text records of one kind from several files (an empty frame with the columns when none)."""
    parts = [p for p in parts if not p.empty]
    empty = pd.DataFrame(columns=["source_file", LINE, *columns], dtype=object)
    return pd.concat(parts, ignore_index=True) if parts else empty


# ---- values as ingest stores them ---------------------------------------------------------------


def labels(values: pd.Series) -> pd.Series:
    """An id or label as ingest stores it (salescast.ids.normalise), None when empty."""
    return values.map(lambda v: ids.normalise(v) or None if isinstance(v, str) else None).astype(object)


def days(values: pd.Series) -> pd.Series:
    """``YYYY-MM-DD`` (a real day) or None."""

    def one(value: object) -> str | None:
        match = _DAY.match(value.strip()) if isinstance(value, str) else None
        try:
            return date.fromisoformat(match.group(1)).isoformat() if match else None
        except ValueError:
            return None

    return values.map(one).astype(object)


def numbers(values: pd.Series) -> pd.Series:
    """A finite number as ``pandas.to_numeric`` reads it (the sales and drivers feeds' parser:
    ``12``, ``-3.5``, ``1e3``), else None (``ten``, ``1,5``, ``nan``, empty)."""
    text = values.map(lambda v: v.strip() if isinstance(v, str) else None)
    parsed = pd.to_numeric(text, errors="coerce").astype("float64")
    return parsed.astype(object).where(parsed.abs() < math.inf, None)


def texts(values: pd.Series) -> pd.Series:
    """Free text without surrounding whitespace, None when empty."""
    return values.map(lambda v: v.strip() or None if isinstance(v, str) else None).astype(object)


# ---- the suite ----------------------------------------------------------------------------------


def check(
    view: pd.DataFrame,
    records: pd.DataFrame,
    suite: str,
    parameters: dict[str, Any],
    columns: tuple[str, ...],
    rejected: type[Exception],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(good rows of ``view`` in ``columns`` with their source file and line, bad ``records``
    with the suite's reasons). A table-level failure (a salescast bug) raises ``rejected``."""
    if view.empty:  # nothing of this kind delivered: no suite to run
        good = pd.DataFrame(columns=[*columns, "source_file", LINE], dtype=object)
        return good, concat_bad([])
    outcome = validate(view, suite, parameters)
    bad = _refused(records, outcome, view.index, columns, rejected)
    keep = ~view.index.isin(bad.index)
    good = view.loc[keep, list(columns)].assign(
        source_file=records.loc[keep, "source_file"].to_numpy(), **{LINE: records.loc[keep, LINE].to_numpy()}
    )
    return good.reset_index(drop=True), bad.reset_index(drop=True)


def _refused(
    records: pd.DataFrame, outcome: SuiteOutcome, index: pd.Index, columns: tuple[str, ...], rejected: type[Exception]
) -> pd.DataFrame:
    if outcome.table_failures:
        raise rejected(f"{outcome.suite} suite failed on the whole table: " + "; ".join(outcome.table_failures))
    reasons = outcome.reasons_for(index)
    bad = reasons.notna().to_numpy()
    raw = [json.dumps({c: r[c] for c in columns}, ensure_ascii=False) for _, r in records.loc[bad].iterrows()]
    return records.loc[bad, ["source_file", LINE]].assign(kind="invalid", reason=reasons[bad].to_numpy(), raw=raw)


# ---- what a delivery writes ---------------------------------------------------------------------


def write_quarantine(lake: Lake, day: date, run_id: str, bad: pd.DataFrame, work: Path, feed: str) -> str | None:
    """Make ``quarantine/<feed>/dt=D/rows.parquet`` hold this run's bad entries (none: remove it)."""
    local = None
    if not bad.empty:
        local = work / "quarantine.parquet"
        bad = bad.assign(dt=day.isoformat(), run_id=run_id, **{LINE: bad[LINE].astype("int64")})
        local.write_bytes(parquet_bytes(bad[QUARANTINE_COLUMNS]))
    return replace_quarantine(lake, day, run_id, local, feed=feed)


class Judged(Protocol):
    """What a feed's result records about its delivery's bad entries."""

    records: int
    quarantined: int
    quarantine: str | None
    problems: list[str]


def judge(
    lake: Lake,
    day: date,
    feed: str,
    result: Judged,
    bad: int,
    limits: tuple[float, str],
    rejected: type[Exception],
) -> None:
    """Count the quarantine into ``result``, then raise ``rejected`` (nothing is published) when a
    file was unreadable or more than ``limits[0]`` of the records (``limits[1]``: what they are)
    are bad: the reasons, the quarantine and what to do are in its message."""
    max_bad_fraction, what = limits
    result.quarantined = bad
    if result.records and bad / result.records > max_bad_fraction:
        result.problems.append(
            f"{bad} of {result.records} {what} bad ({bad / result.records:.1%}), above the "
            f"{max_bad_fraction:.1%} allowed by SALESCAST_MAX_BAD_ROW_FRACTION"
        )
    if result.problems:
        raise rejected(
            f"{feed} as of {day} rejected, nothing published: {'; '.join(result.problems)}. "
            f"Quarantine: {result.quarantine}. Fix the files in {lake.landing_dir(day, feed)}/ and re-run the day"
        )


def typed_parquet(frame: pd.DataFrame, dates: tuple[str, ...], floats: tuple[str, ...] = ()) -> bytes:
    """A curated table as Parquet: ``dates`` as date32, ``floats`` as float64, everything else
    as strings even when empty or all null, so every partition of a dataset has one schema."""
    import pyarrow as pa

    def kind(name: str) -> pa.DataType:
        return pa.date32() if name in dates else pa.float64() if name in floats else pa.string()

    fields = [pa.field(name, kind(name)) for name in frame.columns]
    typed = {name: pd.to_datetime(frame[name]).dt.date for name in frame.columns if name in dates}
    typed |= {name: pd.to_numeric(frame[name]).astype("float64") for name in frame.columns if name in floats}
    return parquet_bytes(frame.assign(**typed), pa.schema(fields))
