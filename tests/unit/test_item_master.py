"""How a delivery's file is told to be items or listings: by its name, never by guessing from its header."""

from __future__ import annotations

import pytest

from salescast.item_master import ITEM_REQUIRED, LISTING_REQUIRED, columns_of, file_kind


@pytest.mark.parametrize(
    ("name", "kind"),
    [("listings.csv", "listings"), ("Listings_2025-03.csv.gz", "listings"), ("listings-march.parquet", "listings"),
     ("items.csv", "items"), ("store_listings.csv", "items"), ("master.parquet", "items")],
)  # fmt: skip
def test_a_file_is_listings_when_its_name_starts_with_listings(name, kind):
    assert file_kind(name) == kind
    assert columns_of(kind)[0] == (LISTING_REQUIRED if kind == "listings" else ITEM_REQUIRED)
