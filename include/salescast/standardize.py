"""Map parsed files onto canonical landing rows, and aggregate accepted rows to daily sales.

Values are converted here but never judged: a value that does not convert becomes null
next to its original text, and the Great Expectations suite decides what is bad and why.
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd

from salescast.parsing import LINE, ParsedFile

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
    "unit_price",
    "excluded",
    "duplicate_of",
    "conflicting_key",
    "raw",
]
SALES_DAILY_COLUMNS = ["date", "store_id", "item_id", "units", "revenue", "source_rows"]


def _text(values: pd.Series) -> pd.Series:
    """Strip text; empty strings become null so 'missing' has one meaning."""
    stripped = values.astype("string").str.strip()
    stripped = stripped.mask(stripped == "")
    return stripped.astype(object).where(stripped.notna(), None)


def _number(values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(_text(values), errors="coerce").astype("float64")
    return numbers.where(np.isfinite(numbers))


def _dates(values: pd.Series, formats: tuple[str, ...]) -> pd.Series:
    """ISO date strings from the first format that parses each value; null when none does."""
    text = _text(values)
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    for fmt in formats:
        missing = parsed.isna() & text.notna()
        if not missing.any():
            break
        attempt = pd.to_datetime(text[missing], format=fmt, errors="coerce")
        parsed.loc[missing] = attempt.astype("datetime64[us]")
    return parsed.dt.strftime("%Y-%m-%d").astype(object).where(parsed.notna(), None)


def landing_rows(parsed: ParsedFile) -> pd.DataFrame:
    """One canonical row per data record of the file, with the original record as JSON."""
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
    out["date"] = _dates(column(date_col), mapping.date_formats)
    out["store_id"] = _text(column("store_id"))
    item = _text(column("item_id"))
    out["item_id"] = item.str.upper().where(item.notna(), None) if mapping.aggregate else item
    out["units_raw"] = _text(column("units"))
    out["units"] = _number(column("units"))
    out["unit_price"] = _number(column("unit_price"))
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
    grouped["revenue"] = groups["revenue"].sum(min_count=1)  # all-null stays null, not 0
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


def partition_day(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
