"""None"""

from __future__ import annotations

import pytest

from salescast.config import ConfigError, Settings


def test_defaults_run_on_a_laptop(monkeypatch, tmp_path):
    for name in ["SALESCAST_LAKE_URI", "SALESCAST_SQL_ENGINE", "SALESCAST_HORIZON", "SALESCAST_QUANTILES"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SALESCAST_HOME", str(tmp_path))
    settings = Settings.from_env()
    assert settings.lake_uri == (tmp_path / "lake").as_uri()
    assert settings.sql_engine == "duckdb"
    assert settings.horizon == 7
    assert settings.quantiles == (0.1, 0.5, 0.9)
    assert settings.airflow_home == tmp_path / "airflow"
    assert not settings.is_s3


def test_plain_path_lake_becomes_file_uri(monkeypatch, tmp_path):
    monkeypatch.setenv("SALESCAST_LAKE_URI", str(tmp_path / "x"))
    assert Settings.from_env().lake_uri == (tmp_path / "x").as_uri()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SALESCAST_HORIZON", "soon", "SALESCAST_HORIZON='soon' is not a number"),
        ("SALESCAST_HORIZON", "0", "must be between"),
        ("SALESCAST_QUANTILES", "0.1,1.5", "strictly between 0 and 1"),
        ("SALESCAST_QUANTILES", "0.05,0.5,0.95", "columns p10, p50, p90"),
        ("SALESCAST_SQL_ENGINE", "postgres", "must be 'duckdb' or 'athena'"),
        ("SALESCAST_LAKE_URI", "gs://bucket/x", "only file:// and s3://"),
        ("SALESCAST_MAX_BAD_ROW_FRACTION", "2", "must be between 0.0 and 1.0"),
        ("SALESCAST_MAX_SHARDS", "0", "SALESCAST_MAX_SHARDS='0' must be between 1 and 1000000"),
        ("SALESCAST_MAX_SHARDS", "many", "SALESCAST_MAX_SHARDS='many' is not a number"),
        ("SALESCAST_SERIES_PER_SHARD", "2.5", "SALESCAST_SERIES_PER_SHARD=2.5 must be a whole number"),
    ],
)
def test_bad_settings_name_the_variable(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env()


# Every setting is checked when settings are read, so a bad value stops a DAG at parse time
# and the CLI at start, with the variable's name, instead of failing a task three times.


FREQS = ["D", "d", " W ", "W", "W-SUN", "w-mon", "W-SAT", "M", "ME", "m", "Q", "H", "2D", "W-XYZ", "MS", "Y", "W-"]


@pytest.mark.parametrize("value", FREQS)
def test_freq_follows_the_engines_rule(monkeypatch, value):
    """Settings refuse, with the variable's name, what the one frequency rule (salescast.contracts) refuses."""
    from salescast.contracts import ForecastInputError, normalize_freq

    try:
        normalize_freq(value)
        engine_accepts = True
    except ForecastInputError:
        engine_accepts = False
    monkeypatch.setenv("SALESCAST_FREQ", value)
    if engine_accepts:
        assert Settings.from_env().freq.strip().upper() == value.strip().upper()
    else:
        with pytest.raises(ConfigError, match=f"SALESCAST_FREQ={value.strip()!r} is not supported"):
            Settings.from_env()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SALESCAST_FREQ": "Q"}, "SALESCAST_FREQ='Q' is not supported"),
        ({"SALESCAST_ATHENA_DATABASE": "Sales-DB"}, "SALESCAST_ATHENA_DATABASE='Sales-DB'"),
        ({"SALESCAST_ATHENA_WORKGROUP": "my group"}, "SALESCAST_ATHENA_WORKGROUP='my group'"),
        (
            {"SALESCAST_SQL_ENGINE": "athena", "SALESCAST_ATHENA_OUTPUT": "/tmp/results"},
            "SALESCAST_ATHENA_OUTPUT='/tmp/results/' must be an s3:// location",
        ),
        ({"SALESCAST_ALERT_EMAILS": "ops@example.com, oncall"}, "SALESCAST_ALERT_EMAILS: 'oncall' is not"),
        ({"SALESCAST_ALERT_FROM": "salescast"}, "SALESCAST_ALERT_FROM: 'salescast' is not"),
        ({"SALESCAST_AWS_CONN_ID": "aws default"}, "SALESCAST_AWS_CONN_ID='aws default'"),
        ({"SALESCAST_SMTP_CONN_ID": "smtp<x>"}, "SALESCAST_SMTP_CONN_ID='smtp<x>'"),
        ({"SALESCAST_FORECAST_POOL": "forecast pool"}, "SALESCAST_FORECAST_POOL='forecast pool'"),
        ({"SALESCAST_HORIZON": "800"}, "SALESCAST_HORIZON=800 periods of D is longer than SALESCAST_HISTORY_DAYS"),
        ({"SALESCAST_FREQ": "W", "SALESCAST_HORIZON": "120"}, "SALESCAST_HORIZON=120 periods of W"),
    ],
)
def test_bad_settings_fail_at_once_naming_the_variable(monkeypatch, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        Settings.from_env()
    assert message in str(error.value)


def test_good_values_of_the_new_checks_pass(monkeypatch):
    for name, value in {
        "SALESCAST_FREQ": "W-MON",
        "SALESCAST_HORIZON": "12",
        "SALESCAST_ATHENA_DATABASE": "sales_2025",
        "SALESCAST_ATHENA_WORKGROUP": "analytics-team.v2",
        "SALESCAST_SQL_ENGINE": "athena",
        "SALESCAST_ATHENA_OUTPUT": "s3://bucket/results",
        "SALESCAST_ALERT_EMAILS": "ops@example.com, Planner <planner@example.com>",
        "SALESCAST_AWS_CONN_ID": "aws_prod",
        "SALESCAST_SMTP_CONN_ID": "smtp_default",
        "SALESCAST_FORECAST_POOL": "salescast_forecast",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    assert settings.freq == "W-MON"
    assert settings.athena_output == "s3://bucket/results/"
    assert settings.alert_emails == ("ops@example.com", "Planner <planner@example.com>")


def test_the_athena_database_rule_is_the_catalogs():
    from salescast.catalog.sql import UnsafeSqlValue, identifier

    for name in ["salescast", "sales_2025", "_x", "Sales", "sales-db", "1abc", "a b", ""]:
        try:
            identifier(name)
            sql_ok = True
        except UnsafeSqlValue:
            sql_ok = False
        from salescast.config import athena_database_ok

        assert athena_database_ok(name) == sql_ok, name


@pytest.mark.parametrize("value", ["6", "25:00", "06:60", "6am", "06:00:00"])
def test_a_bad_deadline_fails_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("SALESCAST_FORECAST_DEADLINE", value)
    with pytest.raises(ConfigError, match="SALESCAST_FORECAST_DEADLINE"):
        Settings.from_env()
