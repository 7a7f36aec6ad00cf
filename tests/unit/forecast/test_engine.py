"""The forecast engine on series whose right answer is known."""

from __future__ import annotations

import collections
import warnings
from datetime import date

import numpy as np
import pandas as pd
import pytest

from salescast.contracts import shard_of
from salescast.forecast import calibration, metrics
from salescast.forecast import safety_stock as ss
from salescast.forecast.backtest import backtest_plan
from salescast.forecast.bands import build_bands
from salescast.forecast.engine import ForecastConfig, ForecastInputError, merge_summaries, run_forecast
from salescast.forecast.models import registry
from salescast.forecast.models.base import Context, ModelSkipped, forecast_paths, guarded
from salescast.forecast.models.theta import Theta
from salescast.forecast.panel import build_panel
from salescast.forecast.selection import forecast_series as bake_off_series
from salescast_dev.generate import PanelSpec, simulate_panel


def forecast_series(y, first, key, cfg):
    """One series' bake-off, and its band as a run of one series builds it."""
    outcome = bake_off_series(y, first, key, cfg)
    build_bands([outcome], cfg)
    return outcome


WEEK = np.array([3.0, 4.0, 5.0, 6.0, 9.0, 14.0, 11.0])


def history_frame(values: dict[tuple[str, str], np.ndarray], start: str = "2024-01-01") -> pd.DataFrame:
    rows = []
    for (store, item), y in values.items():
        dates = pd.date_range(start, periods=len(y), freq="D")
        rows.append(pd.DataFrame({"date": dates.date, "store_id": store, "item_id": item, "units": y}))
    return pd.concat(rows, ignore_index=True)


# ---- metrics -------------------------------------------------------------------------


def test_wql_wape_mase_coverage_match_hand_computed_values():
    y = np.array([10.0, 0.0, 5.0])
    q = np.array([8.0, 1.0, 5.0])
    # tau=0.9: under-forecast 2 -> 0.9*2=1.8; over-forecast 1 -> 0.1*1=0.1; exact -> 0. 2*(1.9)/15
    assert metrics.wql(y, q, 0.9) == pytest.approx(2 * 1.9 / 15)
    assert metrics.quantile_loss_sum(y, q, 0.1) == pytest.approx(2 * (0.1 * 2 + 0.9 * 1))
    assert metrics.wape(y, q) == pytest.approx(3 / 15)
    assert metrics.mase_scale(np.array([1.0, 3.0, 2.0, 6.0]), 1) == pytest.approx((2 + 1 + 4) / 3)
    assert metrics.coverage(y, np.array([9.0, 0.0, 6.0]), np.array([11.0, 1.0, 7.0])) == pytest.approx(2 / 3)
    assert np.isnan(metrics.wql(np.zeros(3), q, 0.5))


def test_score_sums_aggregate_as_ratios_of_sums_and_survive_serialisation():
    a, b = metrics.ScoreSums((0.1, 0.5, 0.9)), metrics.ScoreSums((0.1, 0.5, 0.9))
    a.add(np.array([10.0, 10.0]), np.array([[8, 8], [10, 12], [12, 14]]), scale=2.0)
    b.add(np.array([100.0]), np.array([[90], [95], [110]]), scale=5.0)
    merged = metrics.ScoreSums.from_dict(a.to_dict())
    merged.merge(metrics.ScoreSums.from_dict(b.to_dict()))
    scores = merged.scores()
    assert scores["wape"] == pytest.approx((0 + 2 + 5) / 120)
    assert scores["wql_p50"] == pytest.approx(2 * 0.5 * 7 / 120)
    assert scores["coverage"] == pytest.approx(1.0)
    assert scores["mase"] == pytest.approx((2 / 2 + 5 / 5) / 3)
    assert scores["mean_wql"] == pytest.approx(np.mean([scores["wql_p10"], scores["wql_p50"], scores["wql_p90"]]))


# ---- models --------------------------------------------------------------------------


