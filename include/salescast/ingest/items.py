"""One as-of day of the item master: archive, read, validate, quarantine, publish.

Sources drop files into ``landing/items/D/``, D being the day the facts were known (their
*as-of* day): item master rows (``item_id, category, subcategory, brand, launch_date,
status``, optionally ``analog_item_id``) and, in files whose name starts with ``listings``,
planned store listings (``store_id, item_id, list_date``); :mod:`salescast.item_master` owns
those names. Files are read with the sales files' rules (CSV, CSV.gz or Parquet; UTF-8,
UTF-16 or Windows-1252; any of , ; tab |) and checked by the ``items`` and ``item_listings``
Great Expectations suites. Each bad record goes to ``quarantine/items/dt=D/rows.parquet``
with its reason: a missing or refused id, a status other than active/discontinued, a
launch_date that is not one day, an analog that is the item itself, two different rows for
one item (or one store and item) in the delivery, a malformed record; the values of a column
the contract does not have are quarantined cell by cell while their rows publish. Nothing is
dropped: an exact repeat of a record is the same fact once, and counted (``repeats``).

The good rows are published to ``curated/items/asof=D/`` and ``curated/item_listings/asof=D/``
in one commit (:func:`salescast.publish.commit`): a reader sees both of a delivery or
neither. The forecast for a day reads the latest row per item and per listing on or before
it (:mod:`salescast.forecast.items_asof`).
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from salescast import ids
from salescast.ingest.daytable import QUARANTINE_COLUMNS
from salescast.ingest.parsing import LINE, UnreadableFile, read_rows
from salescast.ingest.pipeline import ArchivedFile, archive_raw, replace_quarantine
from salescast.item_master import (
    FEED,
    ITEM_COLUMNS,
    ITEMS_KIND,
    LISTING_COLUMNS,
    LISTINGS_KIND,
    LISTINGS_PREFIX,
    STATUSES,
    columns_of,
    file_kind,
)
from salescast.lake import DATA_FILE, ITEM_LISTINGS, ITEMS, Lake, parquet_bytes
from salescast.publish import Staged, commit, recover
from salescast.validation import SuiteOutcome, validate

log = logging.getLogger(__name__)

ITEM_SUITE = "items"
LISTING_SUITE = "item_listings"
JOURNAL = "_COMMIT.json"
_DAY = re.compile(r"\A(\d{4}-\d{2}-\d{2})(?:[ T]00:00(?::00)?)?\Z")  # a Parquet timestamp at midnight is a day


class ItemsRejected(Exception):
    """The delivery cannot be published; nothing was (the reasons are in the message)."""


@dataclass
class ItemsResult:
    day: str
    files: list[str] = field(default_factory=list)
    records: int = 0  # item and listing records, unknown-column cells, malformed records, unreadable files
    published_items: int = 0
    published_listings: int = 0
    quarantined: int = 0
    repeats: int = 0  # exact repeats of a record in the delivery, published once
    statuses: dict[str, int] = field(default_factory=dict)  # published items per status
    quarantine: str | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Delivery:
    """The records of a delivery's files as text, by kind, and what could not be read as one."""

    items: pd.DataFrame
    listings: pd.DataFrame
    bad: pd.DataFrame


