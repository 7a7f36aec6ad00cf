"""Text that comes from data (store and item ids, model names) is shown literally in the report.

matplotlib reads ``$...$`` as math and fails on unknown commands (``$\\foo$``); HTML would
read ``<b>`` as markup. Neither may happen to an id a till happened to export.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from salescast.forecast.report import write_report

DAY = date(2025, 3, 31)
ODD_IDS = [("S1", "PROMO $\\foo$ pack"), ("<b>S2</b>", "50% $off_{x}^2$ & $\\n")]


def frames():
    days = pd.date_range("2025-03-01", DAY, freq="D")
    history = pd.DataFrame(
        [{"date": d.date(), "store_id": s, "item_id": i, "units": float(n % 5)} for n, d in enumerate(days)
         for s, i in ODD_IDS]
    )  # fmt: skip
    targets = pd.date_range("2025-04-01", periods=7, freq="D")
    forecasts = pd.DataFrame(
        [{"store_id": s, "item_id": i, "date": t.date(), "p10": 1.0, "p50": 2.0, "p90": 3.0, "model": "theta"}
         for s, i in ODD_IDS for t in targets]
    )  # fmt: skip
    metrics = pd.DataFrame(
        [{"store_id": s, "item_id": i, "model": "theta", "chosen": True, "mean_wql": 0.3 + k, "wape": 0.4,
          "coverage": 0.8} for k, (s, i) in enumerate(ODD_IDS)]
    )  # fmt: skip
    safety = pd.DataFrame(
        [{"store_id": s, "item_id": i, "model": "theta", "lead_time_demand": 14.0, "safety_stock": 3.0,
          "reorder_point": 17.0} for s, i in ODD_IDS]
    )  # fmt: skip
    scores = {"mean_wql": 0.3, "wape": 0.4, "coverage": 0.8}
    summary = {
        "series": 2, "horizon": 7, "freq": "D", "windows": 4, "model_mix": {"theta": 2},
        "backtest": {"bake_off": scores, "per_model": {"seasonal_naive": scores}},
        "safety_stock": {"target_service_level": 0.95, "achieved_service_level": 0.9, "lead_time": 7},
    }  # fmt: skip
    return history, forecasts, metrics, safety, summary


def test_ids_with_dollars_and_markup_are_drawn_and_escaped_literally(lake):
    history, forecasts, metrics, safety, summary = frames()
    page = write_report(lake, DAY, history, forecasts, metrics, safety, summary, 0, ["p10", "p50", "p90"])
    folder = Path(lake.reports_dir(DAY).path)
    assert page.endswith("index.html")
    pngs = sorted(p.name for p in folder.glob("*.png"))
    assert "largest_0.png" in pngs
    assert "worst_0.png" in pngs
    assert "model_mix.png" in pngs
    html = (folder / "index.html").read_text()
    assert "&lt;b&gt;S2&lt;/b&gt;" in html
    assert "<b>S2</b>" not in html
    assert "PROMO $\\foo$ pack" in html


def test_a_rejected_day_is_a_gap_in_the_report_not_zero_sales(lake):
    """A day ingest rejected has no published partition: unknown, drawn as a gap and named."""
    from salescast.forecast.report import daily_units

    history, forecasts, metrics, safety, summary = frames()
    rejected = date(2025, 3, 15)
    history = history[history["date"] != rejected]
    known = [d.date().isoformat() for d in pd.date_range("2025-03-01", DAY) if d.date() != rejected]
    write_report(lake, DAY, history, forecasts, metrics, safety, summary, 0, ["p10", "p50", "p90"], known)
    html = (Path(lake.reports_dir(DAY).path) / "index.html").read_text()
    assert "1 day(s) with no published sales" in html
    assert "2025-03-15" in html

    frame = history.assign(date=pd.to_datetime(history["date"]))
    days = pd.date_range("2025-03-01", DAY)
    daily = daily_units(frame, days, pd.DatetimeIndex(known))
    assert pd.isna(daily[pd.Timestamp(rejected)])  # unknown, not 0
    assert daily.drop(pd.Timestamp(rejected)).notna().all()
    silent = frame[frame["date"] != pd.Timestamp("2025-03-16")]  # published, nobody bought: 0
    assert daily_units(silent, days, pd.DatetimeIndex(known))[pd.Timestamp("2025-03-16")] == 0.0
