"""A small daily sales history with item launches, and an item master over it, for the cold
start's tests (unit and DAG): established items, launches with a ramp, analogs with their own
weekly pattern, a discontinued item, in three stores of different size."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

END = pd.Timestamp("2025-04-30")
DAYS = 180
START = END - pd.Timedelta(days=DAYS - 1)
STORES = {"S1": 1.0, "S2": 0.5, "S3": 2.0}
WEEKLY = np.array([0.7, 0.7, 0.8, 0.9, 1.1, 1.6, 1.2])
# the analog A1 sells at the weekend above all: a new item shaped like it shows it
ANALOG_WEEKLY = np.array([0.3, 0.5, 0.8, 1.0, 1.2, 2.0, 1.2])
LAUNCH_DAYS = (30, 50, 70, 90, 110)  # L0..L4, days after START


def ramp(age_days: int) -> float:
    return min(1.0, 0.4 + 0.15 * (age_days // 7))


def _series(rng: np.random.Generator, store: str, item: str, level: float, start: int = 0,
            ramped: bool = True, weekly: np.ndarray = WEEKLY, days: int = DAYS) -> list[tuple]:  # fmt: skip
    out = []
    for k, day in enumerate(pd.date_range(START, periods=days)):
        if k >= start:
            mu = level * (ramp(k - start) if ramped else 1.0) * weekly[day.day_of_week]
            out.append((day.date(), store, item, float(rng.poisson(mu))))
    return out


def history(seed: int = 3, days: int = DAYS) -> pd.DataFrame:
    """Canonical daily rows from START for ``days`` days (zeros included)."""
    rng = np.random.default_rng(seed)
    rows: list[tuple] = []
    for store, size in STORES.items():
        for j in range(4):
            rows += _series(rng, store, f"E{j}", (8 + 4 * j) * size, ramped=False, days=days)
        rows += _series(rng, store, "A1", 20 * size, ramped=False, weekly=ANALOG_WEEKLY, days=days)
        for j, start in enumerate(LAUNCH_DAYS):
            rows += _series(rng, store, f"L{j}", 10 * size, start=start, days=days)
        rows += _series(rng, store, "A2", 30 * size, start=100, days=days)  # an analog launched in the history
        rows += _series(rng, store, "R1", 6 * size, start=DAYS - 10, days=days)  # launched 10 days before END
        rows += _series(rng, store, "D1", 12 * size, ramped=False, days=days)
    return pd.DataFrame(rows, columns=["date", "store_id", "item_id", "units"])


def item(item_id: str, launch: str, status: str = "active", analog: str | None = None,
         category: str = "snacks") -> dict:  # fmt: skip
    return {"item_id": item_id, "category": category, "subcategory": None, "brand": None,
            "launch_date": date.fromisoformat(launch), "status": status, "analog_item_id": analog}  # fmt: skip


def master() -> pd.DataFrame:
    """The items of :func:`history`, D1 discontinued, and new items N1..N5 with their analogs."""
    rows = [item(f"E{j}", "2020-01-01") for j in range(4)] + [item(f"L{j}", "2024-11-01") for j in range(5)]
    rows += [item("A1", "2020-01-01"), item("A2", "2025-02-10"), item("R1", "2025-04-21")]
    rows += [item("D1", "2020-01-01", status="discontinued")]
    rows += [item("N1", "2025-05-01", analog="A1"), item("N2", "2025-05-01", analog="A2")]
    rows += [item("N3", "2025-05-01", analog="R1"), item("N4", "2025-05-01", analog="GHOST")]
    rows += [item("N5", "2025-04-10")]
    return pd.DataFrame(rows)


def listings(rows: list[tuple[str, str, str]] | None = None) -> pd.DataFrame:
    """N1..N4 listed in S1..S3 on the day after END, unless ``rows`` says otherwise."""
    rows = rows if rows is not None else [(s, n, "2025-05-01") for s in STORES for n in ("N1", "N2", "N3", "N4")]
    frame = pd.DataFrame(rows, columns=["store_id", "item_id", "list_date"])
    frame["list_date"] = [date.fromisoformat(d) for d in frame["list_date"]]
    return frame