def ingest_items_day(
    lake: Lake, day: date, run_id: str, max_bad_fraction: float, names: list[str] | None = None
) -> ItemsResult:
    """Archive, read, validate and publish the item master delivered as of ``day``. Raises
    :class:`ItemsRejected` (after writing the quarantine) when a file is unreadable or more
    than ``max_bad_fraction`` of the records are bad; a re-run replaces the day's partitions."""
    journal = lake.staging_dir(ITEMS, day) / JOURNAL
    recover(lake, journal)  # an earlier attempt stopped mid-commit: finish or roll it back first
    archived = archive_raw(lake, day, names, feed=FEED)
    result = ItemsResult(day.isoformat(), files=[a.raw for a in archived])
    with tempfile.TemporaryDirectory(prefix="salescast-items-") as work:
        delivery = read_delivery(lake, day, archived, Path(work), result)
        items, bad_items = validate_items(delivery.items, result)
        listings, bad_listings = validate_listings(delivery.listings, result)
        bad = pd.concat([delivery.bad, bad_items, bad_listings], ignore_index=True)
        local = None
        if not bad.empty:
            local = Path(work) / "quarantine.parquet"
            bad = bad.assign(dt=day.isoformat(), run_id=run_id, **{LINE: bad[LINE].astype("int64")})
            local.write_bytes(parquet_bytes(bad[QUARANTINE_COLUMNS]))
        result.quarantine = replace_quarantine(lake, day, run_id, local, feed=FEED)
    result.quarantined = len(bad)
    if result.records and len(bad) / result.records > max_bad_fraction:
        result.problems.append(
            f"{len(bad)} of {result.records} item records bad ({len(bad) / result.records:.1%}), above the "
            f"{max_bad_fraction:.1%} allowed by SALESCAST_MAX_BAD_ROW_FRACTION"
        )
    if result.problems:
        raise ItemsRejected(
            f"items as of {day} rejected, nothing published: {'; '.join(result.problems)}. "
            f"Quarantine: {result.quarantine}. Fix the files in {lake.landing_dir(day, FEED)}/ and re-run the day"
        )
    publish_delivery(lake, day, run_id, items, listings, result)
    for warning in result.warnings:
        log.warning("items %s: %s", day, warning)
    return result


def publish_delivery(
    lake: Lake, day: date, run_id: str, items: pd.DataFrame, listings: pd.DataFrame, result: ItemsResult
) -> None:
    """Both partitions of ``day`` in one commit (either may be empty: a delivery of listings only)."""
    result.published_items, result.published_listings = len(items), len(listings)
    result.statuses = {str(k): int(v) for k, v in items["status"].value_counts().sort_index().items()}
    summary = {k: v for k, v in result.to_dict().items() if k not in ("day", "problems")}
    files = []
    for dataset, frame in ((ITEMS, items), (ITEM_LISTINGS, listings)):
        staged = lake.staging_dir(dataset, day) / DATA_FILE
        lake.write_bytes(staged, _parquet(frame.assign(asof=day).reset_index(drop=True)))
        manifest = {"dataset": dataset.folder.rpartition("/")[2], "asof": day.isoformat(), "run_id": run_id,
                    "rows": len(frame)} | summary  # fmt: skip
        files.append(Staged(str(staged), str(lake.partition_dir(dataset, day) / DATA_FILE), manifest))
    commit(lake, lake.staging_dir(ITEMS, day) / JOURNAL, run_id, files)
    for dataset in (ITEMS, ITEM_LISTINGS):
        lake.remove_tree(lake.staging_dir(dataset, day))


def _parquet(frame: pd.DataFrame) -> bytes:
    """A curated table as Parquet: days as date32, everything else as strings even when empty
    or all null, so every partition of a dataset has one schema (an empty one included)."""
    import pyarrow as pa

    dates = ("asof", "launch_date", "list_date")
    fields = [pa.field(name, pa.date32() if name in dates else pa.string()) for name in frame.columns]
    frame = frame.assign(**{f.name: pd.to_datetime(frame[f.name]).dt.date for f in fields if f.type == pa.date32()})
    return parquet_bytes(frame, pa.schema(fields))


# ---- reading ----------------------------------------------------------------------------------


def read_delivery(lake: Lake, day: date, archived: list[ArchivedFile], work: Path, result: ItemsResult) -> Delivery:
    """The archived files' records by kind (text, as written), and what is bad before any
    rule runs (unreadable files, malformed records, cells of unknown columns); counts into ``result``."""
    copies = lake.local_copies([lake.raw_dir(day, FEED) / a.raw for a in archived], work / "raw")
    kinds: dict[str, list[pd.DataFrame]] = {ITEMS_KIND: [], LISTINGS_KIND: []}
    bad = []
    for item, local in zip(archived, copies, strict=True):
        kind = file_kind(item.raw)
        try:
            records, problems = read_records(item.raw, local.read_bytes())
        except UnreadableFile as error:
            result.problems.append(f"unreadable file {item.raw}: {error.reason}")
            bad.append(_bad(item.raw, [0], "file", [error.reason], [""]))
            result.records += 1
            continue
        if records.empty and problems.empty:
            result.warnings.append(f"{item.raw}: no {kind} records (header only)")
        kinds[kind].append(records)
        bad.append(problems)
        result.records += len(records) + len(problems)
    return Delivery(
        _records(kinds[ITEMS_KIND], ITEM_COLUMNS), _records(kinds[LISTINGS_KIND], LISTING_COLUMNS), _frames(bad)
    )


