"""The item master feed's contract, in one light place: its columns, its statuses and how a
delivery tells item files from listings files.

One delivery folder, ``landing/items/D/`` (D: the day the facts were known, their *as-of*
day), holds two kinds of file, told apart by name so that nothing is guessed from a header:
a file whose name starts with ``listings`` holds planned store listings (``store_id,
item_id, list_date``), every other file holds item master rows (``item_id, category,
subcategory, brand, launch_date, status`` and optionally ``analog_item_id``). A file whose
header does not fit its kind is refused with a reason that says which kind its name made it.
Ingest (:mod:`salescast.ingest.items`), the as-of reader
(:mod:`salescast.forecast.items_asof`) and the docs all take these names from here. No
pandas: the DAGs may import it when they are parsed.
"""

from __future__ import annotations

FEED = "items"
LISTINGS_PREFIX = "listings"
ITEMS_KIND = "items"
LISTINGS_KIND = "listings"

# the item master: a row is the item's whole record as of its delivery (latest wins per item)
ITEM_REQUIRED = ("item_id", "category", "subcategory", "brand", "launch_date", "status")
ITEM_OPTIONAL = ("analog_item_id",)
ITEM_COLUMNS = (*ITEM_REQUIRED, *ITEM_OPTIONAL)
# planned store listings: the day an item is (to be) listed in a store (latest wins per store and item)
LISTING_REQUIRED = ("store_id", "item_id", "list_date")
LISTING_COLUMNS = LISTING_REQUIRED

ACTIVE = "active"
DISCONTINUED = "discontinued"
STATUSES = (ACTIVE, DISCONTINUED)


def file_kind(name: str) -> str:
    """``listings`` for a file whose name starts with ``listings`` (any case), else ``items``."""
    return LISTINGS_KIND if name.lower().startswith(LISTINGS_PREFIX) else ITEMS_KIND


def columns_of(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(required, optional) columns of a kind of file."""
    return (LISTING_REQUIRED, ()) if kind == LISTINGS_KIND else (ITEM_REQUIRED, ITEM_OPTIONAL)
