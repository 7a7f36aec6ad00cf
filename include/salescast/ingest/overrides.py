"""One as-of day of planner overrides: archive, read, validate, quarantine, publish.

Planners drop files into ``landing/overrides/D/``, D being the day they entered the
overrides (their *as-of* day): ``store_id, item_id, date_from, date_to, kind, value, reason,
author`` and optionally ``expires`` (:mod:`salescast.overrides` owns the names). Files are
read with the sales files' rules (CSV, CSV.gz or Parquet; UTF-8, UTF-16 or Windows-1252; any
of , ; tab |) and checked by the ``overrides`` Great Expectations suite. Each bad record goes
to ``quarantine/overrides/dt=D/rows.parquet`` with its reason: a missing or refused id, a day
that is not one, date_from after date_to, an unknown kind, a value that is not a number, a
pct below -100 or a negative set, an empty reason or author, an expires before date_from,
a malformed record, and two records of the delivery for one store and item whose days
overlap (all of them, even one refused for another reason: which one the planner meant is
not ours to guess). The values of a column the contract does not have are quarantined cell
by cell while their rows publish, as the item master's. Nothing is dropped.

Unlike the item master, an exact repeat of a record is not merged: for ``add`` or ``pct`` a
repeat may mean "twice" as well as "once", so it overlaps, and both are refused.

The good rows are published to ``curated/overrides/asof=D/`` in one commit, each with its
``override_id`` (``D/<archived file>:<line>``), so an applied override is traceable to the
row a planner wrote. A run for a day reads every override delivered on or before it that has
not expired (:mod:`salescast.forecast.overrides_asof`); which one wins where several apply is
the applying code's rule.
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
from salescast.ingest.pipeline import archive_raw
from salescast.ingest.reference import (
    FileContract,
    check,
    concat_bad,
    concat_records,
    days,
    judge,
    labels,
    numbers,
    read_files,
    texts,
    typed_parquet,
    write_quarantine,
)
from salescast.lake import DATA_FILE, OVERRIDES, Lake
from salescast.overrides import (
    COLUMNS,
    DATES,
    FEED,
    FLOATS,
    KINDS,
    OPTIONAL,
    PCT,
    PCT_FLOOR,
    PUBLISHED,
    REQUIRED,
    SET,
    override_id,
)
from salescast.publish import Staged, commit, recover

log = logging.getLogger(__name__)

SUITE = "overrides"
JOURNAL = "_COMMIT.json"
OVERRIDE_FILE = FileContract(
    FEED, REQUIRED, OPTIONAL, key=("store_id", "item_id"),
    expected=f"an overrides file has {', '.join(REQUIRED)} (and optionally {', '.join(OPTIONAL)})",
)  # fmt: skip


class OverridesRejected(Exception):
    """The delivery cannot be published; nothing was (the reasons are in the message)."""


@dataclass
class OverridesResult:
    day: str
    files: list[str] = field(default_factory=list)
    records: int = 0  # override records, unknown-column cells, malformed records, unreadable files
    published: int = 0
    quarantined: int = 0
    kinds: dict[str, int] = field(default_factory=dict)  # published overrides per kind
    quarantine: str | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ingest_overrides_day(
    lake: Lake, day: date, run_id: str, max_bad_fraction: float, names: list[str] | None = None
) -> OverridesResult:
    """Archive, read, validate and publish the overrides delivered as of ``day``. Raises
    :class:`OverridesRejected` (after writing the quarantine) when a file is unreadable or more
    than ``max_bad_fraction`` of the records are bad; a re-run replaces the day's partition."""
    journal = lake.staging_dir(OVERRIDES, day) / JOURNAL
    recover(lake, journal)  # an earlier attempt stopped mid-commit: finish or roll it back first
    archived = archive_raw(lake, day, names, feed=FEED)
    result = OverridesResult(day.isoformat(), files=[a.raw for a in archived])
    with tempfile.TemporaryDirectory(prefix="salescast-overrides-") as work:
        read = read_files(lake, day, archived, Path(work), FEED, lambda _name: OVERRIDE_FILE)
        result.records, result.problems, result.warnings = read.count, read.problems, read.warnings
        good, invalid = validate_overrides(concat_records(read.records.get(FEED, []), COLUMNS))
        bad = concat_bad([*read.bad, invalid])
        result.quarantine = write_quarantine(lake, day, run_id, bad, Path(work), FEED)
    judge(lake, day, FEED, result, len(bad), (max_bad_fraction, "override records"), OverridesRejected)
    publish_overrides(lake, day, run_id, good, result)
    for warning in result.warnings:
        log.warning("overrides %s: %s", day, warning)
    return result


