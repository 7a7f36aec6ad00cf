"""Map batches of a parsed file onto canonical landing rows, in Arrow.

Values are converted here but never judged: a value that does not convert becomes null
next to its original text, and the GX ``landing`` suite decides what is bad and why.
Text is cleaned by Arrow kernels (Python only for the rare non-ASCII values), numbers by
pandas' own parser, so a batch costs a few microseconds per record and memory stays that
of one batch. A date needs the whole file (day or month first is decided per file from all
its values, :func:`date_map`), so batches carry ``date_raw`` and the day's table joins it
to the file's map.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import date
from itertools import combinations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salescast.ingest.parsing import LINE, LandingFile, ParsedFile

KEY = ["date", "store_id", "item_id"]
LANDING_COLUMNS = [
    "source_file",
    LINE,
    "source",
    "date",
    "date_raw",
    "store_id",
    "item_id",
    "units",
    "units_raw",
    "revenue",
    "revenue_raw",
    "unit_price",
    "unit_price_raw",
    "date_ambiguous",
    "excluded",
    "duplicate_of",
    "conflicting_key",
    "raw",
]
SALES_DAILY_COLUMNS = ["date", "store_id", "item_id", "units", "revenue", "source_rows"]
_TEXT, _NUMBER = pa.string(), pa.float64()
# What a batch holds: the landing columns known from one record alone, and where it came from.
# ``date``/``date_ambiguous`` (from the file's date map) and ``duplicate_of``/``conflicting_key``
# (from the whole day) are added by the day's table.
BATCH_SCHEMA = pa.schema(
    [
        ("file_index", pa.int32()),
        ("source_file", _TEXT),
        (LINE, pa.int64()),
        ("source", _TEXT),
        ("date_raw", _TEXT),
        ("store_id", _TEXT),
        ("item_id", _TEXT),
        ("units", _NUMBER),
        ("units_raw", _TEXT),
        ("revenue", _NUMBER),
        ("revenue_raw", _TEXT),
        ("unit_price", _NUMBER),
        ("unit_price_raw", _TEXT),
        ("excluded", _TEXT),
        ("raw", _TEXT),
    ]
)
DATE_MAP_SCHEMA = pa.schema(
    [("file_index", pa.int32()), ("date_raw", _TEXT), ("date", _TEXT), ("date_ambiguous", pa.bool_())]
)


def _nfc(values: pa.Array) -> pa.Array:
    """Unicode composed (NFC) by Python's ``unicodedata``, as before; ASCII text is NFC already,
    so only the non-ASCII values leave Arrow."""
    ascii_only = pc.fill_null(pc.string_is_ascii(values), True)
    if pc.all(ascii_only).as_py():
        return values
    mask = pc.invert(ascii_only)
    composed = [unicodedata.normalize("NFC", v) for v in pc.filter(values, mask).to_pylist()]
    return pc.replace_with_mask(values, mask, pa.array(composed, _TEXT))


def _upper(values: pa.Array) -> pa.Array:
    """Upper case as Python's ``str.upper`` ("ß" -> "SS"), Arrow for ASCII values."""
    ascii_only = pc.fill_null(pc.string_is_ascii(values), True)
    upper = pc.ascii_upper(values)
    if pc.all(ascii_only).as_py():
        return upper
    mask = pc.invert(ascii_only)
    return pc.replace_with_mask(upper, mask, pa.array([v.upper() for v in pc.filter(values, mask).to_pylist()], _TEXT))


def clean_text(values: pa.Array) -> pa.Array:
    """Strip text and compose Unicode (NFC), so "Café" typed two ways is one id; empty
    strings become null so 'missing' has one meaning. The strip is Arrow's
    ``utf8_trim_whitespace``, which pandas' ``str.strip`` ran before."""
    text = _nfc(pc.utf8_trim_whitespace(values))
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, _TEXT), text)


def to_number(text: pa.Array) -> pa.Array:
    """Floats by ``pandas.to_numeric`` (the parser the suite's reasons were written against);
    null where the text is no finite number."""
    numbers = pd.to_numeric(pd.Series(text.to_numpy(zero_copy_only=False), dtype=object), errors="coerce")
    values = numbers.astype("float64").to_numpy()
    return pa.array(np.where(np.isfinite(values), values, np.nan), _NUMBER, from_pandas=True)


