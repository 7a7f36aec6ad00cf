"""The GX suites run as DuckDB SQL (salescast.suite_sql) say what real GX says: the same reasons
for the same rows, the same table failures. GX stays the rule source; this keeps the SQL honest."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from salescast import ids
from salescast.ingest.daytable import row_reasons_text
from salescast.ingest.standardize import LANDING_COLUMNS
from salescast.suite_sql import UntranslatedExpectation, column_types, compile_suite, flags_sql, quote, summarise
from salescast.validation import load_suite_spec, parameters_for, validate

DAY = "2025-03-03"
GOOD = {
    "source_file": "a.csv", "line_number": 2, "source": "daily", "date": DAY, "date_raw": DAY, "store_id": "S01",
    "item_id": "I01", "units": 3.0, "units_raw": "3", "revenue": 7.5, "revenue_raw": "7.5", "unit_price": None,
    "unit_price_raw": None, "date_ambiguous": False, "excluded": None, "duplicate_of": None, "conflicting_key": False,
    "raw": "{}",
}  # fmt: skip
# one change per row: every landing expectation fails at least once, some rows several times; a bound
# itself, and a null price or revenue with no text to parse, are not failures
CHANGES = [
    {},
    {"date": None, "date_raw": "03/03/2025"},
    {"date": None, "date_ambiguous": True, "date_raw": "02/03/2025"},
    {"date": "2025-03-02"},
    {"store_id": None},
    {"store_id": "S" * 65},
    {"store_id": "S\x0701"},
    {"item_id": "I\u202e1"},
    {"item_id": None, "store_id": "x\u200b", "units": None, "units_raw": "12x"},
    {"item_id": "I" * 70 + "\n"},
    {"units": None, "units_raw": None},
    {"units": 250000.0, "units_raw": "250000"},
    {"units": -10000.0},
    {"unit_price": None, "unit_price_raw": "abc"},
    {"unit_price": None, "unit_price_raw": ""},
    {"unit_price": -1.0, "unit_price_raw": "-1"},
    {"unit_price": None, "unit_price_raw": None},
    {"revenue": None, "revenue_raw": "8,00"},
    {"revenue": None, "revenue_raw": None},
    {"revenue": 1e9, "revenue_raw": "1e9"},
    {"revenue": float("nan"), "revenue_raw": "nan"},
    {"duplicate_of": "a.csv:2"},
    {"conflicting_key": True},
    {"date": None, "date_raw": None, "store_id": "Café", "units": 100000.0},
]


def landing_frame() -> pd.DataFrame:
    frame = pd.DataFrame([GOOD | change for change in CHANGES])[LANDING_COLUMNS]
    for column in ("units", "revenue", "unit_price"):
        frame[column] = frame[column].astype("float64")
    return frame.astype({c: object for c in LANDING_COLUMNS if frame[c].dtype != "float64"}).astype(
        {"line_number": "int64", "date_ambiguous": bool, "conflicting_key": bool}
    )


def daily_frame(rows: int = 4) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"date": [DAY] * rows, "store_id": ["S1"] * rows, "item_id": [f"I{i % 3}" for i in range(rows)],
         "units": np.linspace(-2e6, 2e7, rows) if rows else [], "revenue": [1.0] * rows, "source_rows": [1] * rows}
    )  # fmt: skip
    return frame.astype(
        {"date": object, "store_id": object, "item_id": object, "units": "float64", "source_rows": "int64"}
    )


def by_sql(frame: pd.DataFrame, suite: str) -> tuple[dict[int, list[str]], list[str]]:
    con = duckdb.connect()
    con.register("frame", frame.assign(row_index=np.arange(len(frame))))
    con.execute(f"CREATE VIEW t AS SELECT {', '.join(quote(c) for c in frame.columns)} FROM frame")
    rules = compile_suite(suite, parameters_for(DAY), column_types(con, "t"))
    shows = sorted({r.config["meta"]["show"] for r in rules if r.unexpected and r.config["meta"].get("show")})
    con.execute(f"CREATE TABLE f AS SELECT row_index, {', '.join([*shows, ''])}{flags_sql(rules)} FROM frame")
    outcome = summarise(con, suite, rules, "t", "f")
    table = con.sql("SELECT * FROM f ORDER BY row_index").to_arrow_table()
    rows = {name: table.column(name).to_pylist() for name in table.column_names}
    reasons = {}
    for i, index in enumerate(rows["row_index"]):
        if text := row_reasons_text(outcome.row_rules, rows, i):
            reasons[index] = text.split("; ")
    return reasons, outcome.table_failures


def by_gx(frame: pd.DataFrame, suite: str) -> tuple[dict[int, list[str]], list[str]]:
    outcome = validate(frame, suite, parameters_for(DAY))
    return {i: r for i, r in sorted(outcome.row_reasons.items())}, outcome.table_failures


def test_the_landing_suite_gives_the_same_reasons_in_sql_as_in_gx():
    frame = landing_frame()
    gx, sql = by_gx(frame, "landing"), by_sql(frame, "landing")
    assert sql == gx
    reasons, table_failures = gx
    assert table_failures == []
    passing = [{}, {"units": -10000.0}, {"unit_price": None, "unit_price_raw": None}]
    passing += [{"revenue": None, "revenue_raw": None}]
    assert set(reasons) == {i for i, change in enumerate(CHANGES) if change not in passing}
    assert "store_id contains a control character U+0007 (got 'S\\x0701')" in reasons[6]
    assert len(reasons[8]) == 3  # store with U+200B, item missing, units not a number: every reason, in order


@pytest.mark.parametrize("rows", [4, 0], ids=["out-of-range-and-duplicate-keys", "empty"])
def test_the_sales_daily_suite_gives_the_same_verdict_in_sql_as_in_gx(rows):
    frame = daily_frame(rows)
    assert by_sql(frame, "sales_daily") == by_gx(frame, "sales_daily")


def test_a_type_the_contract_does_not_allow_is_a_table_failure_in_both():
    frame = daily_frame().astype({"units": "int64"})
    sql, gx = by_sql(frame, "sales_daily"), by_gx(frame, "sales_daily")
    assert sql[1] == gx[1] == ["units is not float64 (observed int64)"]


def test_an_expectation_without_a_translation_is_refused(monkeypatch):
    spec = load_suite_spec("landing")
    spec["expectations"].append({"type": "expect_column_mean_to_be_between", "kwargs": {"column": "units"}})
    monkeypatch.setattr("salescast.suite_sql.load_suite_spec", lambda name: spec)
    with pytest.raises(UntranslatedExpectation, match="expect_column_mean_to_be_between"):
        compile_suite("landing", parameters_for(DAY), {})


def test_the_id_rule_reaches_sql_as_the_same_character_set():
    con = duckdb.connect()
    sample = [chr(c) for c in (*range(0x2100), *range(0xFE00, 0x10000), *range(0xE0000, 0xE0100))]
    pattern = ids.re2_pattern()
    sql = "SELECT regexp_matches(c, ?) FROM unnest(?::VARCHAR[]) WITH ORDINALITY t(c, n) ORDER BY n"
    got = [r[0] for r in con.execute(sql, [pattern, sample]).fetchall()]
    assert got == [ids.kind_of(c) is not None for c in sample]
