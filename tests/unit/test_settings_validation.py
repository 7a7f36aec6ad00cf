"""Every setting is checked when settings are read, so a bad value stops a DAG at parse time
and the CLI at start, with the variable's name, instead of failing a task three times."""

from __future__ import annotations

import pytest

from salescast.config import ConfigError, Settings

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
