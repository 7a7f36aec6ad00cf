"""The daily forecast report: one HTML page a planner opens, with matplotlib charts beside it.

``reports/run_date=D/index.html`` shows total history and the forecast band, the largest
and the worst-forecast series, the model mix, backtest accuracy against seasonal naive,
the safety-stock summary and the day's ingest quarantine count.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from salescast.lake import Lake


def _literal_text():
    """Draw every label as the characters it has: ids from data such as ``PROMO $\\foo$ pack``
    would otherwise be parsed as math text (and fail) or as TeX."""
    import matplotlib

    return matplotlib.rc_context({"text.parse_math": False, "text.usetex": False})


def _png(fig) -> bytes:  # noqa: ANN001 - matplotlib Figure
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _band_chart(history: pd.Series, forecast: pd.DataFrame, lo: str, mid: str, hi: str, title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with _literal_text():
        fig, ax = plt.subplots(figsize=(9, 3.2))
        ax.plot(history.index, history.values, color="#333", lw=1.2, label="actual")
        ax.fill_between(forecast.index, forecast[lo], forecast[hi], color="#4c8bf5", alpha=0.25, label=f"{lo}-{hi}")
        ax.plot(forecast.index, forecast[mid], color="#1a56c4", lw=1.5, label=mid)
        ax.set_title(title, fontsize=10)
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(alpha=0.3)
        fig.autofmt_xdate()
        return _png(fig)


def _bar_chart(values: dict[str, float], title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with _literal_text():
        fig, ax = plt.subplots(figsize=(5, 2.8))
        names = list(values)
        ax.barh(names, [values[n] for n in names], color="#4c8bf5")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3, axis="x")
        return _png(fig)


def _table(frame: pd.DataFrame) -> str:
    """An HTML table; cell text (ids from data) is escaped, never read as markup."""
    return frame.to_html(index=False, float_format=lambda v: f"{v:,.3f}", border=0, classes="t", escape=True)


def _fmt(value: Any, pattern: str = "{:.3f}") -> str:
    try:
        return pattern.format(float(value))
    except (TypeError, ValueError):
        return "n/a"


@dataclass(frozen=True)
class _Bands:
    """The quantile columns a chart draws: lower, middle and upper."""

    lo: str
    mid: str
    hi: str


def daily_units(rows: pd.DataFrame, all_days: pd.DatetimeIndex, known: pd.DatetimeIndex | None) -> pd.Series:
    """Units per day: 0 on a published day without a row (no sale), NaN on a day that was
    never published (rejected by ingest or missing), so a chart shows a gap, never a zero."""
    daily = rows.groupby("date")["units"].sum().reindex(all_days, fill_value=0.0)
    if known is not None:
        daily[~daily.index.isin(known)] = float("nan")
    return daily


def _series_charts(
    lake: Lake,
    folder: Any,
    history: pd.DataFrame,
    forecasts: pd.DataFrame,
    metrics: pd.DataFrame,
    bands: _Bands,
    known: pd.DatetimeIndex | None,
) -> tuple[list[tuple[str, str]], pd.DataFrame]:
    """Charts of the three largest series and the three worst-forecast busy ones."""
    all_days = pd.date_range(history["date"].min(), history["date"].max(), freq="D")
    volume = history.groupby(["store_id", "item_id"])["units"].sum().sort_values(ascending=False)
    largest = list(volume.index[:3])
    chosen = metrics[metrics["chosen"]].copy()
    scored = chosen.dropna(subset=["mean_wql"]) if "mean_wql" in chosen else chosen.iloc[0:0]
    scored = scored.merge(volume.rename("units").reset_index(), on=["store_id", "item_id"])
    worst = scored[scored["units"] >= scored["units"].quantile(0.5)].nlargest(3, "mean_wql") if len(scored) else scored
    images = []
    for kind, keys in (("largest", largest), ("worst", list(zip(worst["store_id"], worst["item_id"], strict=True)))):
        for i, (store, item) in enumerate(keys):
            rows = history[(history["store_id"] == store) & (history["item_id"] == item)]
            h = daily_units(rows, all_days, known)
            f = forecasts[(forecasts["store_id"] == store) & (forecasts["item_id"] == item)].set_index("date")
            model = f["model"].iloc[0] if len(f) else "?"
            name = f"{kind}_{i}.png"
            chart = _band_chart(h, f, bands.lo, bands.mid, bands.hi, f"{store} / {item} ({model})")
            lake.write_bytes(folder / name, chart)
            images.append((kind, name))
    return images, worst


def write_report(
    lake: Lake,
    day: date,
    history: pd.DataFrame,
    forecasts: pd.DataFrame,
    metrics: pd.DataFrame,
    safety: pd.DataFrame,
    summary: dict[str, Any],
    quarantined: int | None,
    quantiles: list[str],
    known_days: list[str] | None = None,
) -> str:
    """Write ``index.html`` and its PNGs under ``reports/run_date=D/``; return the page's URI.

    ``known_days`` are the published days; others in the range are drawn as gaps and listed."""
    folder = lake.reports_dir(day)
    bands = _Bands(quantiles[0], quantiles[len(quantiles) // 2], quantiles[-1])
    history = history.assign(date=pd.to_datetime(history["date"]))
    forecasts = forecasts.assign(date=pd.to_datetime(forecasts["date"]))
    all_days = pd.date_range(history["date"].min(), history["date"].max(), freq="D")
    known = pd.DatetimeIndex(pd.to_datetime(known_days)) if known_days is not None else None
    total_hist = daily_units(history, all_days, known)
    missing = [d.date().isoformat() for d in all_days if known is not None and d not in known]
    total_fc = forecasts.groupby("date")[[bands.lo, bands.mid, bands.hi]].sum()
    title = "All series: history and forecast (sum of series quantiles)"
    lake.write_bytes(folder / "total.png", _band_chart(total_hist, total_fc, bands.lo, bands.mid, bands.hi, title))
    images, worst = _series_charts(lake, folder, history, forecasts, metrics, bands, known)
    lake.write_bytes(folder / "model_mix.png", _bar_chart(summary.get("model_mix", {}), "Models chosen (series)"))
    page = _page(day, summary, safety, worst, images, quarantined, bands, missing)
    lake.write_text(folder / "index.html", page)
    return str(folder / "index.html")


def _missing_note(missing: list[str]) -> str:
    if not missing:
        return ""
    days = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
    return (
        f'<p class="missing">{len(missing)} day(s) with no published sales (rejected by ingest or not '
        f"delivered), drawn as gaps (training imputes them from the same weekday): {html.escape(days)}.</p>"
    )


def _page(
    day: date,
    summary: dict[str, Any],
    safety: pd.DataFrame,
    worst: pd.DataFrame,
    images: list[tuple[str, str]],
    quarantined: int | None,
    bands: _Bands,
    missing: list[str],
) -> str:
    """The report page; every text from data goes through ``html.escape`` or ``_table``."""
    lo, hi = bands.lo, bands.hi
    backtest = summary.get("backtest", {})
    bake, naive = backtest.get("bake_off", {}), backtest.get("per_model", {}).get("seasonal_naive", {})
    gain = 1 - bake["mean_wql"] / naive["mean_wql"] if bake.get("mean_wql") and naive.get("mean_wql") else None
    accuracy = pd.DataFrame(
        [
            {"model": name} | {k: v for k, v in scores.items() if k != "points"}
            for name, scores in [("bake-off (chosen per series)", bake), *sorted(backtest.get("per_model", {}).items())]
        ]
    )
    stock = summary.get("safety_stock", {})
    top_stock = safety.nlargest(10, "safety_stock")[
        ["store_id", "item_id", "model", "lead_time_demand", "safety_stock", "reorder_point"]
    ]
    worst_table = worst[["store_id", "item_id", "model", "mean_wql", "wape", "coverage"]] if len(worst) else worst
    headline = f"Backtest mean wQL {_fmt(bake.get('mean_wql'))} vs seasonal naive {_fmt(naive.get('mean_wql'))}" + (
        f" ({gain:+.1%} better)" if gain is not None else ""
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>salescast forecast {day}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}
.t td,.t th{{padding:3px 8px;border-bottom:1px solid #ddd}}
.kpi{{display:inline-block;margin:0 2em 1em 0}} .kpi b{{font-size:1.4em;display:block}}</style></head><body>
<h1>salescast forecast for {day}</h1>
<p>{html.escape(headline)}</p>
<div class="kpi"><b>{summary.get("series", 0)}</b>series</div>
<div class="kpi"><b>{summary.get("horizon")}</b>periods ahead ({html.escape(str(summary.get("freq")))})</div>
<div class="kpi"><b>{_fmt(bake.get("coverage"), "{:.0%}")}</b>{lo}-{hi} backtest coverage</div>
<div class="kpi"><b>{quarantined if quarantined is not None else "n/a"}</b>rows quarantined by today's ingest</div>
<h2>Total sales and forecast</h2><img src="total.png" alt="total history and forecast band">
{_missing_note(missing)}
<h2>Largest series</h2>{"".join(f'<img src="{n}" alt="largest series">' for k, n in images if k == "largest")}
<h2>Worst-forecast series (backtest mean wQL, among the busier half)</h2>{_table(worst_table)}
{"".join(f'<img src="{n}" alt="worst series">' for k, n in images if k == "worst")}
<h2>Model mix</h2><img src="model_mix.png" alt="model mix">
<p>Skipped candidates (did not converge or failed): {html.escape(str(summary.get("skipped_models", {})))}.
Fallbacks: {html.escape(str(summary.get("fallbacks", {})))}.</p>
<h2>Backtest accuracy ({summary.get("windows")} rolling windows)</h2>{_table(accuracy)}
<h2>Safety stock</h2>
<p>Target service level {_fmt(stock.get("target_service_level"), "{:.0%}")}, achieved in backtest
{_fmt(stock.get("achieved_service_level"), "{:.1%}")} (buffer from one window tested on the others), lead time
{stock.get("lead_time")} periods. Total safety stock {safety["safety_stock"].sum():,.0f} units.</p>
{_table(top_stock)}
</body></html>
"""
    return page
