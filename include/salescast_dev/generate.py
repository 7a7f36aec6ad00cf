"""Synthetic retail sales that behave like the real thing, written as daily landing files.

Each store x item series has its own level, trend, weekly and yearly seasonality, holiday
spikes, week-long promotions, slow movers with many zero days, and returns. A day's values
depend only on (seed, day), so generating one day or a year that contains it gives the
same numbers. ``--defects`` mixes in the bad rows and bad files real feeds send.
"""

from __future__ import annotations

import gzip
import io
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

COUNTRIES = [
    "United Kingdom", "Germany", "France", "EIRE", "Spain", "Netherlands", "Belgium", "Switzerland",
    "Portugal", "Australia", "Norway", "Italy", "Channel Islands", "Finland", "Cyprus", "Sweden",
    "Austria", "Denmark", "Japan", "Poland", "USA", "Israel", "Singapore", "Iceland", "Canada",
]  # fmt: skip
WORDS = [
    "WHITE", "HANGING", "HEART", "T-LIGHT", "HOLDER", "CREAM", "CUPID", "HEARTS", "COAT", "HANGER",
    "KNITTED", "UNION", "FLAG", "HOT", "WATER", "BOTTLE", "RED", "WOOLLY", "JUMBO", "BAG", "LUNCH",
    "BOX", "VINTAGE", "PAISLEY", "REGENCY", "CAKESTAND", "TIER", "LANTERN", "GLASS", "STAR",
]  # fmt: skip
EPOCH = date(2020, 1, 1)


def black_friday(year: int) -> date:
    first = date(year, 11, 1)
    first_friday = first + timedelta(days=(4 - first.weekday()) % 7)
    return first_friday + timedelta(weeks=3)


def holiday_multiplier(day: date) -> float:
    """Demand multiplier for retail holidays (closures are modelled as near-zero trading)."""
    fixed = {(12, 24): 1.8, (12, 23): 1.5, (12, 26): 1.6, (12, 31): 1.3, (1, 1): 0.35, (12, 25): 0.08, (7, 4): 1.25}
    if day == black_friday(day.year):
        return 2.6
    if day == black_friday(day.year) + timedelta(days=3):  # cyber Monday
        return 1.5
    return fixed.get((day.month, day.day), 1.0)


@dataclass(frozen=True)
class PanelSpec:
    """Which series exist and how each behaves; everything derives from the seed."""

    stores: int
    items: int
    seed: int = 42
    fmt: str = "daily"

    def __post_init__(self) -> None:
        if self.stores < 1 or self.items < 1:
            raise ValueError("need at least one store and one item")
        if self.fmt not in ("daily", "pos"):
            raise ValueError(f"format must be 'daily' or 'pos', not {self.fmt!r}")
        if self.fmt == "pos" and self.stores > len(COUNTRIES):
            raise ValueError(f"pos format names stores by country: at most {len(COUNTRIES)} stores")

    @cached_property
    def store_ids(self) -> list[str]:
        if self.fmt == "pos":
            return COUNTRIES[: self.stores]
        return [f"S{i + 1:02d}" for i in range(self.stores)]

    @cached_property
    def item_ids(self) -> list[str]:
        if self.fmt == "pos":
            letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
            return [
                f"{20000 + 137 * i:05d}{letters[i % len(letters)] if i % 3 == 0 else ''}" for i in range(self.items)
            ]
        return [f"I{i + 1:04d}" for i in range(self.items)]

    @cached_property
    def params(self) -> dict[str, np.ndarray]:
        rng = np.random.default_rng([self.seed, 0])
        store_level = rng.lognormal(0.0, 0.35, self.stores)
        item_level = rng.lognormal(1.2, 0.9, self.items)
        slow = rng.random(self.items) < 0.2
        item_level[slow] = rng.uniform(0.05, 0.6, slow.sum())
        level = np.outer(store_level, item_level).ravel()
        n = level.size
        weekday = np.array([0.85, 0.8, 0.85, 0.95, 1.15, 1.45, 1.2])
        store_weekly = weekday[None, :] * rng.lognormal(0.0, 0.06, (self.stores, 7))
        return {
            "level": level,
            "trend": rng.normal(0.05, 0.15, n),  # relative change per year
            "weekly": np.repeat(store_weekly, self.items, axis=0),
            "yearly_amp": rng.uniform(0.05, 0.35, n),
            "yearly_phase": rng.uniform(-20, 20, n),
            "price": np.round(np.tile(rng.lognormal(1.2, 0.6, self.items), self.stores), 2),
            "return_rate": rng.uniform(0.005, 0.04, n),
            "dispersion": rng.uniform(3.0, 12.0, n),
        }

    @property
    def n_series(self) -> int:
        return self.stores * self.items


