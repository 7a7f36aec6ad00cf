"""The DAG files parsed once per test module, offline (tests.support.dags.parse_offline)."""

from __future__ import annotations

import pytest

from tests.support.dags import parse_offline


@pytest.fixture(scope="module")
def dagbag():
    return parse_offline()
