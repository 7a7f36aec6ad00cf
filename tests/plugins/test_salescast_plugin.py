"""plugins/salescast_plugin.py: the salescast dashboard as the plugin serves it inside Airflow,
on the real Airflow API app (``create_app()``, the plugin loaded from plugins/ by Airflow's
plugin manager) and the session's SQLite DB (fixtures in tests/plugins/conftest.py).

* Access: Airflow does not protect a plugin's app: every dashboard route must refuse anonymous
  requests (401), bad tokens and users without the permission (403), and let a logged-in viewer
  in. The plugin must also stay visible to the UI (GET /api/v2/plugins).
* Loading: Airflow imports plugin modules in every component (scheduler, DAG processor, each
  task), so loading the salescast plugin must stay cheap: no pandas, pyarrow, plotly, FastAPI app.
* Bad parameters get a clear 4xx (never a 500, a traceback or a file outside the lake), on a
  lake with nothing published and runs that do not exist.
* An ``s3://`` lake (a real moto_server over HTTP): the same code path as ``file://`` through
  ``salescast.lake``, markers listed with one LIST, never stale.
* A real lake (history, three ingested days with defects, four forecast runs, the last day's
  sales_ingest and sales_forecast run for real with dag.test()): every number a route returns is
  compared with the Parquet files read independently here.
* A day whose landing files are hostile, ingested by a real ``sales_ingest`` run (dag.test()),
  then its run tab: the quarantine CSV download runs no formula in a spreadsheet (OWASP's rule,
  ``salescast.csv_safe``), and a 10,000-character value neither widens the page (it rendered
  145,306 px wide) nor is lost (the cell's title and the CSV hold it). The page is rendered by
  headless Chromium (`make chromium`).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import pandas as pd
import pytest

from salescast.csv_safe import FORMULA_TRIGGERS
from salescast.dashboard.asgi import dashboard_app
from tests.support.dashboard_lake import (
    LAST,
    TASK_RUNS,
    build,
    build_with_drivers,
    dag_run,
    forecast_run,
    lake_env,
    publish_history,
)
from tests.support.net import point_aws_at

# ---- access --------------------------------------------------------------------------------------


EXPECTED = (
    "/salescast/forecasts",
    "/salescast/api/series",
    "/salescast/api/series/detail",
    "/salescast/api/accuracy",
    "/salescast/api/forecasts.csv",
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
    assert runs.json() == {"run_dates": [], "latest": None, "sales_days": 0, "exports": []}


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


# ---- loading the plugin --------------------------------------------------------------------------


HEAVY = ("pandas", "pyarrow", "numpy", "plotly", "fastapi", "jinja2", "matplotlib", "duckdb", "great_expectations")
LOAD = """
import json, sys, time
import airflow.plugins_manager as plugins_manager
before = set(sys.modules)
started = time.perf_counter()
plugins_manager.ensure_plugins_loaded()
seconds = time.perf_counter() - started
names = [p["name"] for p in plugins_manager.get_plugin_info()]
new = {m.split(".")[0] for m in set(sys.modules) - before}
errors = plugins_manager.get_import_errors()
print(json.dumps({"names": names, "new": sorted(new), "seconds": seconds, "errors": errors}))
"""


def test_loading_the_plugin_imports_nothing_heavy():
    done = subprocess.run(
        [sys.executable, "-c", LOAD], capture_output=True, text=True, check=True, env=os.environ.copy()
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert "salescast" in loaded["names"]
    assert loaded["errors"] == {}
    assert [m for m in HEAVY if m in loaded["new"]] == []
    assert loaded["seconds"] < 1.0, loaded


# ---- bad parameters ------------------------------------------------------------------------------


RUN_PAGE = "/salescast/dags/sales_ingest/runs/manual__2025-03-31T00:00:00+00:00"
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
    f"/salescast/api{RUN_PAGE.removeprefix('/salescast')}": (404, "has no run"),
    f"/salescast/api{RUN_PAGE.removeprefix('/salescast')}/quarantine?limit=0": (422, "limit"),
    f"{RUN_PAGE}/raw/%2Fetc%2Fpasswd": (404, "Not Found"),
    f"{RUN_PAGE}/files/..%5Cwarehouse.duckdb": (404, "has no run"),
    "/salescast/api/forecasts.csv": (404, "no forecast run is published yet"),
    "/salescast/api/forecasts.csv?run_date=2025-03-31": (404, "no forecast run of 2025-03-31 is published"),
    "/salescast/api/forecasts.csv?run_date=2025-02-30": (400, "not a date"),
    "/salescast/api/forecasts.csv?run_date=../../etc": (400, "not a date"),
    "/salescast/api/forecasts.csv?store=%00": (400, "printable"),
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


# ---- an s3:// lake -------------------------------------------------------------------------------


BUCKET = "salescast-dashboard"
S3_FIRST, S3_LAST, S3_RUN = date(2025, 2, 1), date(2025, 3, 30), date(2025, 3, 29)


@pytest.fixture
def s3_lake(airflow, moto_endpoint, tmp_path, monkeypatch):
    import boto3

    from salescast.config import Settings
    from salescast.lake import Lake

    point_aws_at(monkeypatch, moto_endpoint)
    monkeypatch.setenv("SALESCAST_HOME", str(tmp_path))
    monkeypatch.setenv("SALESCAST_LAKE_URI", f"s3://{BUCKET}/lake")
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    lake = Lake.from_settings(Settings.from_env())
    assert not lake.is_local
    publish_history(lake, S3_FIRST, S3_LAST)
    forecast_run(S3_RUN)
    return lake, s3


def read(s3, key: str) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=f"lake/{key}")["Body"].read()))


@pytest.mark.slow
@pytest.mark.aws
def test_dashboard_reads_an_s3_lake_and_is_never_stale(airflow, s3_lake):
    from salescast.lake import SALES_DAILY
    from salescast.publish import DATA_FILE, publish_partition

    lake, s3 = s3_lake
    viewer = airflow.as_user("viewer")
    runs = airflow.client.get("/salescast/api/runs", headers=viewer).json()
    assert runs == {
        "run_dates": [S3_RUN.isoformat()],
        "latest": S3_RUN.isoformat(),
        "sales_days": (S3_LAST - S3_FIRST).days + 1,
        "exports": [S3_RUN.isoformat()],
    }
    assert airflow.client.get("/salescast/api/series", headers=viewer).json()["total"] == 10

    forecasts = read(s3, f"forecasts/run_date={S3_RUN}/part-0.parquet")
    store, item = forecasts.iloc[0]["store_id"], forecasts.iloc[0]["item_id"]
    url = f"/salescast/api/series/detail?store_id={quote(store)}&item_id={quote(item)}"
    detail = airflow.client.get(url, headers=viewer).json()
    mine = forecasts[(forecasts["store_id"] == store) & (forecasts["item_id"] == item)].sort_values("date")
    assert detail["forecast"]["p50"] == pytest.approx(list(mine["p50"]))
    last_day = read(s3, f"curated/sales_daily/dt={S3_LAST}/part-0.parquet")
    row = last_day[(last_day["store_id"] == store) & (last_day["item_id"] == item)]
    expected = float(row["units"].sum()) if len(row) else 0.0
    assert detail["history"]["units"][-1] == expected
    assert detail["forecast"]["actual"][0] == expected  # the run's first target day has arrived
    accuracy = airflow.client.get("/salescast/api/accuracy", headers=viewer).json()["rows"]
    assert [(r["run_date"], r["horizon_step"], r["points"]) for r in accuracy] == [(S3_RUN.isoformat(), 1, 10)]
    # the download streams the export from S3, cut to the store
    export = gzip.decompress(
        s3.get_object(Bucket=BUCKET, Key=f"lake/exports/run_date={S3_RUN}/forecast.csv.gz")["Body"].read()
    )
    download = airflow.client.get(f"/salescast/api/forecasts.csv?store={quote(store)}", headers=viewer)
    assert download.status_code == 200, download.text[:300]
    want = [r for r in csv.DictReader(io.StringIO(export.decode())) if r["store_id"] == store]
    assert list(csv.DictReader(io.StringIO(download.text))) == want != []

    staged = lake.staging_dir(SALES_DAILY, S3_LAST) / "run=again" / DATA_FILE
    lake.write_parquet(staged, last_day.assign(units=last_day["units"] + 1000))  # a re-run of the last day
    publish_partition(lake, staged, lake.curated_dir(S3_LAST), {"dataset": "sales_daily", "run_id": "again"})
    again = airflow.client.get(url, headers=viewer).json()
    assert math.isclose(again["history"]["units"][-1], expected + 1000 if len(row) else 0.0)


# ---- a real lake ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(airflow, tmp_path_factory):
    root = tmp_path_factory.mktemp("dashboard")
    env = lake_env(root, SALESCAST_MAX_BAD_ROW_FRACTION="0.4")  # the last day has two extra bad records
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        from salescast.config import Settings
        from salescast.lake import Lake

        yield build(Lake.from_settings(Settings.from_env()))


@pytest.fixture(scope="module")
def viewer(airflow, built):
    return airflow.as_browser("viewer")


def published(root: Path, folder: str) -> dict[str, pd.DataFrame]:
    """Partition value -> rows, for partitions with _SUCCESS (read with pandas, not the app)."""
    out = {}
    for part in sorted((root / folder).glob("*=*")):
        if (part / "_SUCCESS").exists():
            out[part.name.split("=", 1)[1]] = pd.read_parquet(part / "part-0.parquet")
    return out


def close(a, b) -> bool:
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        return a is None and (b is None or math.isnan(b))
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def get(airflow, headers, url, status=200):
    response = airflow.client.get(url, headers=headers)
    assert response.status_code == status, (url, response.status_code, response.text[:500])
    return response


@pytest.mark.slow
def test_series_list_matches_the_lake(airflow, built, viewer):
    root = built.root
    sales = pd.concat(published(root, "curated/sales_daily").values())
    latest = max(published(root, "forecasts"))
    metrics = published(root, "metrics")[latest]
    chosen = metrics[metrics["chosen"]].set_index(["store_id", "item_id"])
    safety = published(root, "safety_stock")[latest].set_index(["store_id", "item_id"])
    days = sorted(sales["date"].unique())
    recent = sales[sales["date"].isin(days[-28:])].groupby(["store_id", "item_id"])["units"].sum()

    page = get(airflow, viewer, "/salescast/api/series?limit=500").json()
    assert page["run_date"] == latest == LAST.isoformat()
    assert page["total"] == sales.groupby(["store_id", "item_id"]).ngroups == 10
    for row in page["series"]:
        key = (row["store_id"], row["item_id"])
        assert close(row["volume"], recent.get(key, 0.0)), key
        assert row["model"] == chosen.loc[key, "model"]
        assert close(row["mean_wql"], chosen.loc[key, "mean_wql"])
        assert close(row["wape"], chosen.loc[key, "wape"])
        assert close(row["safety_stock"], safety.loc[key, "safety_stock"])
    volumes = [r["volume"] for r in page["series"]]
    assert volumes == sorted(volumes, reverse=True)  # default: volume, largest first

    by_error = get(airflow, viewer, "/salescast/api/series?sort=wql&limit=500").json()["series"]
    errors = [r["mean_wql"] for r in by_error if r["mean_wql"] is not None]
    assert errors == sorted(errors)
    by_stock = get(airflow, viewer, "/salescast/api/series?sort=safety_stock&order=asc&limit=500").json()["series"]
    assert [r["safety_stock"] for r in by_stock] == sorted(r["safety_stock"] for r in by_stock)

    store = page["series"][0]["store_id"]
    only = get(airflow, viewer, f"/salescast/api/series?store={quote(store)}&limit=500").json()
    assert only["total"] == 5
    assert {r["store_id"] for r in only["series"]} == {store}
    paged = get(airflow, viewer, "/salescast/api/series?limit=3&offset=3").json()
    assert paged["total"] == 10
    assert [r["item_id"] for r in paged["series"]] == [r["item_id"] for r in page["series"][3:6]]


@pytest.mark.slow
def test_series_page_matches_the_lake(airflow, built, viewer):
    root = built.root
    sales = published(root, "curated/sales_daily")
    forecasts, metrics = published(root, "forecasts"), published(root, "metrics")
    row = forecasts[LAST.isoformat()].iloc[0]
    store, item = row["store_id"], row["item_id"]
    url = f"/salescast/api/series/detail?store_id={quote(store)}&item_id={quote(item)}"
    detail = get(airflow, viewer, url).json()

    assert detail["run_dates"] == sorted(forecasts) == [d.isoformat() for d in [*TASK_RUNS, LAST]]
    assert detail["run_date"] == LAST.isoformat()
    history = dict(zip(detail["history"]["dates"], detail["history"]["units"], strict=True))
    first, last = date.fromisoformat(min(sales)), date.fromisoformat(max(sales))
    calendar = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    assert detail["history"]["dates"] == calendar  # every day: unpublished ones are gaps (None)
    assert [d for d, units in history.items() if units is not None] == sorted(sales)
    for day in sorted(sales):
        units = history[day]
        rows = sales[day][(sales[day]["store_id"] == store) & (sales[day]["item_id"] == item)]
        assert close(units, rows["units"].sum() if len(rows) else 0.0), day  # no row = no sales

    expected = forecasts[LAST.isoformat()]
    expected = expected[(expected["store_id"] == store) & (expected["item_id"] == item)].sort_values("date")
    band = detail["forecast"]
    assert band["dates"] == [d.isoformat() for d in expected["date"]]
    for column in ("p10", "p50", "p90", "mean"):
        assert all(close(a, b) for a, b in zip(band[column], expected[column], strict=True)), column
    assert band["actual"] == [None] * 7  # nothing after the last day has arrived
    # so the page offers the newest run whose first target day has arrived
    scored = [run for run, rows in forecasts.items() if str(rows["date"].min())[:10] in sales]
    assert detail["scored_run"] == max(scored) == TASK_RUNS[-1].isoformat()

    tried = metrics[LAST.isoformat()]
    tried = tried[(tried["store_id"] == store) & (tried["item_id"] == item)]
    best = tried[tried["chosen"]].iloc[0]
    assert detail["metrics"]["model"] == best["model"] == band["model"]
    for column in ("mean_wql", "wape", "mase", "coverage"):
        assert close(detail["metrics"][column], best[column]), column
    assert sorted(c["model"] for c in detail["metrics"]["candidates"]) == sorted(tried["model"])
    safety = published(root, "safety_stock")[LAST.isoformat()].set_index(["store_id", "item_id"]).loc[(store, item)]
    assert close(detail["safety_stock"]["safety_stock"], safety["safety_stock"])
    assert close(detail["safety_stock"]["reorder_point"], safety["reorder_point"])


@pytest.mark.slow
def test_an_earlier_run_shows_the_actuals_that_arrived_after_it(airflow, built, viewer):
    root = built.root
    sales = published(root, "curated/sales_daily")
    run = TASK_RUNS[0]
    frame = published(root, "forecasts")[run.isoformat()]
    store, item = frame.iloc[0]["store_id"], frame.iloc[0]["item_id"]
    url = f"/salescast/api/series/detail?store_id={quote(store)}&item_id={quote(item)}&run_date={run}"
    band = get(airflow, viewer, url).json()["forecast"]
    assert band["dates"][0] == (run + timedelta(days=1)).isoformat()
    arrived = [d for d in band["dates"] if d in sales]
    assert arrived == [(run + timedelta(days=i)).isoformat() for i in range(1, (LAST - run).days + 1)]
    for day, actual in zip(band["dates"], band["actual"], strict=True):
        if day not in sales:
            assert actual is None
            continue
        rows = sales[day][(sales[day]["store_id"] == store) & (sales[day]["item_id"] == item)]
        assert close(actual, rows["units"].sum() if len(rows) else 0.0), day
    assert band["scores"]["points"] == len(arrived)


@pytest.mark.slow
def test_accuracy_is_what_the_forecast_accuracy_view_holds(airflow, built, viewer):
    """The project's own SQL (include/sql, transpiled for DuckDB) over the same lake, in an
    in-memory DuckDB (the dashboard itself never opens warehouse.duckdb)."""
    import duckdb

    from salescast.catalog.sql import duckdb_statements

    connection = duckdb.connect()
    for statement in duckdb_statements(built.lake):
        connection.execute(statement)
    view = connection.execute("SELECT * FROM forecast_accuracy ORDER BY run_date, horizon_step").df()
    rows = get(airflow, viewer, "/salescast/api/accuracy").json()["rows"]
    assert len(rows) == len(view) > 0
    assert {r["run_date"] for r in rows} == {d.isoformat() for d in TASK_RUNS}  # LAST has no actuals yet
    for ours, theirs in zip(rows, view.to_dict("records"), strict=True):
        assert ours["run_date"] == str(theirs["run_date"])[:10]
        assert ours["horizon_step"] == theirs["horizon_step"]
        assert ours["points"] == theirs["points"]
        for column in ("abs_actual", "wql_p10", "wql_p50", "wql_p90", "wape", "coverage", "bias"):
            assert close(ours[column], theirs[column]), (ours["run_date"], ours["horizon_step"], column)
    assert any(r["bias"] is not None and r["bias"] != 0 for r in rows)  # a real check, not nulls or zeros


def export_rows(root: Path, run: str) -> list[dict[str, str]]:
    """The run's planner export, read here with gzip and the csv module (not the app)."""
    text = gzip.decompress((root / "exports" / f"run_date={run}" / "forecast.csv.gz").read_bytes()).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.slow
