"""The Arrow standardisation of a batch writes what the pandas code wrote, value for value: the
quarantine's reasons and ``raw`` records, and the ids, must not change with the engine."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from salescast.ingest.parsing import parse_file
from salescast.ingest.standardize import clean_text, landing_rows, raw_json, to_number

POS_HEADER = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
TRICKY = [
    "plain",
    "",
    "   ",
    " padded\t",
    'quote " inside',
    "back\\slash",
    "new\nline",
    "nul\x00byte",
    "bell\x07",
    "Cafe\u0301",  # decomposed: composed to NFC
    "\u00a0nbsp\u00a0",
    "\u2028sep\u2029",
    "zero\u200bwidth",
    "\x1funit sep\x1f",
    "ß straße",
    "東京",
    "🛒",
    None,
]


def test_text_is_cleaned_as_pandas_strip_and_normalize_did():
    old = pd.Series(TRICKY, dtype=object).astype("string").str.strip().str.normalize("NFC")
    old = old.mask(old == "")
    old = old.astype(object).where(old.notna(), None).tolist()  # the pandas code's _text, step by step
    assert clean_text(pa.array(TRICKY, pa.string())).to_pylist() == old


def test_numbers_parse_as_pandas_to_numeric_did():
    texts = [
        "1",
        "2.50",
        "-3",
        "1e3",
        "+4",
        ".5",
        "5.",
        "12x",
        "n/a",
        "1,5",
        "inf",
        "-inf",
        "nan",
        "NaN",
        "0x10",
        None,
        "",
    ]
    old = pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce").astype("float64")
    old = old.where(np.isfinite(old)).tolist()
    got = to_number(pa.array(texts, pa.string())).to_pylist()
    assert [None if pd.isna(v) else v for v in old] == got


def test_the_raw_record_is_the_json_the_pandas_code_wrote():
    names = ["date", 'we"ird', "n\\ame", "Ünïcode"]
    rows = {name: [TRICKY[(i + k) % len(TRICKY)] for i in range(len(TRICKY))] for k, name in enumerate(names)}
    table = pa.table({name: pa.array(values, pa.string()) for name, values in rows.items()})
    expected = [json.dumps({n: rows[n][i] for n in names}, ensure_ascii=False, default=str) for i in range(len(TRICKY))]
    assert raw_json(table).to_pylist() == expected


def test_pos_item_codes_are_upper_cased_as_python_does():
    header = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
    line = "1,{},X,1,2025-03-03 08:00:00,2.5,1,UK\n"
    rows = landing_rows(parse_file("p.csv", (header + line.format("85123a") + line.format("straße")).encode()))
    assert rows["item_id"].tolist() == ["85123A", "STRASSE"]


# ---- day or month first: decided per file ---------------------------------------------------------


def pos_rows(day: date, *stamps: str) -> pd.DataFrame:
    lines = "".join(f"{i},85123A,X,1,{s},2.5,1,UK\n" for i, s in enumerate(stamps))
    return landing_rows(parse_file("p.csv", (POS_HEADER + lines).encode()), day)


def test_day_first_invoice_dates_follow_the_landing_folder():
    rows = pos_rows(date(2010, 12, 2), "02/12/2010 08:26", "02/12/2010 09:30")
    assert rows["date"].tolist() == ["2010-12-02", "2010-12-02"]
    rows = pos_rows(date(2010, 2, 12), "02/12/2010 08:26")
    assert rows["date"].tolist() == ["2010-02-12"]


def test_one_unambiguous_value_sets_the_order_for_the_whole_file():
    # 13/11 can only be day-first, so 02/12 in the same file is the 2nd of December, even
    # though the folder day (Feb 12) would have said otherwise: the file decides, not the value.
    rows = pos_rows(date(2010, 2, 12), "02/12/2010 08:26", "13/11/2010 09:00")
    assert rows["date"].tolist() == ["2010-12-02", "2010-11-13"]
