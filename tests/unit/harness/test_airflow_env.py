"""The tests' Airflow is the session's own, never the user's ~/airflow."""

from __future__ import annotations

import os
from pathlib import Path


def test_airflow_is_bound_to_the_session_home_not_the_users():
    """Anything that imports airflow before tests/conftest.py sets AIRFLOW_HOME (a warning
    filter naming an airflow class in pyproject.toml did) binds ~/airflow/airflow.db: every
    dag.test() then fails with "no such table"."""
    from airflow import settings

    assert os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == settings.SQL_ALCHEMY_CONN
    assert os.environ["AIRFLOW_HOME"] in settings.SQL_ALCHEMY_CONN
    assert str(Path("~/airflow").expanduser()) not in settings.SQL_ALCHEMY_CONN