def test_the_forecasts_download_is_the_runs_export_for_the_listed_series(airflow, built, viewer):
    """The latest run's by default, an earlier one by run_date; only the series the list shows
    for the same filters; every number the published Parquet's."""
    root = built.root
    latest = LAST.isoformat()
    everything = get(airflow, viewer, "/salescast/api/forecasts.csv")
    assert everything.headers["content-type"] == "text/csv; charset=utf-8"
    assert everything.headers["content-disposition"] == f'attachment; filename="forecast_{latest}.csv"'
    assert everything.headers["cache-control"] == "no-store"
    assert list(csv.DictReader(io.StringIO(everything.text))) == export_rows(root, latest)

    listed = get(airflow, viewer, "/salescast/api/series?store=s02&item=3&limit=500").json()["series"]
    series = {(r["store_id"], r["item_id"]) for r in listed}
    assert len(series) == 1
    url = f"/salescast/api/forecasts.csv?run_date={TASK_RUNS[0]}&store=s02&item=3"
    download = get(airflow, viewer, url)
    name = f"forecast_{TASK_RUNS[0]}_store-s02_item-3.csv"
    assert download.headers["content-disposition"] == f'attachment; filename="{name}"'
    header, *rows = list(csv.reader(io.StringIO(download.text)))
    records = [dict(zip(header, row, strict=True)) for row in rows]
    assert records == [
        r for r in export_rows(root, TASK_RUNS[0].isoformat()) if (r["store_id"], r["item_id"]) in series
    ]
    parquet = published(root, "forecasts")[TASK_RUNS[0].isoformat()]
    store, item = next(iter(series))
    parquet = parquet[(parquet["store_id"] == store) & (parquet["item_id"] == item)]
    assert len(records) == len(parquet) > 0
    for record, (_, want) in zip(records, parquet.iterrows(), strict=True):
        assert record["date"] == str(want["date"])[:10]
        for q in ("p10", "p50", "p90"):
            assert float(record[f"statistical_{q}"]) == float(record[f"final_{q}"]) == want[q]

    missing = airflow.client.get("/salescast/api/forecasts.csv?run_date=2025-01-05", headers=viewer)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no forecast run of 2025-01-05 is published"}
    marker = root / "exports" / f"run_date={TASK_RUNS[1]}" / "_SUCCESS"  # as if made before exports
    saved = marker.read_bytes()
    marker.unlink()
    try:
        assert TASK_RUNS[1].isoformat() not in get(airflow, viewer, "/salescast/api/runs").json()["exports"]
        gone = airflow.client.get(f"/salescast/api/forecasts.csv?run_date={TASK_RUNS[1]}", headers=viewer)
        assert gone.status_code == 404
        assert f"forecast run {TASK_RUNS[1]} has no export" in gone.json()["detail"]
    finally:
        marker.write_bytes(saved)


