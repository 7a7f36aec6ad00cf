"""Fixtures of the whole-deployment scenarios (the session's in tests/conftest.py)."""

from tests.support.celery_cluster import cluster  # noqa: F401 (the Celery scenario's fixture)
