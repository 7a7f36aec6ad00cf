"""The command lines, run as a user would run them: ``python -m salescast ...`` (the product)
and ``python -m salescast_dev ...`` (the harness) in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from salescast.config import REPO_ROOT
from salescast_dev.generate import PanelSpec, simulate_panel


def salescast(*args: str, env: dict[str, str] | None = None, module: str = "salescast") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env or os.environ.copy(),
        check=False,
    )


def harness(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return salescast(*args, env=env, module="salescast_dev")


def test_generate_writes_one_folder_per_day(tmp_path):
    out = harness("generate", "--stores", "2", "--items", "5", "--start", "2025-01-30", "--end", "2025-02-02",
                    "--out", str(tmp_path), "--format", "pos", "--defects", "--seed", "9")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-01-30", "2025-01-31", "2025-02-01", "2025-02-02"]
    assert "for 4 days" in out.stdout
    first = (tmp_path / "2025-01-30" / "invoices_2025-01-30.csv").read_text().splitlines()[0]
    assert first == "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "--start", "2025-13-01", "--end", "2025-01-02", "--out", "x"], "is not a date"),
        (["generate", "--start", "2025-01-02", "--end", "2025-01-01", "--out", "x"], "is before start"),
        (["generate", "--stores", "0", "--start", "2025-01-01", "--end", "2025-01-01", "--out", "x"], "at least one"),
    ],
)
def test_bad_arguments_fail_with_a_clear_message(args, message):
    out = harness(*args)
    assert out.returncode != 0
    assert message in out.stderr


def test_the_product_cli_has_no_harness_commands_and_says_where_they_are():
    help_text = salescast("--help").stdout
    assert "python -m salescast_dev --help" in help_text
    for command in ("generate", "demo", "run", "airflow", "backfill", "serve"):
        out = salescast(command)
        assert out.returncode == 2
        assert f"invalid choice: '{command}'" in out.stderr
        assert harness(command, "--help").returncode == 0


def test_ingest_command_publishes_and_reports_rejections(tmp_path):
    env = os.environ | {"SALESCAST_HOME": str(tmp_path), "SALESCAST_LAKE_URI": (tmp_path / "lake").as_uri()}
    landing = tmp_path / "lake" / "landing" / "sales"
    assert harness("generate", "--stores", "2", "--items", "40", "--start", "2025-01-01", "--end", "2025-01-02",
                     "--out", str(landing)).returncode == 0  # fmt: skip
    (landing / "2025-01-02" / "broken.csv").write_bytes(b"")
    out = salescast("ingest", "--start", "2025-01-01", "--end", "2025-01-02", env=env)
    assert out.returncode == 1
    assert "2025-01-01: published" in out.stdout
    assert "2025-01-02: REJECTED" in out.stderr
    assert "broken.csv: empty file (0 bytes)" in out.stderr
    assert (tmp_path / "lake" / "curated" / "sales_daily" / "dt=2025-01-01" / "_SUCCESS").exists()
    assert not Path(tmp_path / "lake" / "curated" / "sales_daily" / "dt=2025-01-02").exists()


def test_forecast_and_backtest_commands_write_their_files(tmp_path):
    from datetime import date

    from salescast_dev.generate import PanelSpec, simulate_panel

    history = simulate_panel(PanelSpec(stores=1, items=4, seed=8), date(2024, 1, 1), date(2024, 6, 30))
    csv = tmp_path / "history.csv"
    history.to_csv(csv, index=False)
    out = salescast("forecast", "--history", str(csv), "--horizon", "14", "--freq", "D", "--quantiles", "0.1,0.5,0.9",
                    "--jobs", "2", "--out", str(tmp_path / "fc"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    import pandas as pd

    forecasts = pd.read_parquet(tmp_path / "fc" / "forecasts.parquet")
    assert {"store_id", "item_id", "date", "p10", "p50", "p90", "model"} <= set(forecasts.columns)
    assert len(forecasts) == 4 * 14
    assert str(forecasts["date"].min()) == "2024-07-01"
    out = salescast(
        "backtest", "--history", str(csv), "--horizon", "14", "--windows", "3", "--out", str(tmp_path / "bt")
    )
    assert out.returncode == 0, out.stderr
    import json

    metrics = json.loads((tmp_path / "bt" / "metrics.json").read_text())
    assert {"bake_off", "per_model"} <= set(metrics["backtest"])
    for scores in [metrics["backtest"]["bake_off"], *metrics["backtest"]["per_model"].values()]:
        assert {"wql_p10", "wql_p50", "wql_p90", "mean_wql", "wape", "mase", "coverage"} <= set(scores)
    assert "seasonal_naive" in out.stdout
    per_series = pd.read_parquet(tmp_path / "bt" / "metrics.parquet")
    assert set(per_series["n_windows"]) == {3}
    bad = salescast("forecast", "--history", str(csv), "--freq", "H", "--out", str(tmp_path / "x"))
    assert bad.returncode != 0
    assert "not supported" in bad.stderr


# The command line answers bad input with a message and a non-zero exit code, never a traceback.


@pytest.fixture(scope="module")
def history_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("history") / "history.csv"
    simulate_panel(PanelSpec(stores=1, items=2, seed=8), date(2024, 1, 1), date(2024, 3, 31)).to_csv(path, index=False)
    return path


def assert_clean_failure(out, *fragments: str) -> None:
    assert out.returncode != 0, out.stdout
    assert "Traceback" not in out.stderr, out.stderr
    for fragment in fragments:
        assert fragment in out.stderr, out.stderr


def test_empty_history_file_is_named(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    out = salescast("forecast", "--history", str(empty), "--out", str(tmp_path / "o"))
    assert_clean_failure(out, "empty.csv", "is empty")


def test_dates_with_changing_utc_offsets_are_explained(tmp_path):
    path = tmp_path / "tz.csv"
    path.write_text("date,store_id,item_id,units\n2024-03-30T00:00:00+01:00,S1,A,1\n2024-03-31T00:00:00+02:00,S1,A,2\n")
    out = salescast("forecast", "--history", str(path), "--out", str(tmp_path / "o"))
    assert_clean_failure(out, "tz.csv", "UTC offsets", "YYYY-MM-DD")


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("--jobs", "0", "--jobs: must be a whole number of at least 1 (got '0')"),
        ("--jobs", "-2", "--jobs: must be a whole number of at least 1 (got '-2')"),
        ("--horizon", "0", "--horizon: must be a whole number of at least 1 (got '0')"),
        ("--windows", "x", "--windows: must be a whole number of at least 1 (got 'x')"),
        ("--quantiles", "0.1,abc", "--quantiles"),
        ("--service-level", "1.5", "--service-level"),
        ("--freq", "Q", "not supported"),
    ],
)
def test_bad_numbers_are_refused_by_the_parser(history_csv, tmp_path, option, value, fragment):
    out = salescast("forecast", "--history", str(history_csv), option, value, "--out", str(tmp_path / "o"))
    assert_clean_failure(out, fragment)
    assert out.returncode == 2


def test_a_horizon_longer_than_the_history_says_so(history_csv, tmp_path):
    out = salescast("forecast", "--history", str(history_csv), "--horizon", "10000", "--out", str(tmp_path / "o"))
    assert_clean_failure(out, "--horizon 10000", "longer than the history", "91 days")
    assert "nan" not in out.stdout + out.stderr


def test_a_backtest_no_series_can_support_fails_with_the_reason(history_csv, tmp_path):
    out = salescast("backtest", "--history", str(history_csv), "--horizon", "60", "--out", str(tmp_path / "o"))
    assert_clean_failure(out, "no series has enough history", "--horizon")
    assert "nan" not in out.stdout + out.stderr


def test_a_bad_setting_stops_the_cli_at_start_naming_the_variable(tmp_path):
    env = os.environ | {"SALESCAST_HOME": str(tmp_path), "SALESCAST_FREQ": "Q"}
    out = salescast("ingest", "--start", "2025-01-01", env=env)
    assert_clean_failure(out, "SALESCAST_FREQ='Q'")
    assert out.returncode == 2


def test_a_bad_ui_port_names_the_variable(tmp_path):
    env = os.environ | {"SALESCAST_HOME": str(tmp_path), "SALESCAST_UI_PORT": "http"}
    out = salescast("serve", env=env, module="salescast_dev")
    assert_clean_failure(out, "--port: must be a port number 1-65535; default from SALESCAST_UI_PORT (got 'http')")
    assert out.returncode == 2


def _promo_history(tmp_path: Path):
    """Two items with promotion weeks (lift 1.6) and stock-out days: history CSV, drivers folder
    (promotions as CSV through the horizon, in_stock as Parquet for the history)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    dates = pd.date_range("2024-01-01", periods=400, freq="D")
    future = pd.date_range(dates[-1] + pd.Timedelta(days=1), periods=7, freq="D")
    promo = np.isin((dates.append(future) - dates[0]).days // 7 % 5, [2]).astype(float)
    rows, stock = [], []
    for item in ("I1", "I2"):
        units = rng.poisson(12 * np.where(promo[: len(dates)] == 1, 1.6, 1.0)).astype(float)
        out = rng.random(len(dates)) < 0.1
        rows.append(pd.DataFrame({"date": dates.date, "store_id": "S1", "item_id": item,
                                  "units": np.where(out, 0.0, units)}))  # fmt: skip
        stock.append(pd.DataFrame({"date": dates, "store_id": "S1", "item_id": item, "in_stock": 1.0 - out}))
    history = tmp_path / "history.csv"
    pd.concat(rows).to_csv(history, index=False)
    folder = tmp_path / "drivers"
    folder.mkdir()
    pd.DataFrame({"date": dates.append(future).date, "store_id": "*", "item_id": "*", "promo": promo}).to_csv(
        folder / "promo.csv", index=False
    )
    pd.concat(stock).to_parquet(folder / "in_stock.parquet", index=False)
    return history, folder


def test_forecast_with_drivers_end_to_end(tmp_path):
    import json

    import pandas as pd

    history, drivers = _promo_history(tmp_path)
    out = salescast("forecast", "--history", str(history), "--drivers", str(drivers), "--out", str(tmp_path / "fc"))
    assert out.returncode == 0, out.stderr
    forecasts = pd.read_parquet(tmp_path / "fc" / "forecasts.parquet")
    assert len(forecasts) == 2 * 7
    metrics = pd.read_parquet(tmp_path / "fc" / "metrics.parquet")
    assert (metrics.groupby("item_id")["censored_days"].first() > 20).all()
    assert {"autoreg_drivers", "sdiff_ar_drivers"} <= set(metrics["model"])
    summary = json.loads((tmp_path / "fc" / "summary.json").read_text())
    assert summary["drivers"]["known_ahead"] == ["promo"]
    assert summary["drivers"]["series_with_drivers"] == 2
    longer = salescast("forecast", "--history", str(history), "--drivers", str(drivers), "--horizon", "14",
                       "--out", str(tmp_path / "h14"))  # fmt: skip
    assert longer.returncode == 0, longer.stderr
    assert "drivers promo have no values through the horizon" in longer.stderr  # said, not silently dropped
    plain = salescast("forecast", "--history", str(history), "--out", str(tmp_path / "plain"))
    assert plain.returncode == 0, plain.stderr
    assert set(pd.read_parquet(tmp_path / "plain" / "metrics.parquet")["censored_days"]) == {0}
    missing = salescast("forecast", "--history", str(history), "--drivers", str(tmp_path / "nope.csv"),
                        "--out", str(tmp_path / "x"))  # fmt: skip
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr


def test_a_scenario_moves_the_promotion_and_the_forecast_with_it(tmp_path):
    """What if the promotion of the coming week is called off? The scenario's forecast loses
    the lift the base forecast has; the history (and so the model choice) is the same."""
    import pandas as pd

    history, drivers = _promo_history(tmp_path)
    future = pd.date_range("2025-02-04", periods=7, freq="D")  # the history ends on 2025-02-03
    called_off = tmp_path / "called_off.csv"
    pd.DataFrame({"date": future.date, "store_id": "*", "item_id": "*", "promo": 0.0}).to_csv(called_off, index=False)
    out = salescast("forecast", "--history", str(history), "--drivers", str(drivers), "--scenario", str(called_off),
                    "--out", str(tmp_path / "fc"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    base = pd.read_parquet(tmp_path / "fc" / "forecasts.parquet")
    assert str(base["date"].min()) == "2025-02-04"
    planned = pd.read_parquet(tmp_path / "fc" / "scenario" / "forecasts.parquet")
    side = pd.read_csv(tmp_path / "fc" / "scenario_comparison.csv")
    assert len(side) == len(base) == len(planned)
    chosen = pd.read_parquet(tmp_path / "fc" / "metrics.parquet").query("chosen")
    promoted = chosen["reason"].str.contains("drivers used: promo")
    assert promoted.any(), chosen[["item_id", "model", "reason"]]  # the promotion weeks of the history tell
    calendar = pd.read_csv(drivers / "promo.csv")
    promo_days = set(calendar.loc[(calendar["promo"] == 1) & (calendar["date"] >= "2025-02-04"), "date"])
    assert len(promo_days) == 6  # the coming week is a promotion week
    for item in chosen.loc[promoted, "item_id"]:
        mine = side[side["item_id"] == item]
        on_promo = mine["date"].isin(promo_days)
        assert (mine.loc[on_promo, "p50_scenario"] < mine.loc[on_promo, "p50_base"] / 1.3).all(), mine  # no lift
        # a day without promotion stays near what it was (an AR model carries the lower days
        # before it forward through its lags: a small change, not the lift)
        assert (mine.loc[~on_promo, "p50_change"].abs() < 0.15 * mine.loc[~on_promo, "p50_base"]).all(), mine
    assert "scenario" in out.stdout
    assert "series changed" in out.stdout
    no_drivers = salescast("forecast", "--history", str(history), "--scenario", str(called_off),
                           "--out", str(tmp_path / "x"))  # fmt: skip
    assert no_drivers.returncode == 2
    assert "give the drivers with --drivers too" in no_drivers.stderr


def test_a_drivers_mapping_applies_the_dags_rules(tmp_path):
    """--drivers-mapping: undeclared columns and out-of-range values are refused with reasons
    (written beside the forecasts), the rest used; a promotion calendar that lists promotion
    days only is 0 on the others (the mapping's absent rule)."""
    import pandas as pd

    history, drivers = _promo_history(tmp_path)
    calendar = pd.read_csv(drivers / "promo.csv")
    calendar = calendar[calendar["promo"] == 1]  # promotion days only
    calendar.assign(colour="red").to_csv(drivers / "promo.csv", index=False)
    (drivers / "bad.csv").write_text("date,store_id,item_id,in_stock\n2024-05-01,S1,I1,1.5\n")
    out = salescast("forecast", "--history", str(history), "--drivers", str(drivers), "--drivers-mapping", "retail",
                    "--out", str(tmp_path / "fc"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    refused = pd.read_csv(tmp_path / "fc" / "drivers_refused.csv")
    assert refused["reason"].str.contains("a column the drivers mapping does not declare").sum() == len(calendar)
    assert refused["reason"].str.contains("above the driver's plausible range").sum() == 1
    assert "driver values refused by the mapping" in out.stderr
    summary = pd.read_json(tmp_path / "fc" / "summary.json", typ="series")
    assert summary["drivers"]["known_ahead"] == ["promo"]  # days between promotions are 0, not unknown
    assert summary["drivers"]["series_with_drivers"] == 2
    unknown = salescast("forecast", "--history", str(history), "--drivers", str(drivers), "--drivers-mapping", "nope",
                        "--out", str(tmp_path / "x"))  # fmt: skip
    assert unknown.returncode == 2
    assert "no drivers mapping" in unknown.stderr


def test_holidays_flag_and_setting_give_the_dags_forecast(tmp_path, monkeypatch):
    import pandas as pd

    from salescast.config import Settings
    from salescast.forecast.engine import ForecastConfig, run_forecast

    history, _ = _promo_history(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESCAST_")}
    by_setting = salescast("forecast", "--history", str(history), "--out", str(tmp_path / "setting"),
                           env=env | {"SALESCAST_HOLIDAYS": "US"})  # fmt: skip
    by_flag = salescast("forecast", "--history", str(history), "--holidays", "us", "--out", str(tmp_path / "flag"),
                        env=env)  # fmt: skip
    flag_off = salescast("forecast", "--history", str(history), "--holidays", "none", "--out", str(tmp_path / "off"),
                         env=env | {"SALESCAST_HOLIDAYS": "US"})  # fmt: skip
    for run in (by_setting, by_flag, flag_off):
        assert run.returncode == 0, run.stderr
    for name in [k for k in os.environ if k.startswith("SALESCAST_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SALESCAST_HOLIDAYS", "US")
    cfg = ForecastConfig.from_settings(Settings.from_env())  # what the DAG's forecast task builds
    assert cfg.holidays == ("US",)
    dag = run_forecast(pd.read_csv(history, dtype={"store_id": str, "item_id": str}), cfg).forecasts
    dag = pd.read_parquet(_roundtrip(dag, tmp_path))
    setting = pd.read_parquet(tmp_path / "setting" / "forecasts.parquet")
    pd.testing.assert_frame_equal(setting, dag)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "flag" / "forecasts.parquet"), dag)
    off = pd.read_parquet(tmp_path / "off" / "forecasts.parquet")
    assert not off[["p10", "p50", "p90"]].equals(dag[["p10", "p50", "p90"]])  # US holidays fall in the history
    bad = salescast("forecast", "--history", str(history), "--holidays", "XX", "--out", str(tmp_path / "bad"), env=env)
    assert bad.returncode == 2
    assert "XX" in bad.stderr


def _roundtrip(frame, tmp_path: Path) -> Path:
    path = tmp_path / "dag.parquet"
    frame.to_parquet(path, index=False)
    return path
