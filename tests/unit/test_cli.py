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
