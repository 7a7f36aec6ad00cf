"""The engine with drivers, on series whose right answer is known: a promotion's lift, demand
hidden by stock-outs, drivers that stop early, closed days, and drivers that change nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salescast.forecast.engine import ForecastConfig, run_forecast

WEEK = np.array([0.8, 0.9, 1.0, 1.0, 1.1, 1.4, 1.3])
H = 7


def promo_series(lift: float, days: int = 560, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """One series whose promotion weeks (about one in five) sell ``lift`` times the usual;
    the horizon is a promotion week. Returns history, drivers and the horizon's base demand."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-01", periods=days + H, freq="D")
    promo = np.zeros(len(dates))
    for start in range(10, days - 7, 35):
        promo[start + int(rng.integers(0, 14)) :][:7] = 1.0
    promo[-H:] = 1.0
    base = 20.0 * WEEK[dates.day_of_week]
    units = rng.poisson(base * np.where(promo == 1, lift, 1.0)).astype(float)
    history = pd.DataFrame({"date": dates[:days], "store_id": "S1", "item_id": "I1", "units": units[:days]})
    drivers = pd.DataFrame({"date": dates, "store_id": "S1", "item_id": "*", "promo": promo})
    return history, drivers, base[-H:]


def test_a_future_promotion_week_is_forecast_with_the_lift_seen_in_past_ones():
    history, drivers, base = promo_series(lift=1.6)
    cfg = ForecastConfig(horizon=H)
    with_promo = run_forecast(history, cfg, drivers=drivers)
    removed = drivers.assign(promo=np.where(drivers["date"] > history["date"].max(), 0.0, drivers["promo"]))
    without_promo = run_forecast(history, cfg, drivers=removed)
    lifted, plain = with_promo.forecasts["p50"].sum(), without_promo.forecasts["p50"].sum()
    assert lifted / plain == pytest.approx(1.6, abs=0.15)
    assert lifted / (1.6 * base.sum()) == pytest.approx(1.0, abs=0.1)
    assert plain / base.sum() == pytest.approx(1.0, abs=0.1)
    chosen = with_promo.metrics[with_promo.metrics["chosen"]].iloc[0]
    assert chosen["model"].endswith("_drivers")
    assert chosen["reason"].endswith("drivers used: promo")
    # the same sales without drivers cannot know the week ahead is a promotion
    blind = run_forecast(history, cfg)
    assert blind.forecasts["p50"].sum() < 0.8 * lifted


