"""The overrides feed's contract: the published table's columns and types, and an override_id
that names the archived file and line an override came from."""

from __future__ import annotations

import pyarrow as pa

from salescast.overrides import COLUMNS, KINDS, PUBLISHED, override_id, schema


def test_the_published_table_has_the_contract_columns_typed():
    types = {f.name: f.type for f in schema()}
    assert list(types) == list(PUBLISHED)
    assert [c for c in PUBLISHED if c not in ("override_id", "asof")] == list(COLUMNS)
    assert {c for c, t in types.items() if t == pa.date32()} == {"date_from", "date_to", "expires", "asof"}
    assert types["value"] == pa.float64()
    assert KINDS == ("set", "add", "pct")


def test_an_override_id_names_the_delivery_the_file_and_the_line():
    assert override_id("2025-03-01", "week10.csv", 7) == "2025-03-01/week10.csv:7"
