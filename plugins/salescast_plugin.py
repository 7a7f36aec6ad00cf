"""The salescast Airflow UI plugin: a Forecasts page in the navigation and a tab on each DAG run.

Thin on purpose: the app lives in ``salescast.dashboard`` (see ``docs/dashboard.md``). Airflow
imports this module in every component (scheduler, DAG processor, task processes), so it
imports no FastAPI, pandas or plotly: ``dashboard_app`` builds the real app on its first
request, which only the api-server ever serves, or when ``WarmUp`` sees the api-server start.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin

from salescast.dashboard.asgi import WarmUp, dashboard_app

URL_PREFIX = "/salescast"
ICON = "salescast/static/icon.svg"  # relative hrefs resolve against the UI's <base href>


class SalescastPlugin(AirflowPlugin):
    name = "salescast"
    # "name" is required in practice: without it GET /api/v2/plugins drops the whole plugin
    # (external views included) from the UI without an error.
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {"app": dashboard_app, "url_prefix": URL_PREFIX, "name": "salescast dashboard"}
    ]
    # warms the dashboard's caches in the background when the api-server starts
    fastapi_root_middlewares: ClassVar[list[dict[str, Any]]] = [
        {"middleware": WarmUp, "name": "salescast dashboard warm-up"}
    ]
    external_views: ClassVar[list[dict[str, Any]]] = [
        {
            "name": "Forecasts",
            "href": "salescast/forecasts",
            "destination": "nav",
            "url_route": "salescast-forecasts",
            "icon": ICON,
        },
        {
            # one tab on every DAG run; it shows something for sales_ingest and sales_forecast
            "name": "salescast",
            "href": "salescast/dags/{DAG_ID}/runs/{RUN_ID}",
            "destination": "dag_run",
            "url_route": "salescast-run",
            "icon": ICON,
        },
    ]
