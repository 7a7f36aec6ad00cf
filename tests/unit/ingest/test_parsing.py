"""Reading landing files: every way a file can be unusable gets its own specific reason."""

from __future__ import annotations

import gzip
import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from salescast.ingest.parsing import UnreadableFile, parse_file

DAILY = b"date,store_id,item_id,units,revenue\n2025-03-01,S01,I0001,3,9.0\n2025-03-01,S01,I0002,1,2.5\n"
HEADER = "date,store_id,item_id,units,revenue\n"
POS_HEADER = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"


def reason_of(name: str, data: bytes) -> str:
    with pytest.raises(UnreadableFile) as caught:
        parse_file(name, data)
    return caught.value.reason


def test_daily_csv_keeps_values_as_text_with_line_numbers():
    parsed = parse_file("a.csv", DAILY)
    assert parsed.mapping.name == "daily"
    assert parsed.records == 2
    assert parsed.rows["units"].tolist() == ["3", "1"]
    assert parsed.rows["line_number"].tolist() == [2, 3]


def test_pos_header_is_recognised_including_online_retail_one_aliases():
    parsed = parse_file(
        "p.csv", (POS_HEADER + "536365,85123A,X,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n").encode()
    )
    assert parsed.mapping.name == "pos_invoice_lines"
    legacy = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    parsed = parse_file("old.csv", (legacy + "536365,85123A,X,6,12/1/2010 8:26,2.55,17850,France\n").encode())
    assert parsed.mapping.name == "pos_invoice_lines"
    assert parsed.columns["unit_price"] == "UnitPrice"


def test_gzip_and_parquet_are_read_like_csv():
    assert parse_file("a.csv.gz", gzip.compress(DAILY)).records == 2
    frame = pd.DataFrame(
        {"date": pd.to_datetime(["2025-03-01"]).date, "store_id": ["S1"], "item_id": ["I1"], "units": [4]}
    )
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    parsed = parse_file("a.parquet", buffer.getvalue())
    assert parsed.rows.loc[0, "date"] == "2025-03-01"
    assert parsed.rows.loc[0, "units"] == "4"


def test_windows_1252_text_is_not_an_error():
    data = "date,store_id,item_id,units\n2025-03-01,Caf\xe9,I1,1\n".encode("latin-1")
    assert parse_file("a.csv", data).rows.loc[0, "store_id"] == "Café"


def test_malformed_records_are_reported_with_their_line():
    parsed = parse_file("a.csv", DAILY + b"2025-03-01,S01,I0003\n\n2025-03-01,S01,I0004,2,1.0\n")
    assert parsed.records == 4
    assert len(parsed.malformed) == 1
    assert parsed.malformed[0].line_number == 4
    assert "3 fields where the header has 5" in parsed.malformed[0].reason


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("a.csv", b"", "empty file (0 bytes)"),
        ("a.csv", b"\n\n", "no header row"),
        ("a.csv.gz", b"not gzip at all", "not a valid gzip file"),
        ("a.csv.gz", gzip.compress(b""), "empty file (0 bytes after decompression)"),
        ("a.parquet", b"PAR1garbage", "not a valid Parquet file"),
        ("a.xlsx", b"PK\x03\x04", "unsupported file type"),
        ("a.csv", b"sku;qty;when\nA1;3;yesterday\n", "unrecognised columns ['sku', 'qty', 'when']"),
        ("a.csv", b"date,store_id,item_id,units,units\n", "duplicate column names"),
    ],
)
def test_unreadable_files_get_a_specific_reason(name, data, expected):
    assert expected in reason_of(name, data)


def test_wrong_columns_reason_says_what_was_expected():
    reason = reason_of("a.csv", b"day_of_sale,shop,qty\n2025-03-01,S1,3\n")
    assert "date, store_id, item_id, units (daily)" in reason
    assert "Invoice, StockCode, Quantity, InvoiceDate, Price, Country (pos_invoice_lines)" in reason


def test_header_only_file_is_readable_with_no_records():
    parsed = parse_file("a.csv", b"date,store_id,item_id,units\n")
    assert parsed.records == 0


# ---- bad input (issue 11): the reason names the file or column and says what to do ----------------


def test_a_lone_sales_column_is_rejected_saying_which_column_to_rename():
    reason = reason_of("a.csv", b"date,store,sku,sales\n2025-03-03,S1,A,2\n")
    assert "'sales'" in reason
    assert "money or units" in reason
    assert "rename it to 'units'" in reason


@pytest.mark.parametrize(
    ("header", "columns"),
    [
        ("date,store_id,item_id,units,qty", ("'units'", "'qty'")),
        ("date,store_id,item_id,qty,revenue,sales", ("'revenue'", "'sales'")),
    ],
)
def test_two_columns_with_the_same_meaning_are_rejected(header, columns):
    reason = reason_of("a.csv", (header + "\n").encode())
    assert all(c in reason for c in columns), reason
    assert "keep one" in reason


def test_a_file_mixing_utf8_and_windows_1252_is_rejected_with_the_line():
    data = (HEADER + "2025-03-03,Café,A,1,2.0\n").encode("utf-8") + "2025-03-03,Café,B,1,2.0\n".encode("cp1252")
    reason = reason_of("mixed.csv", data)
    assert "mixes UTF-8 and another encoding" in reason
    assert "line 3" in reason
    assert "save" in reason.lower()
    assert "UTF-8" in reason


def test_bytes_no_known_encoding_can_decode_are_rejected():
    reason = reason_of("x.csv", HEADER.encode() + b"2025-03-03,S\x81,A,1,2.0\n")
    assert "neither UTF-8 nor Windows-1252" in reason
    assert "line 2" in reason


@pytest.mark.parametrize(
    "data",
    [
        (HEADER + "2025-03-03,S1,A,1,2.0\n").encode("utf-16-le"),
        b"PK\x03\x04\x14\x00\x06\x00" + HEADER.encode(),
        HEADER.encode() + b"2025-03-03,S\x00\x00\x00\x00,A,1,2.0\n",
    ],
    ids=["utf16-without-bom", "binary-header", "nul-in-over-1%-of-the-text"],
)
def test_files_of_nul_bytes_are_refused(data):
    """A NUL in the header or in many characters is not text; a stray NUL in a record is that
    record's problem (tests/unit/test_ids.py)."""
    reason = reason_of("x.csv", data)
    assert "contains NUL bytes" in reason
    assert "UTF-8" in reason


def test_utf16_with_bom_is_read():
    parsed = parse_file("u16.csv", (HEADER + "2025-03-03,Café,A,1,2.0\n").encode("utf-16"))
    assert parsed.rows.loc[0, "store_id"] == "Café"


def test_unrecognised_columns_say_which_delimiter_was_used():
    reason = reason_of("a.csv", b"sku;qty;when\nA1;3;yesterday\n")
    assert "unrecognised columns ['sku', 'qty', 'when']" in reason
    assert "delimiter ';'" in reason