def test_pure_weekly_pattern_is_forecast_nearly_exactly():
    y = np.tile(WEEK, 30)
    outcome = forecast_series(y, 0, ("s", "i"), ForecastConfig(horizon=14))
    expected = np.resize(WEEK, 14)  # len(y) is a whole number of weeks, so the next day is WEEK[0]
    np.testing.assert_allclose(outcome.quantiles[1], expected, atol=1e-6)
    np.testing.assert_allclose(outcome.quantiles[0], expected, atol=1e-6)
    assert outcome.candidates[outcome.model].scores()["mean_wql"] < 1e-6


@pytest.mark.parametrize("candidate", [c for c in registry.CANDIDATES if not c.intermittent_only])
def test_each_seasonal_model_learns_a_noisy_weekly_pattern(candidate):
    rng = np.random.default_rng(3)
    y = np.tile(WEEK * 10, 60) + rng.normal(0, 1.0, 420)
    noise = rng.normal(0, 1.0, (434, 1))  # a driver with no effect: the models that need one get it
    paths = forecast_paths(candidate, y, [400, 420], 14, Context(m=7, regressors=noise if candidate.drivers else None))
    assert paths.shape == (2, 14)
    error = np.abs(paths[0] - y[400:414]).mean()
    assert error < 6.0, f"{candidate.name} mean abs error {error:.2f} on a series with weekly swing 30..140"


def test_all_zero_series_gives_zeros_with_a_reason():
    outcome = forecast_series(np.zeros(200), 200, ("s", "i"), ForecastConfig(horizon=7))
    assert outcome.model == "zero"
    assert "all zeros" in outcome.reason
    assert not outcome.quantiles.any()


def test_short_and_constant_series_fall_back_cleanly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback must not spam warnings
        short = forecast_series(np.array([0, 0, 3.0, 1.0, 2.0]), 2, ("s", "new"), ForecastConfig(horizon=7))
        constant = forecast_series(np.full(120, 4.0), 0, ("s", "c"), ForecastConfig(horizon=7))
    assert short.model == "recent_mean"
    assert short.reason.startswith("short history: 3 periods")
    assert short.mean == pytest.approx(np.full(7, 2.0))
    assert constant.model == "recent_mean"
    assert constant.reason == "constant series"
    np.testing.assert_allclose(constant.quantiles, 4.0)


def test_a_short_seasonal_series_gets_seasonal_naive_with_its_textbook_band():
    """30 months: a season to copy, too few for two backtest windows. Every seasonal change
    is +24 (one year of growth); the forecast repeats the last season (no drift) and the
    band is normal with sigma = the root mean square change, 24: p10/p90 = -/+ 1.2816 x 24
    = 30.76 for the first year ahead, x sqrt(2) = 43.50 for the second (fpp3, 5.5)."""
    t = np.arange(30)
    y = 100 + 10 * np.sin(2 * np.pi * t / 12) + 2 * t
    outcome = forecast_series(y, 0, ("s", "i"), ForecastConfig(horizon=18, freq="M"))
    assert outcome.model == "seasonal_naive"
    assert outcome.reason.startswith("short history: 30 periods, a bake-off needs 62")
    point = np.resize(y[-12:], 18)
    width = np.r_[np.full(12, 30.757), np.full(6, 43.497)]
    np.testing.assert_allclose(outcome.quantiles[1], point)
    np.testing.assert_allclose(outcome.quantiles[0], point - width, atol=1e-3)
    np.testing.assert_allclose(outcome.quantiles[2], point + width, atol=1e-3)
    np.testing.assert_allclose(outcome.mean, point)


@pytest.mark.parametrize(
    ("n", "m", "horizon", "expected"),
    [
        (365, 7, 7, (4, 30)),  # daily: 4 windows (28 residuals), a bake-off from 16 + 2 x 7 days
        (150, 52, 13, (0, 158)),  # weekly, 13 ahead: 4 windows span the year, warm-up 106 + 52
        (158, 52, 13, (4, 158)),
        (400, 52, 4, (13, 158)),  # 4 weeks ahead: windows raised from 7 to 13 to span the year
        (40, 12, 12, (0, 50)),  # monthly: two windows of 12 after 26 months of warm-up
        (60, 1, 13, (3, 36)),  # no season: the windows there is room for, two at least
    ],
)
def test_backtest_windows_span_a_season(n, m, horizon, expected):
    assert backtest_plan(n, m, ForecastConfig(horizon=horizon)) == expected