def _promo_active(spec: PanelSpec, day: date) -> np.ndarray:
    """Week-long promotions per item, the same in every store, decided per ISO week."""
    iso_year, iso_week, _ = day.isocalendar()
    rng = np.random.default_rng([spec.seed, 1, iso_year, iso_week])
    item_promo = rng.random(spec.items) < 0.06
    return np.tile(item_promo, spec.stores)


def simulate_day(spec: PanelSpec, day: date) -> pd.DataFrame:
    """Net units and revenue of every series on ``day`` (rows with zero sales included)."""
    p = spec.params
    t = (day - EPOCH).days
    doy = day.timetuple().tm_yday
    yearly = 1 + p["yearly_amp"] * np.sin(2 * math.pi * (doy - 80 + p["yearly_phase"]) / 365.25)
    yearly += 0.6 * p["yearly_amp"] * math.exp(-(((doy - 350) / 12.0) ** 2))  # December run-up
    trend = np.clip(1 + p["trend"] * t / 365.25, 0.2, None)
    promo = _promo_active(spec, day)
    mu = p["level"] * trend * p["weekly"][:, day.weekday()] * yearly * holiday_multiplier(day)
    mu = mu * np.where(promo, 1.7, 1.0)
    rng = np.random.default_rng([spec.seed, 2, day.toordinal()])
    lam = rng.gamma(p["dispersion"], mu / p["dispersion"])
    sold = rng.poisson(lam)
    returned = rng.poisson(mu * p["return_rate"])
    price = np.round(p["price"] * np.where(promo, 0.8, 1.0), 2)
    units = sold - returned
    return pd.DataFrame(
        {
            "date": day,
            "store_id": np.repeat(spec.store_ids, spec.items),
            "item_id": np.tile(spec.item_ids, spec.stores),
            "units": units.astype(float),
            "sold": sold,
            "returned": returned,
            "price": price,
            "revenue": np.round(units * price, 2),
            "promo": promo,
        }
    )


def simulate_panel(spec: PanelSpec, start: date, end: date) -> pd.DataFrame:
    """Canonical daily rows for every day in [start, end], zeros included; for benchmarks."""
    days = pd.date_range(start, end, freq="D").date
    frames = [simulate_day(spec, d)[["date", "store_id", "item_id", "units", "revenue"]] for d in days]
    return pd.concat(frames, ignore_index=True)


# ---- landing files ---------------------------------------------------------------------