@pytest.mark.slow
def test_ingest_run_tab_shows_validation_quarantine_and_raw_files(airflow, built, viewer):
    root = built.root
    run_path = f"/dags/sales_ingest/runs/{quote(built.ingest_run_id, safe='')}"
    overview = get(airflow, viewer, f"/salescast/api{run_path}").json()
    assert overview["day"] == LAST.isoformat()
    report_dir = next((root / "reports" / f"run_date={LAST}" / "ingest").iterdir())
    validation = json.loads((report_dir / "validation.json").read_text())
    assert overview["validation"] == validation["summary"]
    assert [s["suite"] for s in overview["suites"]] == [s["suite_name"] for s in validation["suites"]]
    quarantined = pd.read_parquet(root / "quarantine" / "sales" / f"dt={LAST}" / "rows.parquet")
    assert set(quarantined["run_id"]) == {built.ingest_run_id}
    assert overview["quarantine"]["rows"] == len(quarantined) == validation["summary"]["quarantined"] > 0
    raw = sorted(p.name for p in (root / "raw" / "sales" / f"dt={LAST}").iterdir())
    assert [f["name"] for f in overview["raw_files"]] == raw
    assert overview["published"] == {"rows": validation["summary"]["published_rows"], "run_id": built.ingest_run_id,
                                      "by_this_run": True}  # fmt: skip

    page = get(airflow, viewer, f"/salescast/api{run_path}/quarantine?limit=2&offset=1").json()
    assert page["total"] == len(quarantined)
    assert [r["reason"] for r in page["rows"]] == list(quarantined["reason"].iloc[1:3])
    assert [r["raw"] for r in page["rows"]] == list(quarantined["raw"].iloc[1:3])

    download = get(airflow, viewer, f"/salescast/api{run_path}/quarantine.csv")
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [r["reason"] for r in rows] == list(quarantined["reason"])
    assert [r["source_file"] for r in rows] == list(quarantined["source_file"])

    name = raw[0]
    file = get(airflow, viewer, f"/salescast{run_path}/raw/{quote(name)}")
    assert file.content == (root / "raw" / "sales" / f"dt={LAST}" / name).read_bytes()
    html = get(airflow, viewer, f"/salescast{run_path}/files/validation.html")
    assert html.headers["content-security-policy"].startswith("default-src 'none'")  # no script runs in it
    assert html.content == (report_dir / "validation.html").read_bytes()
    tab = get(airflow, viewer, f"/salescast{run_path}")
    assert 'data-dag-id="sales_ingest"' in tab.text
    assert f'data-run-id="{built.ingest_run_id}"' in tab.text


