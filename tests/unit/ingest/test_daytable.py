"""The daily table (``salescast.ingest.daytable``): a record's day, store and item summed once."""

from __future__ import annotations

import pandas as pd

from salescast.ingest.daytable import aggregate_daily


def test_a_null_revenue_is_never_summed_as_zero():
    rows = pd.DataFrame(
        {"date": ["2025-03-03"] * 2, "store_id": ["S1"] * 2, "item_id": ["A"] * 2, "units": [1.0, 2.0],
         "revenue": [5.0, None], "line_number": [2, 3]}
    )  # fmt: skip
    daily = aggregate_daily(rows)
    assert daily["units"].tolist() == [3.0]
    assert daily["revenue"].isna().all()