def _checked_text(values: pa.Array | None, required: bool, length: int) -> pa.Array:
    """The text a number must parse from: null where nothing is to be checked (no such
    column, or an empty optional value), "" for an empty required value."""
    if values is None:
        return pa.nulls(length, _TEXT)
    text = clean_text(values)
    return pc.fill_null(text, "") if required else text


def _json_value(values: pa.Array) -> pa.Array:
    """Each value as ``json.dumps(value, ensure_ascii=False)`` writes it: Arrow escapes quotes and
    backslashes; the rare value with a control character goes through ``json`` itself."""
    special = pc.fill_null(pc.match_substring_regex(values, r'["\\\x00-\x1f]'), False)
    if not pc.any(special).as_py():  # the usual case: nothing to escape
        return pc.fill_null(pc.binary_join_element_wise('"', values, '"', ""), "null")
    escaped = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')
    quoted = pc.binary_join_element_wise('"', escaped, '"', "")
    controls = pc.fill_null(pc.match_substring_regex(values, r"[\x00-\x1f]"), False)
    if pc.any(controls).as_py():
        dumped = [json.dumps(v, ensure_ascii=False) for v in pc.filter(values, controls).to_pylist()]
        quoted = pc.replace_with_mask(quoted, controls, pa.array(dumped, _TEXT))
    return pc.fill_null(quoted, "null")


def raw_json(rows: pa.Table) -> pa.Array:
    """The original record as the JSON object of its text values, in the file's column order."""
    names = [n for n in rows.column_names if n != LINE]
    pieces: list = []
    for i, name in enumerate(names):
        pieces += [("{" if i == 0 else ", ") + json.dumps(name, ensure_ascii=False) + ": "]
        pieces += [_json_value(rows.column(name).combine_chunks())]
    return pc.binary_join_element_wise(*pieces, "}", "") if names else pa.array(["{}"] * rows.num_rows, _TEXT)


def landing_batch(file: LandingFile, rows: pa.Table, file_index: int) -> pa.Table:
    """Canonical landing columns (:data:`BATCH_SCHEMA`) of one batch of ``file``'s records."""
    cols, mapping, n = file.columns, file.mapping, rows.num_rows

    def column(canonical: str) -> pa.Array | None:
        return rows.column(cols[canonical]).combine_chunks() if canonical in cols else None

    def text(canonical: str) -> pa.Array:
        values = column(canonical)
        return pa.nulls(n, _TEXT) if values is None else clean_text(values)

    item = text("item_id")
    item_id = _upper(item) if mapping.aggregate else item
    units_raw = text("units")
    unit_price = to_number(text("unit_price"))
    out = {
        "file_index": pa.array(np.full(n, file_index, np.int32)),
        "source_file": pa.array([file.name] * n, _TEXT),
        LINE: rows.column(LINE).combine_chunks(),
        "source": pa.array([mapping.name] * n, _TEXT),
        "date_raw": text("timestamp" if "timestamp" in cols else "date"),
        "store_id": text("store_id"),
        "item_id": item_id,
        "units": to_number(units_raw),
        "units_raw": units_raw,
        "revenue": _revenue(column, text, to_number(units_raw), unit_price, n),
        "revenue_raw": _checked_text(column("revenue"), "revenue" in mapping.required, n),
        "unit_price": unit_price,
        "unit_price_raw": _checked_text(column("unit_price"), "unit_price" in mapping.required, n),
        "excluded": _excluded(item_id, mapping.non_product_codes, n),
        "raw": raw_json(rows),
    }
    return pa.table(out, schema=BATCH_SCHEMA)


def _revenue(column, text, units: pa.Array, unit_price: pa.Array, n: int) -> pa.Array:  # noqa: ANN001
    """Revenue as sent, else units x unit price (invoice lines), else unknown (null)."""
    if column("revenue") is not None:
        return to_number(text("revenue"))
    if column("unit_price") is not None:
        return pc.multiply(units, unit_price)
    return pa.nulls(n, _NUMBER)


def _excluded(item_id: pa.Array, codes: frozenset[str], n: int) -> pa.Array:
    """Why a record is not a product sale (postage, fees: the mapping's non-product codes)."""
    if not codes:
        return pa.nulls(n, _TEXT)
    fee = pc.is_in(item_id, value_set=pa.array(sorted(codes), _TEXT))
    reason = pc.binary_join_element_wise("non-product line (stock code ", item_id, ")", "")
    return pc.if_else(fee, reason, pa.scalar(None, _TEXT))


# ---- dates: decided per file -----------------------------------------------------------------


