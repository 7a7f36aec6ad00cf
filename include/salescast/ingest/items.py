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

import logging
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from salescast import ids
from salescast.ingest.parsing import LINE
from salescast.ingest.pipeline import ArchivedFile, archive_raw
from salescast.ingest.reference import (
    FileContract,
    check,
    concat_bad,
    concat_records,
    days,
    judge,
    labels,
    read_files,
    typed_parquet,
    write_quarantine,
)
from salescast.item_master import (
    FEED,
    ITEM_COLUMNS,
    ITEM_OPTIONAL,
    ITEM_REQUIRED,
    ITEMS_KIND,
    LISTING_COLUMNS,
    LISTINGS_KIND,
    LISTINGS_PREFIX,
    STATUSES,
    file_kind,
)
from salescast.lake import DATA_FILE, ITEM_LISTINGS, ITEMS, Lake
from salescast.publish import Staged, commit, recover

log = logging.getLogger(__name__)

ITEM_SUITE = "items"
LISTING_SUITE = "item_listings"
JOURNAL = "_COMMIT.json"
ITEM_FILE = FileContract(
    ITEMS_KIND, ITEM_REQUIRED, ITEM_OPTIONAL, key=("item_id",),
    expected=(f"an item master file has {', '.join(ITEM_REQUIRED)} (and optionally analog_item_id); "
              f"planned store listings go in a file whose name starts with {LISTINGS_PREFIX!r}"),
)  # fmt: skip
LISTING_FILE = FileContract(
    LISTINGS_KIND, LISTING_COLUMNS, key=("item_id", "store_id"),
    expected=f"a listings file (its name starts with {LISTINGS_PREFIX!r}) has {', '.join(LISTING_COLUMNS)}",
)  # fmt: skip


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
        result.quarantine = write_quarantine(lake, day, run_id, bad, Path(work), FEED)
    judge(lake, day, FEED, result, len(bad), (max_bad_fraction, "item records"), ItemsRejected)
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
        curated = frame.drop(columns=LINE).assign(asof=day).reset_index(drop=True)
        lake.write_bytes(staged, typed_parquet(curated, dates=("asof", "launch_date", "list_date")))
        manifest = {"dataset": dataset.folder.rpartition("/")[2], "asof": day.isoformat(), "run_id": run_id,
                    "rows": len(frame)} | summary  # fmt: skip
        files.append(Staged(str(staged), str(lake.partition_dir(dataset, day) / DATA_FILE), manifest))
    commit(lake, lake.staging_dir(ITEMS, day) / JOURNAL, run_id, files)
    for dataset in (ITEMS, ITEM_LISTINGS):
        lake.remove_tree(lake.staging_dir(dataset, day))


# ---- reading ----------------------------------------------------------------------------------


def read_delivery(lake: Lake, day: date, archived: list[ArchivedFile], work: Path, result: ItemsResult) -> Delivery:
    """The archived files' records by kind (text, as written), and what is bad before any
    rule runs (unreadable files, malformed records, cells of unknown columns); counts into ``result``."""
    read = read_files(lake, day, archived, work, FEED, contract_of)
    result.records += read.count
    result.problems += read.problems
    result.warnings += read.warnings
    items = concat_records(read.records.get(ITEMS_KIND, []), ITEM_COLUMNS)
    listings = concat_records(read.records.get(LISTINGS_KIND, []), LISTING_COLUMNS)
    return Delivery(items, listings, concat_bad(read.bad))


def contract_of(name: str) -> FileContract:
    """The contract of a delivery's file, by its name (:func:`salescast.item_master.file_kind`)."""
    return LISTING_FILE if file_kind(name) == LISTINGS_KIND else ITEM_FILE


# ---- the suites -------------------------------------------------------------------------------


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


def validate_items(records: pd.DataFrame, result: ItemsResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``items`` suite on the item records: (good rows typed for the lake, bad records with reasons)."""
    status = records["status"].map(lambda v: v.strip().lower() or None if isinstance(v, str) else None)
    view = pd.DataFrame(
        {
            "item_id": labels(records["item_id"]),
            "category": labels(records["category"]),
            "subcategory": labels(records["subcategory"]),
            "brand": labels(records["brand"]),
            "launch_date": days(records["launch_date"]),
            "raw_launch_date": records["launch_date"].astype(object),
            "status": status.astype(object),
            "raw_status": records["status"].astype(object),
            "analog_item_id": labels(records["analog_item_id"]),
        }
    )
    view["analog_is_self"] = (view["analog_item_id"] == view["item_id"]) & view["item_id"].notna()
    view, records = _merge_repeats(view, records, result)
    parameters = {"statuses": list(STATUSES), "refused_id_characters": ids.REFUSED_PATTERN}
    return check(view, records, ITEM_SUITE, parameters, ITEM_COLUMNS, ItemsRejected)


def validate_listings(records: pd.DataFrame, result: ItemsResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``item_listings`` suite on the listing records: (good rows, bad records with reasons)."""
    view = pd.DataFrame(
        {
            "store_id": labels(records["store_id"]),
            "item_id": labels(records["item_id"]),
            "list_date": days(records["list_date"]),
            "raw_list_date": records["list_date"].astype(object),
        }
    )
    view, records = _merge_repeats(view, records, result)
    parameters = {"refused_id_characters": ids.REFUSED_PATTERN}
    return check(view, records, LISTING_SUITE, parameters, LISTING_COLUMNS, ItemsRejected)