def read_records(name: str, data: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One file's records as text in the contract's columns (None where an optional column is
    absent), and its bad entries: malformed records and each non-empty cell of a column the
    contract does not have. Raises UnreadableFile when the header lacks a required column."""
    kind = file_kind(name)
    table, rows, malformed = read_rows(name, data)
    header = [h for h in table.header if h != LINE]
    lowered = {h.strip().lower(): h for h in header}
    if len(lowered) != len(header):
        raise UnreadableFile(
            name, f"two columns with one name in header {header} (names are compared case-insensitively)"
        )
    required, optional = columns_of(kind)
    missing = [c for c in required if c not in lowered]
    if missing:
        raise UnreadableFile(name, f"no {', '.join(missing)} column: {_expected(kind)}")
    records = pd.DataFrame({"source_file": name, LINE: rows[LINE]})
    for column in (*required, *optional):
        records[column] = rows[lowered[column]] if column in lowered else None
    unknown = [h for h in header if h.strip().lower() not in (*required, *optional)]
    key = "item_id" if kind != LISTINGS_KIND else "store_id"
    cells = [_unknown_cells(name, rows, column, kind, records, key) for column in unknown]
    bad = _bad(name, [m.line_number for m in malformed], "record", [m.reason for m in malformed],
               [m.raw for m in malformed])  # fmt: skip
    return records, _frames([*cells, bad])


def _expected(kind: str) -> str:
    if kind == LISTINGS_KIND:
        return f"a listings file (its name starts with {LISTINGS_PREFIX!r}) has {', '.join(LISTING_COLUMNS)}"
    return (f"an item master file has {', '.join(columns_of(kind)[0])} (and optionally analog_item_id); "
            f"planned store listings go in a file whose name starts with {LISTINGS_PREFIX!r}")  # fmt: skip


def _unknown_cells(
    name: str, rows: pd.DataFrame, column: str, kind: str, records: pd.DataFrame, key: str
) -> pd.DataFrame:
    text = rows[column]
    given = (text.notna() & (text.astype(str).str.strip() != "")).to_numpy()
    known = ", ".join((*columns_of(kind)[0], *columns_of(kind)[1]))
    reason = (f"column {column.strip()!r} is not in the {kind} contract ({known}): its values are not published "
              "(the rest of the row is)")  # fmt: skip
    raw = column.strip() + "=" + text[given].astype(str) + " for item_id=" + records.loc[given, "item_id"].astype(str)
    if key == "store_id":
        raw += ", store_id=" + records.loc[given, "store_id"].astype(str)
    return _bad(name, rows.loc[given, LINE].tolist(), "column", [reason] * int(given.sum()), raw.tolist())


def _bad(name: str, lines: list[int], kind: str, reasons: list[str], raw: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"source_file": name, LINE: pd.Series(lines, dtype="int64"), "kind": kind,
                         "reason": pd.Series(reasons, dtype=object), "raw": pd.Series(raw, dtype=object)})  # fmt: skip


def _frames(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else _bad("", [], "", [], []).iloc[0:0]


def _records(parts: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    parts = [p for p in parts if not p.empty]
    empty = pd.DataFrame(columns=["source_file", LINE, *columns], dtype=object)
    return pd.concat(parts, ignore_index=True) if parts else empty


# ---- the suites -------------------------------------------------------------------------------


def _label(values: pd.Series) -> pd.Series:
    """An id or label as ingest stores it (salescast.ids.normalise), None when empty."""
    return values.map(lambda v: ids.normalise(v) or None if isinstance(v, str) else None).astype(object)


def _day(values: pd.Series) -> pd.Series:
    """``YYYY-MM-DD`` (a real day) or None."""

    def one(value: object) -> str | None:
        match = _DAY.match(value.strip()) if isinstance(value, str) else None
        try:
            return date.fromisoformat(match.group(1)).isoformat() if match else None
        except ValueError:
            return None

    return values.map(one).astype(object)


def _merge_repeats(view: pd.DataFrame, records: pd.DataFrame, result: ItemsResult) -> tuple[pd.DataFrame, ...]:
    """Exact repeats of a record (one file sent twice, or ``Active`` and ``active``) are one
    record, counted in ``result``; two different rows for one key stay two, and the suite
    refuses both. Text that does not parse is compared as written, so two different bad
    values are two quarantined records."""
    key = view.drop(columns=[c for c in view.columns if c.startswith("raw_")]).astype(str)
    for column in (c for c in view.columns if c.startswith("raw_")):
        parsed = column.removeprefix("raw_")
        key[column] = view[column].astype(str).where(view[parsed].isna(), "")
    repeat = key.duplicated().to_numpy()
    result.repeats += int(repeat.sum())
    return view[~repeat].reset_index(drop=True), records[~repeat].reset_index(drop=True)


def _checked(
    view: pd.DataFrame, records: pd.DataFrame, suite: str, parameters: dict[str, Any], columns: tuple[str, ...]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(good rows of ``view`` in ``columns`` with their source file, bad ``records`` with the suite's reasons)."""
    if view.empty:  # nothing of this kind delivered: no suite to run
        good = pd.DataFrame(columns=[*columns, "source_file"], dtype=object)
        return good, _frames([])
    outcome = validate(view, suite, parameters)
    bad = _refused(records, outcome, view.index, columns)
    keep = ~view.index.isin(bad.index)
    good = view.loc[keep, list(columns)].assign(source_file=records.loc[keep, "source_file"].to_numpy())
    return good.reset_index(drop=True), bad.reset_index(drop=True)


def _refused(records: pd.DataFrame, outcome: SuiteOutcome, index: pd.Index, columns: tuple[str, ...]) -> pd.DataFrame:
    if outcome.table_failures:
        raise ItemsRejected(f"{outcome.suite} suite failed on the whole table: " + "; ".join(outcome.table_failures))
    reasons = outcome.reasons_for(index)
    bad = reasons.notna().to_numpy()
    raw = [json.dumps({c: r[c] for c in columns}, ensure_ascii=False) for _, r in records.loc[bad].iterrows()]
    return records.loc[bad, ["source_file", LINE]].assign(kind="invalid", reason=reasons[bad].to_numpy(), raw=raw)


def validate_items(records: pd.DataFrame, result: ItemsResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``items`` suite on the item records: (good rows typed for the lake, bad records with reasons)."""
    status = records["status"].map(lambda v: v.strip().lower() or None if isinstance(v, str) else None)
    view = pd.DataFrame(
        {
            "item_id": _label(records["item_id"]),
            "category": _label(records["category"]),
            "subcategory": _label(records["subcategory"]),
            "brand": _label(records["brand"]),
            "launch_date": _day(records["launch_date"]),
            "raw_launch_date": records["launch_date"].astype(object),
            "status": status.astype(object),
            "raw_status": records["status"].astype(object),
            "analog_item_id": _label(records["analog_item_id"]),
        }
    )
    view["analog_is_self"] = (view["analog_item_id"] == view["item_id"]) & view["item_id"].notna()
    view, records = _merge_repeats(view, records, result)
    parameters = {"statuses": list(STATUSES), "refused_id_characters": ids.REFUSED_PATTERN}
    return _checked(view, records, ITEM_SUITE, parameters, ITEM_COLUMNS)


def validate_listings(records: pd.DataFrame, result: ItemsResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``item_listings`` suite on the listing records: (good rows, bad records with reasons)."""
    view = pd.DataFrame(
        {
            "store_id": _label(records["store_id"]),
            "item_id": _label(records["item_id"]),
            "list_date": _day(records["list_date"]),
            "raw_list_date": records["list_date"].astype(object),
        }
    )
    view, records = _merge_repeats(view, records, result)
    parameters = {"refused_id_characters": ids.REFUSED_PATTERN}
    return _checked(view, records, LISTING_SUITE, parameters, LISTING_COLUMNS)