@pytest.mark.slow
def test_forecast_run_tab_shows_the_report_and_summary(airflow, built, viewer):
    root = built.root
    run_path = f"/dags/sales_forecast/runs/{quote(built.forecast_run_id, safe='')}"
    overview = get(airflow, viewer, f"/salescast/api{run_path}").json()
    summary = json.loads((root / "reports" / f"run_date={LAST}" / "forecast_summary.json").read_text())
    assert overview["outputs_of_this_run"] is True
    assert overview["summary"]["run_id"] == summary["run_id"] == built.forecast_run_id
    assert overview["summary"]["series"] == summary["series"] == 10
    assert overview["summary"]["model_mix"] == summary["model_mix"]
    assert overview["summary"]["bake_off"] == summary["backtest"]["bake_off"]
    for name in ("forecasts", "metrics", "safety_stock", "forecasts_final"):
        assert overview["published"][name]["by_this_run"] is True
    assert overview["summary"]["overrides"] == summary["overrides"]  # what the run tab shows of them
    assert overview["summary"]["overrides"]["considered"] == 0
    assert overview["report"] == "index.html"
    assert "total.png" in overview["files"]
    page = get(airflow, viewer, f"/salescast{run_path}/files/index.html")
    assert page.content == (root / "reports" / f"run_date={LAST}" / "index.html").read_bytes()
    assert get(airflow, viewer, f"/salescast{run_path}/files/total.png").content.startswith(b"\x89PNG")
    assert get(airflow, viewer, f"/salescast{run_path}").status_code == 200


