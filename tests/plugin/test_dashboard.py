"""The dashboard against a real lake (history, three ingested days with defects, four forecast
runs, the last day's sales_ingest and sales_forecast run for real with dag.test()): every
number a route returns is compared with the Parquet files read independently here."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest

from .lakes import LAST, TASK_RUNS, build, lake_env

pytestmark = pytest.mark.slow


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
        for column in ("abs_actual", "wql_p10", "wql_p50", "wql_p90", "wape", "coverage"):
            assert close(ours[column], theirs[column]), (ours["run_date"], ours["horizon_step"], column)


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
    for name in ("forecasts", "metrics", "safety_stock"):
        assert overview["published"][name]["by_this_run"] is True
    assert overview["report"] == "index.html"
    assert "total.png" in overview["files"]
    page = get(airflow, viewer, f"/salescast{run_path}/files/index.html")
    assert page.content == (root / "reports" / f"run_date={LAST}" / "index.html").read_bytes()
    assert get(airflow, viewer, f"/salescast{run_path}/files/total.png").content.startswith(b"\x89PNG")
    assert get(airflow, viewer, f"/salescast{run_path}").status_code == 200


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