def stockout_panel(items: int = 24, days: int = 420, share: float = 0.2, seed: int = 4):
    """Poisson demand with a weekly pattern; stock-out runs of 1-4 days hide about ``share``
    of the days (nothing recorded). Returns recorded history, in_stock drivers, expected
    demand over the horizon."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-03-01", periods=days, freq="D")
    future = pd.date_range(dates[-1] + pd.Timedelta(days=1), periods=H, freq="D")
    level = rng.uniform(10, 30, items)
    frames, stock = [], []
    for i in range(items):
        demand = rng.poisson(level[i] * WEEK[dates.day_of_week]).astype(float)
        out = np.zeros(days, dtype=bool)
        t = 0
        while t < days:
            if rng.random() < share / 2.5:
                out[t : t + int(rng.integers(1, 5))] = True
                t += 5
            t += 1
        item = f"I{i:02d}"
        frames.append(pd.DataFrame({"date": dates, "store_id": "S1", "item_id": item,
                                    "units": np.where(out, 0.0, demand)}))  # fmt: skip
        stock.append(pd.DataFrame({"date": dates, "store_id": "S1", "item_id": item, "in_stock": (~out) * 1.0}))
    expected = float(sum(level[i] * WEEK[future.day_of_week].sum() for i in range(items)))
    return pd.concat(frames, ignore_index=True), pd.concat(stock, ignore_index=True), expected


def test_censored_days_leave_p50_unbiased_where_zero_filling_biases_it_low():
    history, stock, expected = stockout_panel()
    cfg = ForecastConfig(horizon=H)
    censored = run_forecast(history, cfg, drivers=stock)
    zero_filled = run_forecast(history, cfg)
    bias_censored = censored.forecasts["p50"].sum() / expected - 1
    bias_zero = zero_filled.forecasts["p50"].sum() / expected - 1
    assert abs(bias_censored) < 0.05
    assert bias_zero < -0.08
    assert bias_censored - bias_zero > 0.08
    # the censored days are counted, and left out of the backtest's scores
    chosen = censored.metrics[censored.metrics["chosen"]]
    assert (chosen["censored_days"] > 0).all()
    assert chosen["censored_days"].sum() == censored.summary["drivers"]["censored_days"]
    windows = chosen["n_windows"].iloc[0]
    assert (chosen["points"] < windows * H).any()
    assert (zero_filled.metrics["points"] == windows * H).all()


def two_series(days: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    return pd.concat(
        [pd.DataFrame({"date": dates, "store_id": "S1", "item_id": item,
                       "units": rng.poisson(10 * WEEK[dates.day_of_week]).astype(float)})
         for item in ("I1", "I2")],
        ignore_index=True,
    )  # fmt: skip


def test_an_explicit_row_beats_a_star_row_in_the_forecast():
    history = two_series()
    day = pd.Timestamp("2024-05-01")
    drivers = pd.DataFrame(
        {"date": [day, day], "store_id": ["*", "S1"], "item_id": ["*", "I1"], "in_stock": [0.0, 1.0]}
    )
    result = run_forecast(history, ForecastConfig(horizon=H), drivers=drivers)
    censored = result.metrics.groupby("item_id")["censored_days"].first()
    assert censored.to_dict() == {"I1": 0, "I2": 1}


def test_drivers_that_stop_before_the_horizon_are_not_used_and_counted():
    history = two_series()
    dates = pd.date_range("2024-01-01", periods=200 + H, freq="D")
    promo = (dates.day % 9 == 0).astype(float)
    drivers = pd.concat(
        [pd.DataFrame({"date": dates, "store_id": "S1", "item_id": "I1", "promo": promo}),
         pd.DataFrame({"date": dates[:-2], "store_id": "S1", "item_id": "I2", "promo": promo[:-2]})],
        ignore_index=True,
    )  # fmt: skip
    result = run_forecast(history, ForecastConfig(horizon=H), drivers=drivers)
    summary = result.summary["drivers"]
    assert summary["known_ahead"] == ["promo"]
    assert summary["series_with_drivers"] == 1
    assert summary["without_drivers"] == {"known-ahead drivers stop before the horizon: promo": 1}
    ran = result.metrics.groupby("item_id")["model"].agg(set)
    assert not {m for m in ran["I2"] if m.endswith("_drivers")}
    assert {"autoreg_drivers", "sdiff_ar_drivers"} <= ran["I1"]


def test_a_store_closed_on_future_days_is_forecast_zero_on_them():
    history = two_series()
    future = pd.date_range("2024-07-19", periods=H, freq="D")  # the horizon after 2024-07-18
    closed = future[[2, 5]]
    drivers = pd.DataFrame({"date": future, "store_id": "S1", "item_id": "*",
                            "store_open": np.where(future.isin(closed), 0.0, 1.0)})  # fmt: skip
    result = run_forecast(history, ForecastConfig(horizon=H), drivers=drivers)
    fc = result.forecasts
    shut = pd.to_datetime(fc["date"]).isin(closed)
    assert shut.sum() == 4  # two days x two items
    assert (fc.loc[shut, ["p10", "p50", "p90", "mean"]] == 0).all().all()
    assert (fc.loc[~shut, "p50"] > 0).all()


def test_drivers_that_say_nothing_about_these_series_change_nothing():
    history = two_series()
    elsewhere = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=207), "store_id": "S9", "item_id": "*",
                              "promo": 1.0, "in_stock": 0.0})  # fmt: skip
    cfg = ForecastConfig(horizon=H, holidays=("US",))
    plain, given = run_forecast(history, cfg), run_forecast(history, cfg, drivers=elsewhere)
    pd.testing.assert_frame_equal(plain.forecasts, given.forecasts)
    pd.testing.assert_frame_equal(plain.metrics, given.metrics)
    pd.testing.assert_frame_equal(plain.safety_stock, given.safety_stock)
    assert "drivers" not in plain.summary
    assert {k: v for k, v in given.summary.items() if k != "drivers"} == plain.summary


def test_weekly_runs_censor_weeks_mostly_out_of_stock_and_close_whole_weeks():
    history, stock, _ = stockout_panel(items=4, days=418)  # through a Sunday: whole weeks
    fast = ("seasonal_naive", "theta", "autoreg", "sdiff_ar")  # weekly ETS re-estimates slowly: not this test's point
    cfg = ForecastConfig(horizon=4, freq="W", candidates=fast)
    ahead = pd.date_range(history["date"].max() + pd.Timedelta(days=1), periods=4 * 7, freq="D")
    closed = pd.DataFrame({"date": ahead, "store_id": "S1", "item_id": "*",
                           "store_open": np.where(ahead.isocalendar().week.to_numpy() % 2 == 1, 0.0, 1.0)})  # fmt: skip
    censored = run_forecast(history, cfg, drivers=pd.concat([stock, closed], ignore_index=True))
    plain = run_forecast(history, cfg)
    chosen = censored.metrics[censored.metrics["chosen"]]
    first_sale = history[history["units"] > 0].groupby("item_id")["date"].min()
    counted = stock[stock["date"] >= stock["item_id"].map(first_sale)]  # no stock-out before the first sale
    days = counted.groupby("item_id")["in_stock"].apply(lambda s: int((s < 0.5).sum()))
    assert chosen.set_index("item_id")["censored_days"].to_dict() == days.to_dict()  # days, not weeks
    windows = chosen["n_windows"].iloc[0]
    assert (chosen["points"] < windows * 4).any()  # weeks mostly out of stock are not scored
    weeks = pd.to_datetime(censored.forecasts["date"])
    shut = weeks.dt.isocalendar().week.to_numpy() % 2 == 1
    assert shut.sum() == 2 * 4  # weeks 17 and 19 of the horizon, 4 items
    assert (censored.forecasts.loc[shut, ["p10", "p50", "p90", "mean"]] == 0).all().all()
    assert (
        censored.forecasts.loc[~shut, "p50"] > plain.forecasts.loc[~shut, "p50"]
    ).mean() > 0.5  # demand not zero-filled


def test_a_stock_out_longer_than_the_backtest_forecasts_the_demand_seen_before_it():
    history = two_series(days=300)
    last = history["date"].max()
    gone = history["date"] > last - pd.Timedelta(days=40)
    before = history.loc[~gone & (history["date"] > last - pd.Timedelta(days=96)), "units"].mean()
    history.loc[gone & (history["item_id"] == "I1"), "units"] = 0.0  # out of stock: nothing sold
    stock = pd.DataFrame({"date": history.loc[gone, "date"].unique(), "store_id": "S1", "item_id": "I1",
                          "in_stock": 0.0})  # fmt: skip
    result = run_forecast(history, ForecastConfig(horizon=H), drivers=stock)
    i1 = result.forecasts[result.forecasts["item_id"] == "I1"]
    assert i1["p50"].mean() == pytest.approx(before, rel=0.25)  # not the zeros recorded
    chosen = result.metrics[result.metrics["chosen"]].set_index("item_id")
    assert chosen.loc["I1", "reason"] == "every backtest period is censored (unknown demand)"
    assert chosen.loc["I1", "censored_days"] == 40
    assert (result.safety_stock["safety_stock"] > 0).all()
    # the days themselves, for the accuracy views (censored_days table)
    assert result.censored[["store_id", "item_id"]].drop_duplicates().values.tolist() == [["S1", "I1"]]
    assert sorted(result.censored["date"]) == sorted(d.date() for d in history.loc[gone, "date"].unique())
    assert run_forecast(history, ForecastConfig(horizon=H)).censored.empty  # no drivers: nothing censored


def test_shards_with_drivers_merge_into_the_unsharded_summary():
    from salescast.forecast.engine import merge_summaries

    history, stock, _ = stockout_panel(items=6, days=200)
    dates = pd.date_range(history["date"].min(), periods=200 + H, freq="D")
    promo = pd.DataFrame({"date": dates, "store_id": "S1", "promo": (dates.day % 10 == 0) * 1.0})
    plans = [promo.iloc[: -3 if item == "I03" else None].assign(item_id=item) for item in stock["item_id"].unique()]
    drivers = pd.concat([stock, *plans], ignore_index=True)  # I03's promotions stop before the horizon
    cfg = ForecastConfig(horizon=H)
    whole = run_forecast(history, cfg, drivers=drivers).summary["drivers"]
    parts = [run_forecast(history, cfg, drivers=drivers, shard=i, n_shards=3).summary for i in range(3)]
    assert merge_summaries(parts)["drivers"] == whole
    assert whole["without_drivers"] == {"known-ahead drivers stop before the horizon: promo": 1}
    assert whole["series_with_drivers"] == 5
