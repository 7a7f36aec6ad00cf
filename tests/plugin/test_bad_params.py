"""Bad parameters get a clear 4xx (never a 500, a traceback or a file outside the lake), on a
lake with nothing published and runs that do not exist."""

from __future__ import annotations

import pytest

RUN = "/salescast/dags/sales_ingest/runs/manual__2025-03-31T00:00:00+00:00"

CASES = {
    "/salescast/api/series/detail?store_id=S01&item_id=I01": (404, "unknown series"),
    "/salescast/api/series/detail?item_id=I01": (400, "store_id is required"),
    "/salescast/api/series/detail?store_id=S01&item_id=%1b%5b31m": (400, "not a valid id"),
    "/salescast/api/series/detail?store_id=S01&item_id=I01&run_date=31.03.2025": (400, "not a date"),
    "/salescast/api/series/detail?store_id=S01&item_id=I01&run_date=2025-03-31": (404, "no run is published yet"),
    "/salescast/api/series?q=%00": (400, "printable"),
    "/salescast/api/series?limit=100000": (422, "limit"),
    "/salescast/api/series?order=sideways": (422, "order"),
    "/salescast/static/%2e%2e": (400, "malformed"),
    "/salescast/static/app.py": (404, "available: "),
    "/salescast/static/plotly.min.js%00": (400, "malformed"),
    "/salescast/api/dags/sales_ingest/runs/%2e%2e%2f%2e%2e": (404, "Not Found"),  # a slash: no route
    "/salescast/api/dags/sales_ingest/runs/run%00id": (400, "run_id is malformed"),
    "/salescast/api/dags/bad%20dag/runs/manual__2025-03-31T00:00:00+00:00": (400, "dag_id is malformed"),
    f"/salescast/api{RUN.removeprefix('/salescast')}": (404, "has no run"),
    f"/salescast/api{RUN.removeprefix('/salescast')}/quarantine?limit=0": (422, "limit"),
    f"{RUN}/raw/%2Fetc%2Fpasswd": (404, "Not Found"),
    f"{RUN}/files/..%5Cwarehouse.duckdb": (404, "has no run"),
}


@pytest.mark.parametrize("url", list(CASES))
def test_bad_parameter(airflow, empty_lake, url):
    status, message = CASES[url]
    response = airflow.client.get(url, headers=airflow.as_user("viewer"))
    assert response.status_code == status, response.text[:300]
    assert message in response.text
    assert "Traceback" not in response.text
    assert b"root:x:" not in response.content


def test_a_page_for_another_dag_explains_itself_in_html(airflow, empty_lake):
    response = airflow.client.get(
        "/salescast/dags/sales_catalog/runs/manual__2025-03-31T00:00:00+00:00", headers=airflow.as_browser("viewer")
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "salescast shows runs of sales_ingest and sales_forecast" in response.text