def _write_atomic(path: Path, data: bytes) -> None:
    """Write beside the target and rename, as a well-behaved source would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _csv_bytes(frame: pd.DataFrame, gz: bool = False) -> bytes:
    text = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    return gzip.compress(text, mtime=0) if gz else text


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return buffer.getvalue()


def _inject_row_defects(
    frame: pd.DataFrame, rng: np.random.Generator, day: date, kinds: dict[str, str]
) -> pd.DataFrame:
    """Corrupt about 1.5% of rows, one defect kind each; ``kinds`` names the columns to hit."""
    if frame.empty:
        return frame
    frame = frame.astype(object).copy()
    n = len(frame)
    hit = rng.random(n) < 0.015
    choices = rng.choice(list(kinds), size=n)
    for i in np.flatnonzero(hit):
        kind, column = choices[i], kinds[choices[i]]
        if kind == "null_store" or kind == "null_item":
            frame.iat[i, frame.columns.get_loc(column)] = None
        elif kind == "bad_number":
            frame.iat[i, frame.columns.get_loc(column)] = rng.choice(["12x", "n/a", "1O", "--"])
        elif kind == "wrong_date":
            value = frame.iat[i, frame.columns.get_loc(column)]
            shifted = day - timedelta(days=1)
            frame.iat[i, frame.columns.get_loc(column)] = str(value).replace(day.isoformat(), shifted.isoformat())
    dupes = frame[rng.random(n) < 0.005]
    return pd.concat([frame, dupes], ignore_index=True)


def _daily_files(spec: PanelSpec, day: date, defects: bool, rng: np.random.Generator) -> dict[str, bytes]:
    sales = simulate_day(spec, day)
    sales = sales[(sales["sold"] > 0) | (sales["returned"] > 0)]  # POS exports list what moved
    files: dict[str, bytes] = {}
    for index, (store, rows) in enumerate(sales.groupby("store_id", sort=True)):
        out = rows[["store_id", "item_id", "units", "revenue"]].copy()
        out.insert(0, "date", day.isoformat())
        out["units"] = out["units"].astype(int)
        kind = index % 3
        if defects:
            targets = {"null_store": "store_id", "null_item": "item_id", "wrong_date": "date"}
            if kind != 2:  # parquet keeps numeric types, so only text files get unparseable numbers
                targets["bad_number"] = "units"
            out = _inject_row_defects(out, rng, day, targets)
        if kind == 0:
            files[f"store_{store}.csv"] = _csv_bytes(out)
        elif kind == 1:
            files[f"store_{store}.csv.gz"] = _csv_bytes(out, gz=True)
        else:
            typed = out.assign(date=pd.to_datetime(out["date"], errors="coerce").dt.date)
            files[f"store_{store}.parquet"] = _parquet_bytes(typed)
    return files


def _pos_lines(spec: PanelSpec, day: date, rng: np.random.Generator) -> pd.DataFrame:
    """Invoice lines whose daily sums per (Country, StockCode) equal the simulated sales."""
    sales = simulate_day(spec, day)
    lines: list[tuple] = []
    descriptions = {
        item: " ".join(np.random.default_rng([spec.seed, 3, i]).choice(WORDS, 3))
        for i, item in enumerate(spec.item_ids)
    }
    base = (day - EPOCH).days * 1000
    for s_index, (store, rows) in enumerate(sales.groupby("store_id", sort=False)):
        moved = rows[(rows["sold"] > 0) | (rows["returned"] > 0)]
        n_invoices = max(1, int(moved["sold"].sum() // 12))
        invoice_ids = [f"{5_000_000 + base + s_index * 40 + j % 40}" for j in range(n_invoices)]
        times = sorted(
            datetime(day.year, day.month, day.day, 8) + timedelta(seconds=int(s))
            for s in rng.integers(0, 12 * 3600, n_invoices)
        )
        customers = [f"{c}.0" if rng.random() > 0.25 else "" for c in rng.integers(12346, 18288, n_invoices)]
        for row in moved.itertuples(index=False):
            if row.sold > 0:
                k = int(min(row.sold, 1 + rng.poisson(row.sold / 8)))
                quantities = 1 + rng.multinomial(row.sold - k, np.full(k, 1 / k))
                for q in quantities:
                    j = int(rng.integers(n_invoices))
                    lines.append(
                        (
                            invoice_ids[j],
                            row.item_id,
                            descriptions[row.item_id],
                            int(q),
                            times[j],
                            row.price,
                            customers[j],
                            store,
                        )
                    )
            if row.returned > 0:
                j = int(rng.integers(n_invoices))
                lines.append(
                    (
                        "C" + invoice_ids[j],
                        row.item_id,
                        descriptions[row.item_id],
                        -int(row.returned),
                        times[j],
                        row.price,
                        customers[j],
                        store,
                    )
                )
        if rng.random() < 0.3:
            lines.append((invoice_ids[0], "POST", "POSTAGE", 1, times[0], 18.0, customers[0], store))
    frame = pd.DataFrame(
        lines,
        columns=["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"],
    )
    frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    return frame.sort_values(["InvoiceDate", "Invoice"], kind="stable").reset_index(drop=True)


def _pos_files(spec: PanelSpec, day: date, defects: bool, rng: np.random.Generator) -> dict[str, bytes]:
    lines = _pos_lines(spec, day, rng)
    if defects:
        lines = _inject_row_defects(
            lines,
            rng,
            day,
            {"null_store": "Country", "null_item": "StockCode", "bad_number": "Quantity", "wrong_date": "InvoiceDate"},
        )
    return {f"invoices_{day.isoformat()}.csv": _csv_bytes(lines)}


def _bad_file(kind: str, fmt: str) -> tuple[str, bytes]:
    header = (
        "date,store_id,item_id,units,revenue\n"
        if fmt == "daily"
        else "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
    )
    if kind == "empty":
        return "late_export_empty.csv", b""
    if kind == "header_only":
        return "late_export_header_only.csv", header.encode()
    return "late_export_wrong_columns.csv", b"sku;qty;when\nA1;3;yesterday\n"


def write_landing(
    spec: PanelSpec,
    start: date,
    end: date,
    out: Path,
    defects: bool = False,
    bad_file_rate: float = 0.1,
    ready_marker: bool = True,
) -> dict[str, int]:
    """Write ``out/YYYY-MM-DD/<files>`` for every day; return counts for a summary line."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    totals = {"days": 0, "files": 0, "bad_files": 0}
    day = start
    while day <= end:
        rng = np.random.default_rng([spec.seed, 4, day.toordinal()])
        files = _pos_files(spec, day, defects, rng) if spec.fmt == "pos" else _daily_files(spec, day, defects, rng)
        if defects and rng.random() < bad_file_rate:
            name, data = _bad_file(str(rng.choice(["empty", "header_only", "wrong_columns"])), spec.fmt)
            files[name] = data
            totals["bad_files"] += 1
        folder = out / day.isoformat()
        for name, data in files.items():
            _write_atomic(folder / name, data)
        if ready_marker:
            _write_atomic(folder / "_READY", b"")
        totals["days"] += 1
        totals["files"] += len(files)
        day += timedelta(days=1)
    return totals