@pytest.mark.slow
def test_bad_parameters_get_a_clear_4xx_and_nothing_outside_the_lake(airflow, built, viewer):
    secret = built.root.parent / "secret.txt"  # next to the lake, never to be served
    secret.write_text("do not serve")
    ingest = f"/salescast/dags/sales_ingest/runs/{quote(built.ingest_run_id, safe='')}"
    forecast = f"/salescast/dags/sales_forecast/runs/{quote(built.forecast_run_id, safe='')}"
    cases = {
        "/salescast/api/series/detail?store_id=S01&item_id=nope": (404, "unknown series"),
        "/salescast/api/series/detail?store_id=S01": (400, "item_id is required"),
        "/salescast/api/series/detail?store_id=S%00&item_id=x": (400, "not a valid id"),
        f"/salescast/api/series/detail?store_id={'x' * 300}&item_id=y": (400, "not a valid id"),
        "/salescast/api/series/detail?store_id=S01&item_id=x&run_date=2025-02-30": (400, "not a date"),
        "/salescast/api/series/detail?store_id=S01&item_id=x&run_date=../../x": (400, "not a date"),
        "/salescast/api/planning?run_date=../x": (400, "not a date"),
        "/salescast/api/series/detail?store_id=S01&item_id=x&run_date=2024-01-01": (404, "no published forecast run"),
        "/salescast/api/series?sort=bogus": (422, "sort"),
        "/salescast/api/series?limit=0": (422, "limit"),
        "/salescast/api/series?offset=-1": (422, "offset"),
        "/salescast/api/dags/sales_ingest/runs/not%20a%20run%20id": (400, "run_id is malformed"),
        "/salescast/api/dags/sales_ingest/runs/%2e%2e": (404, "has no run"),
        "/salescast/api/dags/sales_ingest/runs/manual__2099-01-01T00:00:00+00:00": (404, "has no run"),
        "/salescast/api/dags/sales_catalog/runs/manual__2025-03-31T00:00:00+00:00": (404, "sales_ingest and"),
        f"/salescast/api{forecast.removeprefix('/salescast')}/quarantine": (404, "belong to sales_ingest"),
        f"{forecast}/files/%2e%2e": (400, "malformed"),
        f"{forecast}/files/secret.txt": (404, "available: "),
        f"{forecast}/files/index.html%00": (400, "malformed"),
        f"{ingest}/raw/..%5C..%5Csecret.txt": (400, "malformed"),
        f"{ingest}/raw/nope.csv": (404, "available: "),
    }
    for url, (status, message) in cases.items():
        response = airflow.client.get(url, headers=viewer)
        assert response.status_code == status, (url, response.status_code, response.text[:300])
        assert message in response.text, (url, response.text[:300])
        assert "Traceback" not in response.text
    # slashes (raw or encoded) and absolute paths never reach a file route: no route matches them
    for url in (f"{forecast}/files/..%2F..%2F..%2Fsecret.txt", f"{forecast}/files/%2Fetc%2Fpasswd",
                f"{ingest}/raw/%2e%2e/%2e%2e/%2e%2e/secret.txt", f"{forecast}/files//etc/passwd"):  # fmt: skip
        response = airflow.client.get(url, headers=viewer)
        assert response.status_code == 404, url
        assert b"do not serve" not in response.content, url
        assert b"root:" not in response.content, url


@pytest.mark.slow
def test_pages_are_never_stale(airflow, built, viewer):
    """Re-publishing a day (a re-run) shows up on the next request; nothing is restarted."""
    from salescast.lake import SALES_DAILY
    from salescast.publish import DATA_FILE, publish_partition

    lake, day = built.lake, LAST - timedelta(days=2)
    original = lake.read_parquet(lake.curated_dir(day) / DATA_FILE)
    store, item = original.iloc[0]["store_id"], original.iloc[0]["item_id"]
    url = f"/salescast/api/series/detail?store_id={quote(store)}&item_id={quote(item)}"

    def units_on(value: date) -> float:
        history = get(airflow, viewer, url).json()["history"]
        return history["units"][history["dates"].index(value.isoformat())]

    def republish(frame: pd.DataFrame) -> None:
        staged = lake.staging_dir(SALES_DAILY, day) / "run=test" / DATA_FILE
        lake.write_parquet(staged, frame)
        publish_partition(lake, staged, lake.curated_dir(day), {"dataset": "sales_daily", "run_id": "test"})

    def actual_sum(run: date) -> float:
        rows = get(airflow, viewer, "/salescast/api/accuracy").json()["rows"]
        return next(r["abs_actual"] for r in rows if r["run_date"] == run.isoformat() and r["horizon_step"] == 1)

    assert close(units_on(day), original.iloc[0]["units"])  # cached from here on
    before = actual_sum(day - timedelta(days=1))  # the run whose first target day is `day`
    try:
        republish(original.assign(units=original["units"].abs() + 1000))
        assert close(units_on(day), abs(original.iloc[0]["units"]) + 1000)
        grown = (original["units"].abs() + 1000).sum() - original["units"].abs().sum()
        assert close(actual_sum(day - timedelta(days=1)), before + grown)
        (lake.curated_dir(day) / "_SUCCESS").unlink()  # what a publish does first: the day is not published
        assert units_on(day) is None  # not published: a gap in the chart, never 0
    finally:
        republish(original)
    assert close(units_on(day), original.iloc[0]["units"])


