"""Airflow does not protect a plugin's app: every dashboard route must refuse anonymous
requests (401), bad tokens and users without the permission (403), and let a logged-in
viewer in. The plugin must also stay visible to the UI (GET /api/v2/plugins)."""

from __future__ import annotations

import re

import pytest

from salescast.dashboard.asgi import dashboard_app

EXPECTED = (
    "/salescast/forecasts",
    "/salescast/api/series",
    "/salescast/api/series/detail",
    "/salescast/api/accuracy",
    "/salescast/static/plotly.min.js",
    "/salescast/dags/sales_forecast/runs/manual__2025-03-31T00:00:00+00:00",
    "/salescast/api/dags/sales_forecast/runs/manual__2025-03-31T00:00:00+00:00/quarantine.csv",
    "/salescast/dags/sales_forecast/runs/manual__2025-03-31T00:00:00+00:00/raw/plotly.min.js",
)
SAMPLE = {"dag_id": "sales_forecast", "run_id": "manual__2025-03-31T00:00:00+00:00", "name": "plotly.min.js"}


def dashboard_urls() -> list[str]:
    """Every GET route of the mounted app, with sample path parameters."""
    from fastapi.routing import APIRoute

    routes = [r for r in dashboard_app.app.routes if isinstance(r, APIRoute) and "GET" in r.methods]
    return ["/salescast" + re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], r.path) for r in routes]


def test_the_app_has_the_routes_this_test_checks():
    urls = dashboard_urls()
    for expected in EXPECTED:
        assert expected in urls
    assert len(urls) >= 12


def test_every_route_refuses_an_anonymous_request(airflow, empty_lake):
    for url in dashboard_urls():
        response = airflow.client.get(url)
        assert response.status_code == 401, url
        assert response.json() == {"detail": "Not authenticated"}, url
    # bad parameters do not get past authentication either
    assert airflow.client.get("/salescast/api/series/detail?store_id=%00").status_code == 401
    # no unprotected FastAPI extras (docs, OpenAPI schema) on the mounted app
    for url in ("/salescast/docs", "/salescast/openapi.json", "/salescast/redoc"):
        assert airflow.client.get(url).status_code in (401, 404), url


def test_a_forged_token_or_a_user_without_permission_is_forbidden(airflow, empty_lake):
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl"}
    assert airflow.client.get("/salescast/api/runs", headers=forged).status_code == 403
    nobody = airflow.as_user("nobody")
    for url in dashboard_urls():
        assert airflow.client.get(url, headers=nobody).status_code == 403, url


@pytest.mark.parametrize("login", ["as_user", "as_browser"])
def test_a_logged_in_viewer_gets_the_pages_by_header_or_by_cookie(airflow, empty_lake, login):
    headers = getattr(airflow, login)("viewer")
    page = airflow.client.get("/salescast/forecasts", headers=headers)
    assert page.status_code == 200
    assert 'src="/salescast/static/plotly.min.js"' in page.text  # served by the plugin, no CDN
    assert "cdn" not in page.text.lower()
    runs = airflow.client.get("/salescast/api/runs", headers=headers)
    assert runs.status_code == 200
    assert runs.json() == {"run_dates": [], "latest": None, "sales_days": 0}


def test_plotly_js_is_served_from_the_installed_wheel(airflow, empty_lake):
    from salescast.dashboard.app import plotly_js

    response = airflow.client.get("/salescast/static/plotly.min.js", headers=airflow.as_user("viewer"))
    assert response.status_code == 200
    assert response.content == plotly_js().read_bytes()
    assert response.content.startswith(b"/**\n* plotly.js v")
    assert response.headers["content-type"].startswith(("application/javascript", "text/javascript"))


def test_the_plugin_and_its_views_are_listed_for_the_ui(airflow):
    response = airflow.client.get("/api/v2/plugins", headers=airflow.as_user("viewer"))
    assert response.status_code == 200
    plugins = {p["name"]: p for p in response.json()["plugins"]}
    assert "salescast" in plugins, "the plugin vanished from GET /api/v2/plugins (a view or app failed validation)"
    plugin = plugins["salescast"]
    assert [(a["name"], a["url_prefix"]) for a in plugin["fastapi_apps"]] == [("salescast dashboard", "/salescast")]
    views = {v["destination"]: v for v in plugin["external_views"]}
    assert views["nav"]["href"] == "salescast/forecasts"
    assert views["dag_run"]["href"] == "salescast/dags/{DAG_ID}/runs/{RUN_ID}"
    assert views["dag_run"]["url_route"]  # without it the UI shows no tab
    errors = airflow.client.get("/api/v2/plugins/importErrors", headers=airflow.as_user("admin")).json()
    assert not [e for e in errors["import_errors"] if "salescast" in str(e)]
