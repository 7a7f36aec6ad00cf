"""The overrides a run date may apply: every delivery on or before it, never a later one (a
backfill of D sees what D saw), and without those that expired before it."""

from __future__ import annotations

from datetime import date

import pandas as pd

from salescast.forecast.overrides_asof import overrides_as_of
from salescast.ingest.overrides import ingest_overrides_day
from salescast.lake import OVERRIDES, SUCCESS_MARKER, Lake
from salescast.overrides import PUBLISHED
from tests.support.lakes import on_both_lakes

HEADER = "store_id,item_id,date_from,date_to,kind,value,reason,author,expires"


def _deliver(lake: Lake, day: date, rows: list[str]) -> None:
    lake.write_text(lake.landing_dir(day, "overrides") / "o.csv", "\n".join([HEADER, *rows]) + "\n")
    ingest_overrides_day(lake, day, "run", max_bad_fraction=0.0)


@on_both_lakes
def test_every_override_delivered_by_the_run_date_that_has_not_expired(lake):
    _deliver(lake, date(2025, 3, 1), ["S1,I1,2025-03-10,2025-03-16,set,120,listing change,ana,",
                                      "*,I2,2025-03-02,2025-03-09,pct,-20,promo ends,bo,2025-03-05"])  # fmt: skip
    # entered on 03-05: another override for S1/I1 (a later as-of: both are candidates)
    _deliver(lake, date(2025, 3, 5), ["S1,I1,2025-03-12,2025-03-12,add,10,event,cy,"])
    _deliver(lake, date(2025, 3, 10), ["S2,*,2025-03-11,2025-03-20,pct,50,reopening,ana,"])  # after 03-07

    seen = overrides_as_of(lake, date(2025, 3, 5))
    assert list(seen.columns) == list(PUBLISHED)
    assert seen["override_id"].tolist() == ["2025-03-01/o.csv:2", "2025-03-01/o.csv:3", "2025-03-05/o.csv:2"]
    assert seen["asof"].tolist() == [date(2025, 3, 1), date(2025, 3, 1), date(2025, 3, 5)]
    assert seen["value"].dtype == "float64"

    on_seventh = overrides_as_of(lake, date(2025, 3, 7))  # *,I2 expired on 03-05; 03-10's not known yet
    assert on_seventh["override_id"].tolist() == ["2025-03-01/o.csv:2", "2025-03-05/o.csv:2"]
    assert overrides_as_of(lake, date(2025, 3, 7)).equals(on_seventh)  # a backfill of 03-07 sees the same
    assert overrides_as_of(lake, date(2025, 3, 2))["override_id"].tolist() == ["2025-03-01/o.csv:2",
                                                                               "2025-03-01/o.csv:3"]  # fmt: skip
    later = overrides_as_of(lake, date(2025, 3, 10))
    assert later["override_id"].tolist()[-1] == "2025-03-10/o.csv:2"
    assert later.iloc[-1][["store_id", "item_id", "kind", "value"]].tolist() == ["S2", "*", "pct", 50.0]


def test_nothing_published_yet_or_an_unmarked_partition_gives_an_empty_typed_frame(lake):
    nothing = overrides_as_of(lake, date(2025, 3, 7))
    assert nothing.empty
    assert list(nothing.columns) == list(PUBLISHED)
    assert nothing["value"].dtype == "float64"
    _deliver(lake, date(2025, 3, 1), ["S1,I1,2025-03-10,2025-03-16,set,120,listing change,ana,"])
    (lake.partition_dir(OVERRIDES, date(2025, 3, 1)) / SUCCESS_MARKER).unlink()  # a publish that did not finish
    assert overrides_as_of(lake, date(2025, 3, 7)).empty
    _deliver(lake, date(2025, 3, 2), [])  # a header-only delivery: an empty partition
    assert overrides_as_of(lake, date(2025, 3, 7)).dtypes.equals(nothing.dtypes)
    assert pd.api.types.is_object_dtype(nothing["date_from"])
