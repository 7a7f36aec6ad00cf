"""Map parsed files onto canonical landing rows, and aggregate accepted rows to daily sales.

Values are converted here but never judged: a value that does not convert becomes null
next to its original text, and the Great Expectations suite decides what is bad and why.
"""

from __future__ import annotations

import json
from datetime import date
from itertools import combinations

import numpy as np
import pandas as pd

from salescast.ingest.parsing import LINE, ParsedFile

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


def _text(values: pd.Series) -> pd.Series:
    """Strip text and compose Unicode (NFC), so "Café" typed two ways is one id; empty
    strings become null so 'missing' has one meaning."""
    stripped = values.astype("string").str.strip().str.normalize("NFC")
    stripped = stripped.mask(stripped == "")
    return stripped.astype(object).where(stripped.notna(), None)


def _number(values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(_text(values), errors="coerce").astype("float64")
    return numbers.where(np.isfinite(numbers))


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


def _dates(values: pd.Series, formats: tuple[str, ...], day: date | None = None) -> tuple[pd.Series, pd.Series]:
    """ISO date strings (null when no format reads a value) and a flag for values whose
    day/month order this file cannot settle. The order is chosen per file from all its
    values and the landing folder's day (:func:`_date_order`), never value by value."""
    text = _text(values)
    distinct = pd.Series(text.dropna().unique(), dtype=object)
    parsed = {
        fmt: pd.Series(pd.to_datetime(distinct, format=fmt, errors="coerce"), dtype="datetime64[us]") for fmt in formats
    }
    usable, ambiguous = _date_order(parsed, formats, day) if len(distinct) else (list(formats), distinct.isna())
    chosen = pd.Series(pd.NaT, index=distinct.index, dtype="datetime64[us]")
    for fmt in usable:
        chosen = chosen.fillna(parsed[fmt])
    chosen[ambiguous.to_numpy(dtype=bool)] = pd.NaT
    iso = dict(zip(distinct, chosen.dt.strftime("%Y-%m-%d"), strict=True))
    dates = text.map(iso).astype(object)
    unclear = distinct[ambiguous.to_numpy(dtype=bool)]
    return dates.where(dates.notna(), None), text.isin(unclear).astype(bool)


def landing_rows(parsed: ParsedFile, day: date | None = None) -> pd.DataFrame:
    """One canonical row per data record of the file, with the original record as JSON.

    ``day`` is the landing folder's day; it settles day/month order when the file cannot.
    Each number keeps the text it came from (``*_raw``), so validation can tell a value
    that is absent (allowed for revenue) from one that did not parse (never allowed)."""
    rows, cols, mapping = parsed.rows, parsed.columns, parsed.mapping
    original = [c for c in rows.columns if c != LINE]
    out = pd.DataFrame(index=rows.index)
    out["source_file"] = parsed.name
    out[LINE] = rows[LINE].astype("int64")
    out["source"] = mapping.name

    def column(canonical: str) -> pd.Series:
        if canonical in cols:
            return rows[cols[canonical]]
        return pd.Series([None] * len(rows), index=rows.index, dtype=object)

    date_col = "timestamp" if "timestamp" in cols else "date"
    out["date_raw"] = _text(column(date_col))
    out["date"], out["date_ambiguous"] = _dates(column(date_col), mapping.date_formats, day)
    out["store_id"] = _text(column("store_id"))
    item = _text(column("item_id"))
    out["item_id"] = item.str.upper().where(item.notna(), None) if mapping.aggregate else item
    out["units_raw"] = _text(column("units"))
    out["units"] = _number(column("units"))
    out["unit_price"] = _number(column("unit_price"))
    out["unit_price_raw"] = _checked_text(column("unit_price"), "unit_price" in cols, "unit_price" in mapping.required)
    out["revenue_raw"] = _checked_text(column("revenue"), "revenue" in cols, "revenue" in mapping.required)
    if "revenue" in cols:
        out["revenue"] = _number(column("revenue"))
    elif "unit_price" in cols:
        out["revenue"] = out["units"] * out["unit_price"]
    else:
        out["revenue"] = np.nan
    excluded = pd.Series([None] * len(rows), index=rows.index, dtype=object)
    if mapping.non_product_codes:
        is_fee = out["item_id"].map(lambda v: isinstance(v, str) and v in mapping.non_product_codes)
        excluded[is_fee] = "non-product line (stock code " + out.loc[is_fee, "item_id"].astype(str) + ")"
    out["excluded"] = excluded
    records = rows[original].to_dict(orient="records")
    out["raw"] = [json.dumps(r, ensure_ascii=False, default=str) for r in records]
    out["duplicate_of"] = None
    out["conflicting_key"] = False
    return out[LANDING_COLUMNS]


def _checked_text(values: pd.Series, present: bool, required: bool) -> pd.Series:
    """The text a number must parse from: null where nothing is to be checked (no such
    column, or an empty optional value), "" for an empty required value."""
    if not present:
        return pd.Series([None] * len(values), index=values.index, dtype=object)
    text = _text(values)
    return text.where(text.notna(), "" if required else None).astype(object)


def flag_day_level_problems(rows: pd.DataFrame, aggregating_sources: set[str]) -> pd.DataFrame:
    """Mark exact duplicates and, for one-row-per-key sources, rows that disagree on a key.

    Both need the whole day (a duplicate can sit in another file), so they are computed
    on the concatenated rows; the GX suite then turns the flags into quarantine reasons.
    """
    rows = rows.copy()
    candidates = rows["excluded"].isna()
    # Same content and same source format means the same record sent twice.
    dup_key = rows["source"].astype(str) + "\x1f" + rows["raw"].astype(str)
    first_seen: dict[str, str] = {}
    duplicate_of: list[str | None] = []
    for key, keep, file, line in zip(dup_key, candidates, rows["source_file"], rows[LINE], strict=True):
        if not keep:
            duplicate_of.append(None)
        elif key in first_seen:
            duplicate_of.append(first_seen[key])
        else:
            first_seen[key] = f"{file}:{line}"
            duplicate_of.append(None)
    rows["duplicate_of"] = pd.Series(duplicate_of, index=rows.index, dtype=object)
    keyed = candidates & rows["duplicate_of"].isna() & rows[KEY].notna().all(axis=1)
    keyed &= ~rows["source"].isin(aggregating_sources)
    counts = rows[keyed].groupby(KEY, dropna=True)[LINE].transform("size")
    rows["conflicting_key"] = False
    rows.loc[counts.index, "conflicting_key"] = counts > 1
    rows["conflicting_key"] = rows["conflicting_key"].astype(bool)
    return rows


def aggregate_daily(accepted: pd.DataFrame) -> pd.DataFrame:
    """Sum accepted landing rows to one row per (date, store_id, item_id), sorted for stable output."""
    if accepted.empty:
        frame = pd.DataFrame({c: pd.Series(dtype=t) for c, t in _DAILY_DTYPES.items()})
        return frame[SALES_DAILY_COLUMNS]
    groups = accepted.groupby(KEY, sort=True, dropna=False)
    grouped = groups.agg(units=("units", "sum"), source_rows=(LINE, "size"))
    # revenue is known only when every record summed into the row has it: a missing one
    # makes the day's revenue unknown (null), never silently smaller
    revenue = groups["revenue"].sum(min_count=1)
    grouped["revenue"] = revenue.where(groups["revenue"].count() == grouped["source_rows"])
    daily = grouped.reset_index()
    daily["date"] = pd.to_datetime(daily["date"], format="%Y-%m-%d").dt.date
    return daily.astype(_DAILY_DTYPES)[SALES_DAILY_COLUMNS]


_DAILY_DTYPES = {
    "date": object,
    "store_id": object,
    "item_id": object,
    "units": "float64",
    "revenue": "float64",
    "source_rows": "int64",
}