def test_a_weekly_series_is_chosen_for_only_once_its_backtest_spans_the_year():
    """150 weeks leave room for three windows of 13 weeks, 39 weeks of one year: seasonal
    naive, saying why. 160 weeks give four and a bake-off on them."""
    rng = np.random.default_rng(3)
    t = np.arange(160)
    y = 1000 + 300 * np.sin(2 * np.pi * t / 52) + rng.normal(0, 40, t.size)
    cfg = ForecastConfig(horizon=13, freq="W-SUN")
    short = forecast_series(y[:150], 0, ("s", "i"), cfg)
    assert short.model == "seasonal_naive"
    assert short.reason == "short history: 150 periods, a bake-off needs 158 (two windows or more, spanning a season)"
    np.testing.assert_allclose(short.quantiles[1], y[150 - 52 : 150 - 39])
    full = forecast_series(y, 0, ("s", "i"), cfg)
    assert full.windows == 4
    assert full.reason.startswith("lowest backtest mean wQL")
    assert len(full.candidates) >= 4


def test_intermittent_series_get_the_intermittent_methods():
    rng = np.random.default_rng(1)
    wins = collections.Counter()
    for _ in range(30):
        y = ((rng.random(300) < 0.1) * rng.integers(1, 4, 300)).astype(float)
        outcome = forecast_series(y, 0, ("s", "i"), ForecastConfig(horizon=14))
        assert outcome.intermittent
        assert {"croston_sba", "tsb"} <= set(outcome.candidates)
        wins[outcome.model] += 1
    intermittent = wins["croston_sba"] + wins["tsb"]
    assert intermittent > max(v for k, v in wins.items() if k not in ("croston_sba", "tsb"))
    smooth = forecast_series(np.tile(WEEK * 5, 40), 0, ("s", "i"), ForecastConfig(horizon=14))
    assert not smooth.intermittent
    assert "croston_sba" not in smooth.candidates


def test_a_model_that_does_not_converge_is_skipped_and_counted(monkeypatch):
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    def noisy():
        warnings.warn("optimizer failed", ConvergenceWarning, stacklevel=1)
        return np.zeros(3)

    with pytest.raises(ModelSkipped, match="did not converge"):
        guarded(noisy, "ets_damped")

    class Broken(Theta):
        def predict(self, train, start, h, ctx, fitted):
            raise ModelSkipped("theta: did not converge")

    patched = tuple(Broken() if c.name == "theta" else c for c in registry.CANDIDATES)
    monkeypatch.setattr(registry, "CANDIDATES", patched)
    history = history_frame({("s", "a"): np.tile(WEEK, 20) + 1, ("s", "b"): np.tile(WEEK, 20) * 2})
    result = run_forecast(history, ForecastConfig(horizon=7))
    assert result.summary["skipped_models"] == {"theta": 2}
    assert (result.metrics["skipped_models"] == 1).all()
    assert "theta" not in set(result.metrics["model"])


# ---- calibration ---------------------------------------------------------------------


def test_calibrated_quantiles_cover_what_they_claim():
    rng = np.random.default_rng(7)
    taus = (0.1, 0.5, 0.9)
    inside = total = 0
    for _ in range(300):
        point = np.full(14, 20.0)
        backtest = point + rng.normal(0, 4, (2, 14))
        q = calibration.assemble(point, calibration.offsets(backtest - point, taus))
        future = point + rng.normal(0, 4, 14)
        inside += int(((future >= q[0]) & (future <= q[2])).sum())
        total += 14
    assert 0.75 <= inside / total <= 0.86


