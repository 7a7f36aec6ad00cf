"""One id rule (issue 27, row 6): ingest (CSV and Parquet alike), its GX suite and the dashboard
agree on which store and item ids exist.

Every refused character lands in quarantine with a reason naming it; whatever ingest
publishes, the dashboard's id check accepts.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from salescast import ids
from salescast.config import EXPECTATIONS_DIR
from salescast.dashboard import params
from salescast.ingest.pipeline import ingest_day
from salescast.lake import Lake

from .ingest.test_pipeline import curated, drop, quarantine

DAY = date(2025, 3, 3)
HEADER = ["date", "store_id", "item_id", "units", "revenue"]
# the characters of the issue: controls, bidi overrides/marks/isolates, zero-width
LISTED = {
    "\n": "a control character",
    "\t": "a control character",
    "\x07": "a control character",
    "\x1b": "a control character",
    "\x00": "a control character",
    **{chr(c): "a bidirectional control character" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))},
    "\u200e": "a bidirectional control character",
    "\u200f": "a bidirectional control character",
    **{chr(c): "an invisible (zero-width or formatting) character" for c in (0x200B, 0x200C, 0x200D, 0xFEFF, 0x2060)},
}
# ids that look odd but are what they look like: they must be published and shown
ALLOWED = [
    "Café",
    "United Kingdom",
    "Côte d'Ivoire",
    "東京-01",
    "שלום",  # right-to-left letters are text, not controls
    "مرحبا",
    "I\u00a00001",  # a no-break space inside
    "🛒 cart",
    "e\u0301x",  # composed to NFC: "éx"
    "\ue000private",
    "x" * ids.MAX_LENGTH,
    "'<b>&amp;\"",
]


def hostile_rows() -> list[tuple[str, str]]:
    """(store_id, item_id): each listed character once in a store id and once in an item id."""
    rows = []
    for n, character in enumerate(LISTED):
        rows.append((f"S{character}{n:02d}", "I0001"))
        rows.append(("S01", f"I{n:02d}{character}X"))
    return rows


def csv_file(rows: list[tuple[str, str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows([str(DAY), store, item, 1, 2.5] for store, item in rows)
    return buffer.getvalue().encode()


def parquet_file(rows: list[tuple[str, str]]) -> bytes:
    table = pa.table(
        {
            "date": [str(DAY)] * len(rows),
            "store_id": [s for s, _ in rows],
            "item_id": [i for _, i in rows],
            "units": [1.0] * len(rows),
            "revenue": [2.5] * len(rows),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def good_rows(n: int = 60) -> list[tuple[str, str]]:
    return [("S01", f"G{i:04d}") for i in range(n)]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_listed_character_is_quarantined_with_a_reason_naming_it(lake: Lake, fmt):
    hostile = hostile_rows()
    rows = hostile + good_rows(1000)  # enough good rows to stay under the bad-row threshold
    data = csv_file(rows) if fmt == "csv" else parquet_file(rows)
    drop(lake, f"ids.{fmt}", data)
    result = ingest_day(lake, DAY, "run1", 0.05)
    assert result.invalid == len(hostile)
    bad = quarantine(lake, result)
    assert len(bad) == len(hostile)
    reasons = set(bad["reason"])
    for character, kind in LISTED.items():
        code = f"U+{ord(character):04X}"
        assert any(r.startswith(f"store_id contains {kind} {code}") for r in reasons), (code, reasons)
        assert any(r.startswith(f"item_id contains {kind} {code}") for r in reasons), (code, reasons)
        assert not any(character in r for r in reasons), "a reason carries the raw character"
    published = curated(lake)
    assert set(published["store_id"]) == {"S01"}
    assert not published["item_id"].map(lambda v: bool(re.search(ids.REFUSED_PATTERN, v))).any()


def test_a_nul_in_a_csv_record_quarantines_that_record_not_the_file(lake: Lake):
    drop(lake, "a.csv", csv_file([("S\x0001", "I1"), *good_rows(200)]))
    result = ingest_day(lake, DAY, "run1", 0.05)
    assert result.unreadable == {}
    assert quarantine(lake, result)["reason"].tolist() == [
        "store_id contains a control character U+0000 (got 'S\\x0001')"
    ]
    assert result.published_rows == 200


def test_an_id_is_normalised_before_the_rule(lake: Lake):
    """Surrounding whitespace is stripped and accents composed: that is not a refusal."""
    drop(lake, "a.csv", csv_file([(" S01\t", "Cafe\u0301"), ("S02", "Café "), *good_rows(50)]))
    result = ingest_day(lake, DAY, "run1", 0.05)
    assert result.quarantine is None
    keys = set(zip(curated(lake)["store_id"], curated(lake)["item_id"], strict=True))
    assert {("S01", "Café"), ("S02", "Café")} <= keys


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_whatever_ingest_publishes_the_dashboard_accepts(lake: Lake, fmt):
    rows = [(store, f"I{n:03d}") for n, store in enumerate(ALLOWED)] + [("S01", item) for item in ALLOWED]
    drop(lake, f"ok.{fmt}", csv_file(rows) if fmt == "csv" else parquet_file(rows))
    result = ingest_day(lake, DAY, "run1", 0.05)
    assert result.invalid == 0
    published = curated(lake)
    assert len(published) == len(rows)
    for store, item in zip(published["store_id"], published["item_id"], strict=True):
        assert params.series_id("store_id", store) == store
        assert params.series_id("item_id", item) == item


@pytest.mark.parametrize("character", list(LISTED))
def test_the_dashboard_refuses_what_ingest_refuses_with_the_same_words(character):
    with pytest.raises(params.BadRequest) as refused:
        params.series_id("store_id", f"S{character}1")
    assert ids.refused_character("store_id", f"S{character}1") in str(refused.value)
    assert "not a valid id" in str(refused.value)


def test_the_suite_uses_the_rule_of_salescast_ids():
    suite = json.loads((EXPECTATIONS_DIR / "landing.json").read_text())
    by_column = {(e["type"], e["kwargs"].get("column")): e for e in suite["expectations"]}
    for column in ("store_id", "item_id"):
        regex = by_column[("expect_column_values_to_not_match_regex", column)]
        assert regex["kwargs"]["regex"] == {"$PARAMETER": "refused_id_characters"}
        assert regex["meta"]["explain"] == "salescast.ids"
        lengths = by_column[("expect_column_value_lengths_to_be_between", column)]
        assert lengths["kwargs"]["max_value"] == ids.MAX_LENGTH


def test_the_pattern_is_the_same_set_in_python_and_re2():
    import pyarrow.compute as pc

    blocks = (range(0x3000), range(0xFE00, 0x10000), range(0xE0000, 0xE0100))
    every = [chr(c) for block in blocks for c in block]
    python = [bool(re.search(ids.REFUSED_PATTERN, c)) for c in every]
    arrow = pc.match_substring_regex(pa.array(every), ids.re2_pattern()).to_pylist()
    assert python == arrow
    assert python == [ids.kind_of(c) is not None for c in every]


def test_problem_covers_missing_long_and_refused():
    assert ids.problem("item_id", " ") == "item_id is missing"
    assert ids.problem("item_id", "x" * 65) == f"item_id is longer than {ids.MAX_LENGTH} characters"
    assert ids.problem("item_id", "a\u202eb") == "item_id contains a bidirectional control character U+202E"
    assert ids.problem("item_id", "Café") is None
    assert ids.normalise(" Cafe\u0301 ") == "Café"
