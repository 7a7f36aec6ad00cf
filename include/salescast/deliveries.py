"""Expected deliveries: which stores should have sent sales for a day, and which did not.

A store whose file is missing from a day's landing folder is not a store that sold nothing:
read as zeros, its series look like a collapse in demand and every score against them is
wrong. The rule lives here once, for ingest (a warning, then an alert mail), the forecast
(those store-days are imputed like unknown days) and the accuracy scores (not counted).

A store is **expected** on day D when it delivered on at least half of the published days in
the ``lookback_days`` before D (at least ``min_days`` of them, else nothing is expected yet)
and on the same weekday at least once in that span: a store closed every Sunday is not
expected on Sundays. Stores in ``SALESCAST_RETIRED_STORES`` are never expected; a store that
stops delivering without being retired stops being expected after about a week.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

StoresByDay = Mapping[str, frozenset[str]]  # ISO day -> stores with rows that day (published days only)


@dataclass(frozen=True)
class DeliveryRule:
    lookback_days: int = 14
    min_share: float = 0.5
    min_days: int = 4
    retired: frozenset[str] = field(default_factory=frozenset)

    def expected(self, day: date, stores_by_day: StoresByDay) -> set[str]:
        """Stores expected to deliver on ``day``, from the published days before it."""
        span = [(day - timedelta(days=n)).isoformat() for n in range(1, self.lookback_days + 1)]
        recent = [stores_by_day[d] for d in span if d in stores_by_day]
        if len(recent) < self.min_days:
            return set()
        counts = Counter(store for stores in recent for store in stores)
        same_weekday = set().union(*(stores_by_day.get(d, frozenset()) for d in span[6::7]))
        often = {store for store, n in counts.items() if n >= self.min_share * len(recent)}
        return (often & same_weekday) - self.retired

    def missing(self, day: date, delivered: frozenset[str], stores_by_day: StoresByDay) -> list[str]:
        """Expected stores with no row on ``day``, sorted."""
        return sorted(self.expected(day, stores_by_day) - delivered)

    def missing_by_day(self, stores_by_day: StoresByDay) -> dict[str, list[str]]:
        """For every published day of ``stores_by_day``: the expected stores missing that day
        (days without any are left out)."""
        found = {}
        for day in sorted(stores_by_day):
            gone = self.missing(date.fromisoformat(day), stores_by_day[day], stores_by_day)
            if gone:
                found[day] = gone
        return found


def missing_stores_warning(day: date | str, missing: list[str], shown: int = 20) -> str:
    names = ", ".join(missing[:shown]) + (f" and {len(missing) - shown} more" if len(missing) > shown else "")
    return (
        f"{len(missing)} store(s) that delivered on most recent days sent nothing for {day}: {names}. "
        "Their sales are not counted as zero (the forecast imputes them, accuracy skips them); "
        "add the late file and re-run the day, or retire a closed store with SALESCAST_RETIRED_STORES"
    )
