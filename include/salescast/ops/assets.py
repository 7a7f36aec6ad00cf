"""Airflow Assets that mark what salescast publishes, so downstream DAGs can wait on them.

URIs name the dataset, not a storage location, so they stay the same on every deployment.
"""

from __future__ import annotations

from airflow.sdk import Asset

DRIVERS = Asset(name="salescast.drivers", uri="salescast://curated/drivers", group="salescast")
ITEMS = Asset(name="salescast.items", uri="salescast://curated/items", group="salescast")
OVERRIDES = Asset(name="salescast.overrides", uri="salescast://curated/overrides", group="salescast")
SALES_DAILY = Asset(name="salescast.sales_daily", uri="salescast://curated/sales_daily", group="salescast")
FORECASTS = Asset(name="salescast.forecasts", uri="salescast://lake/forecasts", group="salescast")
