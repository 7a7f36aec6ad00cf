"""The Forecasts page's search rule (``salescast.dashboard.search``), which the series list and
its CSV download share: case-insensitive text found anywhere in the id, every given filter
applied, ``q`` matching the store or the item id, and no filter text ever read as a pattern."""

from __future__ import annotations

import pandas as pd
import pytest

from salescast.dashboard import search
from salescast.dashboard.params import BadRequest

STORES = pd.Series(["S01", "S01", "S02", "store.*"])
ITEMS = pd.Series(["I0001", "Apple", "I0001", "x"])


@pytest.mark.parametrize(
    ("chosen", "rows"),
    [
        ({}, [0, 1, 2, 3]),
        ({"store": "s01"}, [0, 1]),
        ({"item": "APP"}, [1]),
        ({"store": "S0", "item": "0001"}, [0, 2]),
        ({"q": "2"}, [2]),
        ({"q": "apple"}, [1]),
        ({"store": ".*"}, [3]),  # text, not a regular expression
        ({"store": "S01", "q": "S02"}, []),
    ],
)
def test_every_filter_given_is_applied(chosen, rows):
    mask = search.series_mask(STORES, ITEMS, chosen)
    assert list(mask[mask].index) == rows


def test_the_request_fields_are_checked():
    assert search.filters(None, "S01", "") == {"q": None, "store": "S01", "item": None}
    with pytest.raises(BadRequest, match="printable"):
        search.filters("\x00", None, None)