def test_quantiles_are_non_negative_and_monotone_even_from_odd_offsets():
    q = calibration.assemble(np.array([1.0, 0.2]), np.array([[-3.0, 0.5], [0.0, -1.0], [-0.5, 2.0]]))
    assert (q >= 0).all()
    assert (np.diff(q, axis=0) >= 0).all()


def test_crossfit_uses_only_the_other_windows():
    points = np.zeros((2, 3))
    actuals = np.array([[1.0, 1.0, 1.0], [5.0, 5.0, 5.0]])
    q = calibration.crossfit(points, actuals, (0.5,))
    np.testing.assert_allclose(q[0, 0], 5.0)  # window 0 is calibrated on window 1's errors
    np.testing.assert_allclose(q[1, 0], 1.0)


# ---- safety stock --------------------------------------------------------------------


def test_lead_time_errors_and_safety_stock_arithmetic():
    points = np.array([[1.0, 1.0, 1.0, 1.0]])
    actuals = np.array([[2.0, 0.0, 4.0, 1.0]])
    errors = ss.lead_time_errors(points, actuals, lead_time=2)
    np.testing.assert_allclose(errors, [[0.0, 2.0, 3.0]])  # (2+0)-2, (0+4)-2, (4+1)-2
    stock = ss.safety_stock(np.arange(100.0).reshape(1, -1), np.array([3.0, 4.0, 5.0]), 2, 0.9, 1.0, None)
    # conformal: level 0.5 + 0.4 * 101 / 100 = 0.904, the order statistic above it: 90
    assert stock.safety_stock == pytest.approx(90.0)
    assert stock.lead_time_demand == 7.0
    assert stock.reorder_point == pytest.approx(7.0 + stock.safety_stock)
    assert stock.method == "series_errors"
    # fewer than 30 own errors: the pooled shape quantile times the series' own error size
    pooled = ss.safety_stock(np.array([[1.0, 3.0]]), np.ones(7), 7, 0.5, scale=10.0, pooled=(1.5, 0.7))
    assert pooled.method == "pooled_errors"
    assert pooled.safety_stock == pytest.approx(1.5 * 2.0 * 10.0)
    blended = ss.safety_stock(np.arange(100.0).reshape(1, -1), np.ones(7), 7, 0.9, 1.0, pooled=(2.0, 0.0))
    assert blended.safety_stock == pytest.approx((90.0 + 2.0 * np.arange(100.0).mean()) / 2)
    assert ss.safety_stock(np.zeros((0, 0)), np.ones(7), 7, 0.9, 4.0, pooled=(2.0, 0.5)).safety_stock == 2.0
    shape, scaled = ss.pooled_quantiles([np.array([[1.0, -1.0]]), np.array([[10.0, -10.0]])], 0.5)
    assert (shape, scaled) == (pytest.approx(0.0), pytest.approx(0.0))
    negative = ss.safety_stock(-np.ones((1, 40)), np.ones(7), 7, 0.95, 1.0, None)
    assert negative.safety_stock == 0.0


def test_achieved_service_level_is_measured_out_of_sample():
    errors = np.array([[0.0] * 10, [10.0] * 10])
    covered, total = ss.achieved_service_level(errors, 0.95)
    assert (covered, total) == (10, 20)  # window 0's buffer (10) covers it; window 1's buffer (0) does not


# ---- panels, frequencies, shards -----------------------------------------------------


def test_panel_fills_missing_days_with_zero_and_imputes_unknown_days():
    history = pd.DataFrame(
        {"date": ["2024-01-01", "2024-01-03", "2024-01-08"], "store_id": "s", "item_id": "i", "units": [1.0, 2.0, 3.0]}
    )
    panel = build_panel(history)
    assert panel.values.tolist() == [[1.0, 0.0, 2.0, 0, 0, 0, 0, 3.0]]
    known = pd.DatetimeIndex(
        ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-06", "2024-01-07"]
    )
    imputed = build_panel(history.iloc[:2], known_days=known[:2].append(known[3:]), end=pd.Timestamp("2024-01-07"))
    assert imputed.imputed_days == 1  # 01-03 has no published partition: not zero sales
    with pytest.raises(ForecastInputError, match="missing columns"):
        build_panel(history.drop(columns="units"))