# ---- hostile landing files -----------------------------------------------------------------------


DAY = date(2025, 4, 2)
HOSTILE_FILE = '=HYPERLINK("http:evil.example","x").csv'
HOSTILE_LINE = "=cmd|' /C calc'!A0"
LONG = "9" * 10_000  # a units value: its reason quotes it, and so does the raw record
WIDE = "x" * 10_000  # a malformed line with no space to wrap at
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def hostile(airflow, tmp_path_factory):
    """The day's landing folder: good rows, a file named as a formula holding a formula line,
    and two records with 10,000-character values; then sales_ingest for the day."""
    root = tmp_path_factory.mktemp("hostile")
    env = lake_env(root, SALESCAST_SENSOR_TIMEOUT_SECONDS="30", SALESCAST_MAX_BAD_ROW_FRACTION="0.5")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        landing = root / "lake" / "landing" / "sales" / DAY.isoformat()
        landing.mkdir(parents=True)
        good = "".join(f"{DAY},S01,I{i:03d},{i % 5 + 1}\n" for i in range(40))
        hostile_rows = f"{HOSTILE_LINE}\n{DAY},S02,I001,{LONG}\n{DAY},S02,I002,3,{WIDE}\n"
        (landing / HOSTILE_FILE).write_text(f"date,store_id,item_id,units\n{good}{hostile_rows}")
        run = dag_run("sales_ingest", DAY)
        assert run.state == "success", run.state
        yield run.run_id


def run_path(run_id: str) -> str:
    return f"/dags/sales_ingest/runs/{quote(run_id, safe='')}"


@pytest.mark.slow
def test_the_quarantine_download_runs_no_formula_in_a_spreadsheet(airflow, hostile):
    response = airflow.client.get(
        f"/salescast/api{run_path(hostile)}/quarantine.csv", headers=airflow.as_user("viewer")
    )
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/csv")
    header, *rows = list(csv.reader(io.StringIO(response.text)))
    assert len(rows) == 3
    offending = [cell[:40] for row in [header, *rows] for cell in row if cell.startswith(FORMULA_TRIGGERS)]
    assert offending == []
    records = [dict(zip(header, row, strict=True)) for row in rows]
    assert {r["source_file"] for r in records} == {"'" + HOSTILE_FILE}
    assert "'" + HOSTILE_LINE in {r["raw"] for r in records}
    assert any(LONG in r["reason"] for r in records)  # the whole value is in the download


def browser_page(playwright, airflow):
    """A headless Chromium page whose requests to the Airflow app are answered by the test
    client (as a logged-in viewer: the Airflow UI's ``_token`` cookie)."""
    cookie = airflow.as_browser("viewer")
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
    )

    def answer(route) -> None:  # playwright's Route
        url = urlsplit(route.request.url)
        response = airflow.client.get(url.path + (f"?{url.query}" if url.query else ""), headers=cookie)
        skip = {"content-length", "content-encoding", "transfer-encoding"}
        headers = {k: v for k, v in response.headers.items() if k.lower() not in skip}
        route.fulfill(status=response.status_code, headers=headers, body=response.content)

    page = browser.new_page(viewport=VIEWPORT)
    page.route("http://localhost:8080/**", answer)
    return browser, page


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Chromium: make chromium")
def test_a_10000_character_value_keeps_the_run_tab_within_the_window(airflow, hostile):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser, page = browser_page(playwright, airflow)
        try:
            page.goto(f"http://localhost:8080/salescast{run_path(hostile)}", wait_until="load")
            cells = page.locator("#quarantine tbody tr")
            cells.nth(2).wait_for(timeout=60_000)
            width = page.evaluate("document.documentElement.scrollWidth")
            titles = page.locator("#quarantine td [title]").evaluate_all("nodes => nodes.map(n => n.title)")
            shown = page.locator("#quarantine tbody").inner_text()
        finally:
            browser.close()
    assert width <= VIEWPORT["width"], f"the page is {width} px wide"
    assert len(shown) < 5_000  # long values are cut in the table ...
    assert any(LONG in t for t in titles)  # ... and whole in the cell's title
    assert any(WIDE in t for t in titles)


# ---- the Forecasts page in Chromium: download and bias ----------------------------------------------


