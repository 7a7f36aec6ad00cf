"""Quarantined records and file names come from sources: the CSV salescast serves must not run
them as spreadsheet formulas (OWASP's CSV injection rule, ``salescast.csv_safe``), on
``file://`` and ``s3://`` lakes. The dashboard route serving it is tested in
tests/plugins/test_salescast_plugin.py."""

from __future__ import annotations

import csv
import io
from datetime import date

from salescast.csv_safe import FORMULA_TRIGGERS, csv_chunks
from salescast.dashboard.dagruns import RunRef, quarantine_csv
from salescast.ingest.pipeline import ingest_day
from salescast.lake import Lake
from tests.support.lakes import on_both_lakes

DAY = date(2025, 3, 4)
RUN_ID = "manual__csv-injection"
HOSTILE_FILE = '=HYPERLINK("http:evil.example","x").csv'
HOSTILE_LINE = "=cmd|' /C calc'!A0"


def land_hostile_day(lake: Lake, day: date = DAY) -> None:
    """Good rows, one formula line, a record whose fields start with + - @, in a file whose
    name is a formula."""
    good = "".join(f"{day},S01,I{i:03d},{i % 5 + 1}\n" for i in range(40))
    bad = f"{day},@SUM(A1),+I999,-3x\n"
    text = f"date,store_id,item_id,units\n{good}{HOSTILE_LINE}\n{bad}"
    lake.write_bytes(lake.landing_dir(day) / HOSTILE_FILE, text.encode())


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@on_both_lakes
def test_the_quarantine_csv_never_starts_a_cell_with_a_formula(lake):
    land_hostile_day(lake)
    ingest_day(lake, DAY, RUN_ID, 0.5)
    text = "".join(quarantine_csv(lake, RunRef("sales_ingest", RUN_ID, DAY, "success")))
    header, *rows = cells(text)
    assert len(rows) == 2, text
    offending = [c for row in [header, *rows] for c in row if c.startswith(FORMULA_TRIGGERS)]
    assert offending == [], offending
    by_column = [dict(zip(header, row, strict=True)) for row in rows]
    assert {r["source_file"] for r in by_column} == {"'" + HOSTILE_FILE}  # the value is kept, escaped
    assert any(r["raw"] == "'" + HOSTILE_LINE for r in by_column), by_column
    assert {r["line_number"] for r in by_column} == {"42", "43"}  # numbers stay numbers


def test_numeric_columns_stay_numbers_and_text_that_looks_like_a_number_is_escaped():
    import pandas as pd

    frame = pd.DataFrame({"units": [-3.0, 2.5], "count": pd.array([-1, None], dtype="Int64"), "text": ["-3", "\r=1"]})
    text = "".join(csv_chunks(frame))
    assert cells(text)[1:] == [["-3.0", "-1", "'-3"], ["2.5", "", "'\r=1"]]


def test_an_escaped_cell_reads_back_as_it_was_and_escaping_twice_changes_nothing():
    from salescast.csv_safe import original_cell, safe_cell

    for value in ("=1+1", "+x", "-3", "@SUM(A1)", "\tx", "plain", "'quoted", "'", "", 3.5, None):
        assert original_cell(safe_cell(value)) == value
        assert safe_cell(safe_cell(value)) == safe_cell(value)


def test_a_header_and_rows_streamed_apart_are_the_csv_of_the_whole_frame():
    import pandas as pd

    from salescast.csv_safe import csv_header, csv_rows

    frame = pd.DataFrame({"=a": ["x", "=y", "z"], "n": [1, 2, 3]})
    parts = [csv_header(frame.columns), *csv_rows(frame.iloc[:2]), *csv_rows(frame.iloc[2:])]
    assert "".join(parts) == "".join(csv_chunks(frame)) == '"\'=a","n"\n"x",1\n"\'=y",2\n"z",3\n'