def _date_order(
    parsed: dict[str, pd.Series], formats: tuple[str, ...], day: date | None
) -> tuple[list[str], pd.Series]:
    """Decide, for one file, between formats that read the same text as different dates
    (``02/12/2010``: day-first or month-first). A value only one of them can read
    (``13/12/2010``) settles it for the whole file; without one, the format that puts the
    values on the landing folder's day wins (the first listed on a tie). A file with
    values that only one order can read *and* values that only the other can read has no
    single order: its values both could read are returned as ambiguous.

    ``parsed`` maps each format to its reading of the file's distinct values."""
    usable = list(formats)
    index = next(iter(parsed.values())).index
    ambiguous = pd.Series(False, index=index)
    for first, second in combinations(formats, 2):
        a, b = parsed[first], parsed[second]
        differ = a.notna() & b.notna() & (a != b)
        if not differ.any() or first not in usable or second not in usable:
            continue
        only_a, only_b = (a.notna() & b.isna()).any(), (b.notna() & a.isna()).any()
        if only_a and only_b:
            ambiguous |= differ
            continue
        if not only_a and not only_b and day is not None:
            target = pd.Timestamp(day)
            on_day_a = int((a[differ].dt.normalize() == target).sum())
            on_day_b = int((b[differ].dt.normalize() == target).sum())
            only_b = on_day_b > on_day_a
        usable.remove(first if only_b else second)
    return usable, ambiguous


def date_map(texts: set[str], formats: tuple[str, ...], day: date | None, file_index: int = 0) -> pa.Table:
    """Every distinct date text of one file -> its ISO date (null when no format reads it, or
    its day/month order is unclear) and whether it is ambiguous. The order is chosen per file
    from all its values and the landing folder's day (:func:`_date_order`), never value by value."""
    distinct = pd.Series(sorted(texts), dtype=object)
    parsed = {
        fmt: pd.Series(pd.to_datetime(distinct, format=fmt, errors="coerce"), dtype="datetime64[us]") for fmt in formats
    }
    usable, ambiguous = _date_order(parsed, formats, day) if len(distinct) else (list(formats), distinct.isna())
    chosen = pd.Series(pd.NaT, index=distinct.index, dtype="datetime64[us]")
    for fmt in usable:
        chosen = chosen.fillna(parsed[fmt])
    unclear = ambiguous.to_numpy(dtype=bool)
    chosen[unclear] = pd.NaT
    iso = chosen.dt.strftime("%Y-%m-%d")
    return pa.table(
        {
            "file_index": pa.array(np.full(len(distinct), file_index, np.int32)),
            "date_raw": pa.array(distinct.tolist(), _TEXT),
            "date": pa.array([v if isinstance(v, str) else None for v in iso], _TEXT),
            "date_ambiguous": pa.array(unclear, pa.bool_()),
        },
        schema=DATE_MAP_SCHEMA,
    )


def distinct_texts(values: pa.Array) -> set[str]:
    return {v for v in pc.unique(values).to_pylist() if v is not None}


def landing_rows(parsed: ParsedFile, day: date | None = None) -> pd.DataFrame:
    """One canonical row per data record of a whole file in memory (tests, small files): the
    pipeline's batch code, with the file's date map joined and no day-level flags."""
    assert parsed.file is not None, "a ParsedFile from parse_file()"
    tables = [landing_batch(parsed.file, b.rows, 0) for b in parsed.file.batches()]
    batch = pa.concat_tables(tables) if tables else BATCH_SCHEMA.empty_table()
    dates = date_map(distinct_texts(batch.column("date_raw").combine_chunks()), parsed.mapping.date_formats, day)
    out = pd.DataFrame({n: batch.column(n).to_pylist() for n in batch.column_names}, dtype=object)
    lookup = dict(zip(dates.column("date_raw").to_pylist(), dates.column("date").to_pylist(), strict=True))
    unclear = {t for t, a in zip(dates.column("date_raw").to_pylist(), dates.column("date_ambiguous").to_pylist(),
                                 strict=True) if a}  # fmt: skip
    out["date"] = [lookup.get(t) for t in out["date_raw"]]
    out["date_ambiguous"] = [t in unclear for t in out["date_raw"]]
    out["duplicate_of"], out["conflicting_key"] = None, False
    out[LINE] = out[LINE].astype("int64")
    for number in ("units", "revenue", "unit_price"):
        out[number] = out[number].astype("float64")
    return out[LANDING_COLUMNS]