LINK = "() => { const a = document.getElementById('download'); return a.hidden ? null : a.getAttribute('href'); }"


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Chromium: make chromium")
def test_the_download_button_follows_the_search_and_the_shown_run(airflow, built, monkeypatch):
    """The link is the shown run's (the latest until another is picked) with the search's store
    and item; a run without an export shows why instead of a link. Bias on the accuracy panel:
    the API's values, the sign explained. (Chromium cancels a download answered by a routed
    request, microsoft/playwright#28253: the click itself is tested on a real api-server in
    tests/system/test_airflow_ui.py.)"""
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("SALESCAST_LAKE_URI", built.lake.uri)  # the module's other lakes may be set later
    earlier = TASK_RUNS[0].isoformat()
    marker = built.root / "exports" / f"run_date={LAST}" / "_SUCCESS"
    saved = marker.read_bytes()
    with sync_playwright() as playwright:
        browser, page = browser_page(playwright, airflow)
        try:
            marker.unlink()  # the latest run as if published before exports
            page.goto("http://localhost:8080/salescast/forecasts", wait_until="load")
            page.locator("#download-what").filter(has_text="has no export").wait_for(timeout=60_000)
            assert page.evaluate(LINK) is None
            marker.write_bytes(saved)
            page.reload(wait_until="load")
            page.wait_for_function(f"() => ({LINK})() === '/salescast/api/forecasts.csv?run_date={LAST}'")
            page.fill("#search input[name='store']", "s02")
            page.fill("#search input[name='item']", "3")
            page.wait_for_function("() => document.querySelectorAll('#series-table tbody tr.pick').length === 1")
            page.locator("#series-table tbody tr.pick").first.click()
            page.wait_for_function("() => document.getElementById('run-date').options.length > 1")
            page.select_option("#run-date", earlier)
            href = f"/salescast/api/forecasts.csv?run_date={earlier}&store=s02&item=3"
            page.wait_for_function(f"() => ({LINK})() === '{href}'")
            described = page.locator("#download-what").inner_text()
            assert page.locator("#download").get_attribute("download") == ""  # saved, not opened
            page.select_option("#accuracy-metric", "bias")
            page.locator("#bias-legend").wait_for(state="visible")
            legend = page.locator("#bias-legend").inner_text()
            shown = page.evaluate("() => document.getElementById('accuracy-runs').data[0].y")
            latest_line = page.locator("#accuracy-latest").inner_text()
        finally:
            marker.write_bytes(saved)
            browser.close()
    assert described == f"run {earlier}, store \u201cs02\u201d, item \u201c3\u201d"
    download = get(airflow, airflow.as_browser("viewer"), href)  # what the link fetches, with the UI's cookie
    assert download.headers["content-disposition"] == f'attachment; filename="forecast_{earlier}_store-s02_item-3.csv"'
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert {(r["store_id"], r["item_id"]) for r in rows} == {("S02", "I0003")}
    assert len(rows) == 7  # the run's 7 days
    assert "Above 0 the forecasts ran high" in legend
    runs = get(airflow, airflow.as_user("viewer"), "/salescast/api/accuracy").json()["runs"]
    assert shown == pytest.approx([r["bias"] for r in runs])
    assert "bias " in latest_line
    assert latest_line.endswith(("(ran high)", "(ran low)", "0.0%"))


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Chromium: make chromium")
def test_planning_totals_are_the_runs_sums_and_fva_is_per_run(airflow, built, viewer, monkeypatch):
    """/api/planning runs the project's SQL views over the lake: a store's p50 is the sum of its
    series' p50 over the newest run's horizon, the stores add up to the total, and every run
    with known actuals has a forecast value added (no overrides here: the final is the statistical)."""
    monkeypatch.setenv("SALESCAST_LAKE_URI", built.lake.uri)  # the module's other lakes may be set later
    planned = get(airflow, viewer, "/salescast/api/planning").json()
    assert planned["run_date"] == LAST.isoformat()
    frame = published(built.root, "forecasts")[LAST.isoformat()]
    sums = frame.groupby("store_id")["p50"].sum()
    assert {r["name"]: round(r["sum_p50"], 6) for r in planned["stores"]} == {k: round(v, 6) for k, v in sums.items()}
    assert sum(r["sum_p50"] for r in planned["total"]) == pytest.approx(frame["p50"].sum())
    assert [r["run_date"] for r in planned["fva"]] == [d.isoformat() for d in TASK_RUNS]  # LAST: no actuals yet
    assert all(r["fva_overrides"] == 0 for r in planned["fva"])
    assert all(r["fva_statistical"] is not None for r in planned["fva"])
    earlier = get(airflow, viewer, f"/salescast/api/planning?run_date={TASK_RUNS[0]}").json()
    assert earlier["run_date"] == TASK_RUNS[0].isoformat()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser, page = browser_page(playwright, airflow)
        try:
            page.goto("http://localhost:8080/salescast/forecasts", wait_until="load")
            page.locator("#planning-stores tbody tr").first.wait_for(timeout=60_000)
            store_rows = page.locator("#planning-stores tbody tr").count()
            fva_traces = page.evaluate("() => document.getElementById('planning-fva').data.length")
        finally:
            browser.close()
    assert store_rows == len(planned["stores"])  # the totals panel shows every store
    assert fva_traces == 2  # statistical vs naive, overrides vs statistical


# ---- demand drivers on the series chart ----------------------------------------------------------


@pytest.fixture(scope="module")
def drivers_lake(airflow, tmp_path_factory):
    """A run with drivers and one without (tests.support.dashboard_lake.build_with_drivers),
    the api-server's SALESCAST_DRIVERS_MAPPING=retail."""
    root = tmp_path_factory.mktemp("drivers")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in lake_env(root, SALESCAST_DRIVERS_MAPPING="retail").items():
            patch.setenv(key, value)
        from salescast.config import Settings
        from salescast.lake import Lake

        build_with_drivers(Lake.from_settings(Settings.from_env()))
        yield root


FIGURE = """() => {
  const chart = document.getElementById("chart");
  const used = document.getElementById("drivers-used");
  return {
    shapes: chart.layout.shapes.map((s) => ({ type: s.type, name: s.name || null, x0: s.x0, x1: s.x1,
      fillcolor: s.fillcolor || null, showlegend: Boolean(s.showlegend) })),
    traces: chart.data.map((t) => ({ name: t.name, x: t.x, y: t.y, yaxis: t.yaxis || "y",
      symbol: t.marker ? t.marker.symbol || null : null })),
    yaxis2: chart.layout.yaxis2 ? { side: chart.layout.yaxis2.side, title: chart.layout.yaxis2.title.text,
      overlaying: chart.layout.yaxis2.overlaying } : null,
    legend: [...chart.querySelectorAll(".legendtext")].map((n) => n.textContent),
    used: used.hidden ? null : used.textContent,
  };
}"""
CENSORED = "censored (out of stock / closed)"


