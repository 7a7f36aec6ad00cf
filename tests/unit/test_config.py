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