def test_weekly_frequency_forecasts_sundays():
    y = np.tile(WEEK, 7 * 40)
    history = history_frame({("s", "i"): y}, start="2020-01-06")
    result = run_forecast(history, ForecastConfig(horizon=4, freq="W"))
    dates = pd.to_datetime(result.forecasts["date"])
    assert (dates.dt.day_of_week == 6).all()
    assert len(dates) == 4
    assert result.forecasts["p50"].to_numpy() == pytest.approx(np.full(4, WEEK.sum()), rel=0.01)
    with pytest.raises(ForecastInputError, match="not supported"):
        ForecastConfig(freq="H")


def test_shards_partition_the_series_and_jobs_do_not_change_results():
    panel = simulate_panel(PanelSpec(stores=2, items=6, seed=4), date(2024, 1, 1), date(2024, 5, 31))
    cfg = ForecastConfig(horizon=7)
    whole = run_forecast(panel, cfg, jobs=1)
    parallel = run_forecast(panel, cfg, jobs=2)
    pd.testing.assert_frame_equal(whole.forecasts, parallel.forecasts)
    parts = [run_forecast(panel, cfg, shard=i, n_shards=3) for i in range(3)]
    keys = [set(zip(p.forecasts["store_id"], p.forecasts["item_id"], strict=True)) for p in parts]
    assert set().union(*keys) == set(zip(whole.forecasts["store_id"], whole.forecasts["item_id"], strict=True))
    assert sum(len(k) for k in keys) == 12
    assert all(shard_of(s, i, 3) == n for n, k in enumerate(keys) for s, i in k)
    merged = merge_summaries([p.summary for p in parts])
    assert merged["series"] == 12
    assert merged["backtest"]["bake_off"]["mean_wql"] == pytest.approx(
        whole.summary["backtest"]["bake_off"]["mean_wql"]
    )


def test_skipped_series_are_left_out_and_the_others_forecast_as_without_the_skip():
    panel = simulate_panel(PanelSpec(stores=1, items=3, seed=5), date(2024, 1, 1), date(2024, 3, 31))
    cfg = ForecastConfig(horizon=7)
    whole = run_forecast(panel, cfg)
    left = run_forecast(panel, cfg, skip=[("S01", "I0002")])  # a cold-started or discontinued series
    assert ("S01", "I0002") not in set(zip(left.forecasts["store_id"], left.forecasts["item_id"], strict=True))
    assert left.summary["series"] == 2
    kept = whole.forecasts[whole.forecasts["item_id"] != "I0002"].reset_index(drop=True)
    pd.testing.assert_frame_equal(left.forecasts, kept)
    everything = run_forecast(panel, cfg, skip=[("S01", f"I000{i}") for i in (1, 2, 3)])
    assert everything.forecasts.empty
    assert everything.summary["series"] == 0


def test_forecast_rows_follow_the_contract():
    panel = simulate_panel(PanelSpec(stores=1, items=5, seed=2), date(2024, 1, 1), date(2024, 4, 30))
    result = run_forecast(panel, ForecastConfig(horizon=7, quantiles=(0.1, 0.5, 0.9)))
    f = result.forecasts
    assert list(f.columns) == ["store_id", "item_id", "date", "p10", "p50", "p90", "horizon_step", "mean", "model"]
    assert (f["p10"] >= 0).all()
    assert (f["p10"] <= f["p50"]).all()
    assert (f["p50"] <= f["p90"]).all()
    assert f.groupby(["store_id", "item_id"]).size().eq(7).all()
    assert set(f["date"]) == set(pd.date_range("2024-05-01", periods=7).date)
    m = result.metrics
    assert {"model", "wql_p10", "wql_p50", "wql_p90", "mean_wql", "wape", "mase", "coverage", "n_windows"} <= set(m)
    assert m.groupby(["store_id", "item_id"])["chosen"].sum().eq(1).all()
    assert set(result.safety_stock.columns) >= {"safety_stock", "reorder_point", "lead_time_demand"}