def noon(day: str, sign: int) -> str:
    """The chart's edge of a shaded day: the noon before (-1) or after (+1) it."""
    return (pd.Timestamp(day) + pd.Timedelta(hours=12 * sign)).strftime("%Y-%m-%d %H:%M")


def periods(dates: list[str], values: list) -> list[tuple[str, str]]:
    """Runs of consecutive days with value 1: one rectangle each."""
    out: list[list[str]] = []
    for day, value in zip(dates, values, strict=True):
        if value != 1:
            continue
        if out and (pd.Timestamp(day) - pd.Timestamp(out[-1][1])).days == 1:
            out[-1][1] = day
        else:
            out.append([day, day])
    return [(noon(first, -1), noon(last, 1)) for first, last in out]


@pytest.fixture(scope="module")
def drivers_page(airflow, drivers_lake):
    """STOCKED_OUT's page in headless Chromium: the figure of the run with drivers, then (picked
    in the run-date selector) of the run without; and the API's details of both."""
    from playwright.sync_api import sync_playwright

    from tests.support.dashboard_lake import DRIVERS_RUN, STOCKED_OUT

    if not Path(CHROMIUM).exists():
        pytest.skip("needs Chromium: make chromium")
    store, item = STOCKED_OUT
    url = f"/salescast/api/series/detail?store_id={store}&item_id={item}"
    earlier = (DRIVERS_RUN - timedelta(days=1)).isoformat()
    details = [get(airflow, airflow.as_user("viewer"), u).json() for u in (url, f"{url}&run_date={earlier}")]
    first_day = details[1]["forecast"]["dates"][0]
    with sync_playwright() as playwright:
        browser, page = browser_page(playwright, airflow)
        try:
            page.goto(f"http://localhost:8080/salescast/forecasts#store_id={store}&item_id={item}", wait_until="load")
            shown = "() => !document.getElementById('drivers-used').hidden && document.getElementById('chart').data"
            page.wait_for_function(shown, timeout=60_000)
            figures = [page.evaluate(FIGURE)]
            page.select_option("#run-date", earlier)
            redrawn = f"() => document.getElementById('chart').data.some((t) => t.x && t.x[0] === '{first_day}')"
            page.wait_for_function(redrawn, timeout=60_000)
            figures.append(page.evaluate(FIGURE))
        finally:
            browser.close()
    return list(zip(details, figures, strict=True))


@pytest.mark.slow
def test_the_series_chart_shows_the_drivers_the_run_used(drivers_page):
    """Promotions, events and closures shaded (one rectangle per run of days, a legend entry
    each), the price on a right-hand axis, censored days as hollow markers out of the sales
    line, the drivers the chosen model used under the chart."""
    from tests.support.dashboard_lake import CLOSED, EVENTS

    detail, figure = drivers_page[0]
    block = detail["drivers"]
    assert block["censored"]
    assert block["price"]
    assert set(block["flags"]) == {"promo", "event"}
    # shading: one rectangle per run of days, a distinct colour and one legend entry per kind
    rects = [s for s in figure["shapes"] if s["type"] == "rect"]
    by_name = {name: [(s["x0"], s["x1"]) for s in rects if s["name"] == name] for name in {s["name"] for s in rects}}
    assert set(by_name) == {"promo", "event", "store closed"}
    assert by_name["promo"] == periods(block["dates"], block["flags"]["promo"])
    assert len(by_name["promo"]) < sum(v == 1 for v in block["flags"]["promo"])  # week-long promotions: merged
    assert by_name["event"] == [(noon(EVENTS[0].isoformat(), -1), noon(EVENTS[1].isoformat(), 1)),
                                (noon(EVENTS[2].isoformat(), -1), noon(EVENTS[2].isoformat(), 1))]  # fmt: skip
    assert by_name["store closed"] == [(noon(d.isoformat(), -1), noon(d.isoformat(), 1)) for d in CLOSED]
    assert len({s["fillcolor"] for s in rects}) == 3
    assert sorted(s["name"] for s in rects if s["showlegend"]) == ["event", "promo", "store closed"]
    # the price on its own axis, on the right
    traces = {t["name"]: t for t in figure["traces"]}
    assert traces["price"]["yaxis"] == "y2"
    assert traces["price"]["x"] == block["dates"]
    assert traces["price"]["y"] == pytest.approx(block["price"])
    assert figure["yaxis2"] == {"side": "right", "title": "price", "overlaying": "y"}
    # censored days: hollow markers at what was recorded, out of the sales line (not zero sales)
    history = dict(zip(detail["history"]["dates"], detail["history"]["units"], strict=True))
    assert traces[CENSORED]["x"] == block["censored"]
    assert traces[CENSORED]["y"] == [history[d] for d in block["censored"]]
    assert traces[CENSORED]["symbol"] == "circle-open"
    sales = dict(zip(traces["sales"]["x"], traces["sales"]["y"], strict=True))
    assert [d for d, units in sales.items() if units is None and history[d] is not None] == block["censored"]
    for name in ("promo", "event", "store closed", "price", CENSORED):
        assert name in figure["legend"], (name, figure["legend"])
    model = detail["metrics"]["model"]
    if block["drivers_used"]:
        assert figure["used"] == f"drivers used by {model}: {', '.join(block['drivers_used'])}"
    else:
        assert figure["used"].startswith(f"no drivers used by {model}")


@pytest.mark.slow
def test_a_run_without_drivers_draws_the_chart_as_before(drivers_page):
    """No shading (only the run-date line), no price axis, no censored markers, no drivers line."""
    detail, figure = drivers_page[1]
    assert detail["drivers"] is None
    assert [s["type"] for s in figure["shapes"]] == ["line"]
    assert figure["yaxis2"] is None
    assert figure["used"] is None
    names = [t["name"] for t in figure["traces"]]
    assert names == ["sales", "p10", "p10–p90", f"p50 ({detail['forecast']['model']})", "actual after the run"]
    assert figure["traces"][0]["y"] == detail["history"]["units"]
