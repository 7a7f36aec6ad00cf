"""The command line answers bad input with a message and a non-zero exit code, never a traceback."""

from __future__ import annotations

import os
from datetime import date

import pytest

from salescast_dev.generate import PanelSpec, simulate_panel
from tests.unit.test_cli import salescast


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
