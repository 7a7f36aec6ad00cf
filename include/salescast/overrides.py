"""The overrides feed's contract, in one light place: its columns, its kinds and the columns of
the published table, shared by ingest (:mod:`salescast.ingest.overrides`), the as-of reader
(:mod:`salescast.forecast.overrides_asof`), the code that applies overrides and the docs.

A planner's override says: for ``store_id`` and ``item_id`` (either may be ``*``: every store,
every item), on the target days ``date_from`` to ``date_to`` (inclusive), change the forecast
by ``kind``: ``set`` it to ``value`` (>= 0), ``add`` ``value`` to it, or change it by ``value``
percent (``pct``, >= -100); ``reason`` and ``author`` say why and who, and an optional
``expires`` day ends it: a run after that day no longer applies it. No pandas: the DAGs may
import it when they are parsed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

FEED = "overrides"
ALL = "*"  # as store_id or item_id: every store, every item

REQUIRED = ("store_id", "item_id", "date_from", "date_to", "kind", "value", "reason", "author")
OPTIONAL = ("expires",)
COLUMNS = (*REQUIRED, *OPTIONAL)

SET, ADD, PCT = "set", "add", "pct"
KINDS = (SET, ADD, PCT)
PCT_FLOOR = -100.0  # a pct of -100 takes the forecast to zero; below it would be negative demand

# the published table (curated/overrides/asof=D/part-0.parquet), in this order
DATES = ("date_from", "date_to", "expires", "asof")
FLOATS = ("value",)
PUBLISHED = ("override_id", "store_id", "item_id", "date_from", "date_to", "kind", "value", "reason", "author",
             "expires", "asof")  # fmt: skip


def override_id(asof: str, source_file: str, line_number: int) -> str:
    """``{asof}/{source_file}:{line_number}``: stable across re-runs of a delivery, and it names the
    archived file (``raw/overrides/dt={asof}/{source_file}``) and the line an applied override came from."""
    return f"{asof}/{source_file}:{line_number}"


def schema() -> pa.Schema:
    """The published table's Arrow schema (what an empty read is typed as, too)."""
    import pyarrow as pa

    def kind(name: str) -> pa.DataType:
        return pa.date32() if name in DATES else pa.float64() if name in FLOATS else pa.string()

    return pa.schema([pa.field(name, kind(name)) for name in PUBLISHED])
