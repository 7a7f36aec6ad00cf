"""The item master a forecast run for day D sees: for every item the row of the latest as-of
delivery on or before D, and likewise for every planned listing (store and item).

A delivery is published under the day its facts were known (``curated/items/asof=D``,
``curated/item_listings/asof=D``, one commit), so a run for D, or a backfill of D a year
later, reads only what was known on D: a launch moved on D+1 never changes the forecast of
D. A delivery row is the item's whole record, so the latest row wins whole (an analog left
empty in a later delivery is no analog any more); an item a later delivery does not mention
keeps its earlier row, and an item leaves by ``status = discontinued``, never by silence.
What a discontinued item's listings mean is the caller's decision: they are returned as
delivered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from salescast.item_master import ITEM_COLUMNS, LISTING_COLUMNS
from salescast.lake import DATA_FILE, ITEM_LISTINGS, ITEMS, Dataset, Lake

ITEM_KEY = ["item_id"]
LISTING_KEY = ["store_id", "item_id"]


@dataclass
class ItemsAsOf:
    """One row per item and per listing as known on the run date (with ``asof``: the delivery
    it came from, and ``source_file``), and what a run summary records about it."""

    items: pd.DataFrame
    listings: pd.DataFrame
    as_of_days: list[str] = field(default_factory=list)  # the deliveries whose rows are in use
    on_run_date: bool = False  # a delivery as of the run date itself was published

    @property
    def latest_as_of(self) -> str | None:
        return self.as_of_days[-1] if self.as_of_days else None

    def to_summary(self) -> dict[str, Any]:
        counts = self.items["status"].value_counts()
        return {"as_of_days": self.as_of_days, "latest_as_of": self.latest_as_of, "on_run_date": self.on_run_date,
                "items": len(self.items), "statuses": {str(k): int(v) for k, v in counts.sort_index().items()},
                "listings": len(self.listings)}  # fmt: skip


def items_as_of(lake: Lake, run_date: date) -> ItemsAsOf:
    """Resolve the published item deliveries as of ``run_date``: one listing of each dataset
    and one read per delivery on or before it; deliveries after it are never read."""
    items, item_days = _latest(lake, ITEMS, run_date, ITEM_KEY, [*ITEM_COLUMNS, "source_file"])
    listings, listing_days = _latest(lake, ITEM_LISTINGS, run_date, LISTING_KEY, [*LISTING_COLUMNS, "source_file"])
    used = sorted(item_days | listing_days)
    published = lake.published_partitions(ITEMS)
    return ItemsAsOf(items, listings, used, run_date.isoformat() in published)


def _latest(
    lake: Lake, dataset: Dataset, run_date: date, key: list[str], columns: list[str]
) -> tuple[pd.DataFrame, set[str]]:
    """The latest row per ``key`` across the partitions of ``dataset`` on or before ``run_date``,
    and the as-of days those rows come from."""
    days = [d for d in lake.published_partitions(dataset) if d <= run_date.isoformat()]
    frames = [lake.read_parquet(lake.partition_dir(dataset, date.fromisoformat(d)) / DATA_FILE) for d in days]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in [*columns, "asof"]}), set()
    rows = pd.concat(frames, ignore_index=True)
    latest = rows.sort_values("asof", kind="stable").drop_duplicates(key, keep="last")
    latest = latest.sort_values(key, kind="stable").reset_index(drop=True)[[*columns, "asof"]]
    return latest, {d.isoformat() for d in latest["asof"]}
