"""The planner overrides a forecast run for day D may apply: every published override delivered
as of D or earlier that has not expired by D.

A delivery is published under the day the planner entered it (``curated/overrides/asof=D``),
so a run for D, or a backfill of D a year later, reads only what was known on D: an override
entered on D+1 never changes the forecast of D. Unlike the item master, a later delivery does
not replace an earlier one (an override is an instruction, not a record of a key): all of them
are returned, and the applying code resolves those that cover one forecast row (most specific
scope, then latest as-of). An override is left out only when its ``expires`` day is before D.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from salescast.lake import DATA_FILE, OVERRIDES, Lake
from salescast.overrides import PUBLISHED, schema


def overrides_as_of(lake: Lake, run_date: date) -> pd.DataFrame:
    """Every published override of the deliveries on or before ``run_date`` whose ``expires``
    is empty or on or after it, in the published columns (dates as ``datetime.date``, ``value``
    float64), by as-of day and then as delivered; an empty frame of those columns when none.
    One listing of the dataset and one read per delivery; later deliveries are never read."""
    days = [d for d in lake.published_partitions(OVERRIDES) if d <= run_date.isoformat()]
    frames = [lake.read_parquet(lake.partition_dir(OVERRIDES, date.fromisoformat(d)) / DATA_FILE) for d in days]
    frames = [f[list(PUBLISHED)] for f in frames if not f.empty]
    if not frames:
        return empty()
    rows = pd.concat(frames, ignore_index=True)
    live = rows["expires"].map(lambda day: not isinstance(day, date) or day >= run_date).astype(bool)
    return rows[live].reset_index(drop=True)


def empty() -> pd.DataFrame:
    """No overrides, typed as a read of the published table would be."""
    return schema().empty_table().to_pandas()