def publish_overrides(lake: Lake, day: date, run_id: str, good: pd.DataFrame, result: OverridesResult) -> None:
    """The day's partition (empty for a delivery without a good row) in one commit."""
    result.published = len(good)
    result.kinds = {str(k): int(v) for k, v in good["kind"].value_counts().sort_index().items()}
    named = [override_id(day.isoformat(), f, int(n)) for f, n in zip(good["source_file"], good[LINE], strict=True)]
    curated = good.assign(override_id=pd.Series(named, dtype=object), asof=day)[list(PUBLISHED)]
    staged = lake.staging_dir(OVERRIDES, day) / DATA_FILE
    lake.write_bytes(staged, typed_parquet(curated.reset_index(drop=True), dates=DATES, floats=FLOATS))
    summary = {k: v for k, v in result.to_dict().items() if k not in ("day", "problems")}
    manifest = {"dataset": FEED, "asof": day.isoformat(), "run_id": run_id, "rows": len(good)} | summary
    target = lake.partition_dir(OVERRIDES, day) / DATA_FILE
    commit(lake, lake.staging_dir(OVERRIDES, day) / JOURNAL, run_id, [Staged(str(staged), str(target), manifest)])
    lake.remove_tree(lake.staging_dir(OVERRIDES, day))


# ---- the suite --------------------------------------------------------------------------------


def validate_overrides(records: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``overrides`` suite on the records: (good rows typed for the lake, with their source
    file and line, bad records with reasons)."""
    view = pd.DataFrame(
        {
            "store_id": labels(records["store_id"]),
            "item_id": labels(records["item_id"]),
            "date_from": days(records["date_from"]),
            "raw_date_from": records["date_from"].astype(object),
            "date_to": days(records["date_to"]),
            "raw_date_to": records["date_to"].astype(object),
            "kind": texts(records["kind"]).map(lambda v: v.lower() if isinstance(v, str) else None).astype(object),
            "raw_kind": records["kind"].astype(object),
            "value": numbers(records["value"]),
            "raw_value": records["value"].astype(object),
            "reason": texts(records["reason"]),
            "author": texts(records["author"]),
            "expires": days(records["expires"]),
            "raw_expires": texts(records["expires"]),
        }
    )
    view = view.assign(**flags(view))
    parameters = {"kinds": list(KINDS), "refused_id_characters": ids.REFUSED_PATTERN}
    return check(view, records, SUITE, parameters, COLUMNS, OverridesRejected)


def flags(view: pd.DataFrame) -> dict[str, pd.Series]:
    """The rules between a record's values, as boolean columns the suite checks (a rule whose
    values are missing or unreadable holds: their own expectations name that problem)."""
    date_from, date_to, expires = (pd.to_datetime(view[c]) for c in ("date_from", "date_to", "expires"))
    value = pd.to_numeric(view["value"])
    return {
        "dates_in_order": ~(date_from > date_to),
        "expires_readable": view["raw_expires"].isna() | view["expires"].notna(),
        "expires_in_range": ~(expires < date_from),
        "pct_in_range": ~((view["kind"] == PCT) & (value < PCT_FLOOR)),
        "set_non_negative": ~((view["kind"] == SET) & (value < 0)),
        "overlaps": overlapping(view["store_id"], view["item_id"], date_from, date_to),
    }


def overlapping(stores: pd.Series, items: pd.Series, starts: pd.Series, ends: pd.Series) -> pd.Series:
    """True for each record whose inclusive days share one with another record for the same
    ``store_id`` and ``item_id`` (``*`` is its own scope here: a store-wide and an item's
    override coexist, and the applying code resolves them). Sorted by start within a key, a
    record overlaps an earlier one when it starts on or before the latest end so far, and a
    later one when the next start is on or before its end."""
    frame = pd.DataFrame({"store": stores, "item": items, "start": starts, "end": ends})
    usable = frame.notna().all(axis=1) & (frame["start"] <= frame["end"])
    keyed = frame[usable].sort_values(["store", "item", "start"], kind="stable")
    if keyed.empty:
        return pd.Series(False, index=frame.index, dtype=bool)
    key = [keyed["store"], keyed["item"]]
    latest_end = keyed.groupby(key, sort=False)["end"].cummax().groupby(key, sort=False).shift()
    next_start = keyed.groupby(key, sort=False)["start"].shift(-1)
    hit = (keyed["start"] <= latest_end) | (next_start <= keyed["end"])
    return hit.reindex(frame.index, fill_value=False).astype(bool)
