"""A real Airflow, end to end: api-server, scheduler, dag-processor and triggerer on loopback
(the same AirflowStack `make airflow` starts), driven through the REST API and `airflow
backfill create`, then the UI in headless Chromium.

Story: 30 days of history exist. The DAGs are unpaused while yesterday's files have not
arrived (the scheduled ingest waits on its sensor). Ops backfill the 7 days before it, ingest
first, then forecast. Yesterday's files land, and the scheduled chain ingest -> forecast ->
catalog completes. The lake must equal a day-by-day run of the same input. Then a late file
for yesterday arrives: backfilling the last three days with reprocessing refreshes yesterday
and leaves the unchanged days exactly as they were. The first backfilled day gets one
unparseable row. Last, the browser: log in, the DAG grid, then the dashboard plugin: Forecasts
from the navigation (a series' chart traces against the lake's Parquet, the download button for
the search's store against the run's export and Parquet, bias on the accuracy panel), a forecast
run's tab, the first backfilled day's ingest tab (its quarantined row, the CSV download against
the lake).
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, unquote

import pandas as pd
import pytest

from salescast.config import REPO_ROOT
from salescast.ingest.pipeline import ingest_day
from salescast.lake import Lake
from salescast.publish import DATA_FILE
from salescast_dev.generate import PanelSpec, write_landing
from tests.support.net import free_port

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

DAGS = ("sales_ingest", "sales_forecast", "sales_catalog")
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
TODAY = datetime.now(UTC).date()
YESTERDAY = TODAY - timedelta(days=1)  # the run the scheduler creates on unpause (catchup off)
BACKFILL = [TODAY - timedelta(days=n) for n in range(8, 1, -1)]  # the 7 days before it
HISTORY = [TODAY - timedelta(days=n) for n in range(38, 8, -1)]
BAD_DAY = BACKFILL[0]  # gets one unparseable row for sure (the generator's defects are random); run once
UI_TIMEOUT = 120_000  # ms, for each wait in the browser: generous for a busy machine


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def e2e_env(tmp_path, monkeypatch):
    home = tmp_path / "home"
    settings_env = {
        "SALESCAST_HOME": str(home),
        "SALESCAST_LAKE_URI": (home / "lake").as_uri(),
        # Not shorter: a reschedule-mode poke faster than the executor reports the previous one
        # is failed by the scheduler ("finished with state success, but ... state is queued").
        "SALESCAST_SENSOR_POKE_SECONDS": "20",
        "SALESCAST_SENSOR_TIMEOUT_SECONDS": "1800",
        "SALESCAST_MAX_BAD_ROW_FRACTION": "0.5",
        "SALESCAST_SERIES_PER_SHARD": "4",  # 8 series -> 2 mapped shards in the pool
        "SALESCAST_FORECAST_POOL_SLOTS": "2",
        "SALESCAST_ALERT_EMAILS": "",
    }
    for key, value in settings_env.items():
        monkeypatch.setenv(key, value)
    # A home of its own: no AIRFLOW_* setting of the test session's leaks into the stack.
    base = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    return home, base


# long on purpose: one Airflow stack (a minute to start) walks the user's whole story in order;
# splitting it would restart the stack per step or share state between tests.
# Each step waits with its own budget and says what it waited for; the suite-wide 900 s cut
# this story mid-way (waiting for the forecast backfill) on a machine busy with other work,
# so the test gets its own limit: about an hour, within CI's 90 minutes.
@pytest.mark.timeout(3600)
def test_scheduled_runs_backfill_late_data_and_the_ui(e2e_env, tmp_path):  # noqa: C901, PLR0915
    from salescast.config import Settings
    from salescast_dev.airflow_stack import AirflowStack
    from tests.support.airflow_api import Api, wait_for

    _home, base = e2e_env
    began = time.monotonic()
    settings = Settings.from_env()
    lake = Lake.from_settings(settings)
    source = tmp_path / "source"
    write_landing(PanelSpec(stores=2, items=4, seed=21), HISTORY[0], YESTERDAY, source, defects=True,
                  bad_file_rate=0.0)  # fmt: skip
    bad_file = add_bad_row(source / BAD_DAY.isoformat())
    landing = Path(lake.root.path) / "landing" / "sales"

    def land(day: date) -> None:
        shutil.copytree(source / day.isoformat(), landing / day.isoformat(), dirs_exist_ok=True)

    for day in HISTORY:
        land(day)
        ingest_day(lake, day, "bootstrap", 0.5)
    for day in BACKFILL:
        land(day)

    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    stack = AirflowStack(settings, free_port(), ARTIFACTS / "logs", base_env=base)
    with stack:
        api = Api(stack.url, stack.token())
        wait_for("the DAGs to be parsed", lambda: api.call("GET", "/dags")["total_entries"] >= 3, 180,
                 lambda: api.call("GET", "/importErrors"))  # fmt: skip

        def runs(dag_id: str) -> list[dict]:
            return api.call("GET", f"/dags/{dag_id}/dagRuns?limit=100&order_by=run_after")["dag_runs"]

        def states(dag_id: str) -> dict[str, str]:
            return {(r["logical_date"] or r["run_id"])[:10]: r["state"] for r in runs(dag_id)}

        def succeeded(dag_id: str, days: list[date], since: datetime = EPOCH) -> bool:
            """Every day has a successful run that ended after `since`, and no run failed since."""
            ended = [r for r in runs(dag_id) if r["end_date"] and ts(r["end_date"]) > since]
            done = {r["logical_date"][:10] for r in ended if r["state"] == "success" and r["logical_date"]}
            failed = [r for r in ended if r["state"] == "failed"]
            assert not failed, f"{dag_id} runs failed: {failed}; logs in {ARTIFACTS / 'logs'}"
            return all(d.isoformat() in done for d in days)

        def backfill(dag_id: str, first: date, last: date, reprocess: str) -> None:
            # what `make backfill DAG=... START=... END=...` runs
            done = subprocess.run(
                [sys.executable, "-m", "salescast_dev", "backfill", "--dag-id", dag_id,
                 "--from-date", first.isoformat(), "--to-date", last.isoformat(), "--reprocess-behavior", reprocess],
                env=stack.env, capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

        for dag_id in DAGS:
            api.call("PATCH", f"/dags/{dag_id}", {"is_paused": False})
        # 600 s, like the other waits' order of magnitude: on a busy 2-core machine the scheduler
        # took over 120 s to create the first run after unpausing (seen with a benchmark beside it)
        wait_for("the scheduled ingest run for yesterday", lambda: YESTERDAY.isoformat() in states("sales_ingest"),
                 600, lambda: states("sales_ingest"))  # fmt: skip

        backfill("sales_ingest", BACKFILL[0], BACKFILL[-1], "none")
        wait_for("the ingest backfill", lambda: succeeded("sales_ingest", BACKFILL), 900,
                 lambda: states("sales_ingest"))  # fmt: skip
        backfill("sales_forecast", BACKFILL[0], BACKFILL[-1], "none")
        wait_for("the forecast backfill", lambda: succeeded("sales_forecast", BACKFILL), 900,
                 lambda: states("sales_forecast"))  # fmt: skip
        # a backfilled past day's run lasts what it took, not the days since its logical date
        for dag_id in ("sales_ingest", "sales_forecast"):
            backfilled = [r for r in runs(dag_id) if r["run_type"] == "backfill"]
            assert len(backfilled) == len(BACKFILL), backfilled
            assert all(0 < r["duration"] < time.monotonic() - began for r in backfilled), backfilled
        # the bake-off's progress reaches the shard tasks' own log files (written by the supervisor)
        task_logs = settings.airflow_home / "logs" / "dag_id=sales_forecast"
        shard_logs = [log for log in task_logs.rglob("*.log") if "task_id=train_shard" in log.parts]
        assert shard_logs
        assert all(re.search(r"forecast shard \d+: 100%", log.read_text()) for log in shard_logs), shard_logs[0]

        land(YESTERDAY)  # the files arrive: the waiting sensor picks them up
        wait_for("the scheduled chain for yesterday",
                 lambda: succeeded("sales_ingest", [YESTERDAY]) and succeeded("sales_forecast", [YESTERDAY]), 900,
                 lambda: (states("sales_ingest"), states("sales_forecast")))  # fmt: skip

        def catalog_consumed(forecast_days: list[date]) -> bool:
            """Each day's forecast publish was consumed by a successful asset-triggered catalog run."""
            days = {d.isoformat() for d in forecast_days}
            wanted = {r["dag_run_id"] for r in runs("sales_forecast")
                      if r["state"] == "success" and (r["logical_date"] or "")[:10] in days}  # fmt: skip
            seen = set()
            for run in runs("sales_catalog"):
                if run["state"] != "success" or run["run_type"] != "asset_triggered":
                    continue
                events = api.call("GET", f"/dags/sales_catalog/dagRuns/{quote(run['dag_run_id'], safe='')}"
                                  "/upstreamAssetEvents")["asset_events"]  # fmt: skip
                seen |= {e["source_run_id"] for e in events if e["source_dag_id"] == "sales_forecast"}
            return len(wanted) == len(forecast_days) and wanted <= seen

        wait_for("the catalog runs the forecasts triggered", lambda: catalog_consumed([*BACKFILL, YESTERDAY]), 300,
                 lambda: runs("sales_catalog"))  # fmt: skip

        expected = day_by_day(source, tmp_path / "expected", HISTORY + BACKFILL + [YESTERDAY], settings)
        assert_lake_matches(lake, expected, [*BACKFILL, YESTERDAY])
        warehouse_history = history_in_warehouse(settings)
        assert warehouse_history[YESTERDAY] == len(lake.read_parquet(lake.curated_dir(YESTERDAY) / DATA_FILE))

        # Late data for yesterday, then re-run the last three days with reprocessing.
        unchanged = BACKFILL[-2:]
        before = {d: Path(lake.run_dir("forecasts", d).path, DATA_FILE).read_bytes() for d in unchanged}
        late = source / YESTERDAY.isoformat() / "store_S99.csv"
        late.write_text(f"date,store_id,item_id,units\n{YESTERDAY},S99,I001,5\n{YESTERDAY},S99,I002,7\n")
        land(YESTERDAY)
        mark = datetime.now(UTC)
        backfill("sales_ingest", unchanged[0], YESTERDAY, "completed")
        wait_for("the ingest re-run", lambda: succeeded("sales_ingest", [*unchanged, YESTERDAY], mark), 900,
                 lambda: states("sales_ingest"))  # fmt: skip
        backfill("sales_forecast", unchanged[0], YESTERDAY, "completed")
        wait_for("the forecast re-run", lambda: succeeded("sales_forecast", [*unchanged, YESTERDAY], mark), 900,
                 lambda: states("sales_forecast"))  # fmt: skip
        expected = day_by_day(source, tmp_path / "expected-late", HISTORY + BACKFILL + [YESTERDAY], settings)
        assert_lake_matches(lake, expected, [*BACKFILL, YESTERDAY])
        for day in unchanged:  # same input, same bytes
            assert Path(lake.run_dir("forecasts", day).path, DATA_FILE).read_bytes() == before[day]
        refreshed = lake.read_parquet(lake.run_dir("forecasts", YESTERDAY) / DATA_FILE)
        assert set(refreshed.loc[refreshed["store_id"] == "S99", "item_id"]) == {"I001", "I002"}
        wait_for("the catalog to show the late rows", lambda: history_in_warehouse(settings).get(YESTERDAY)
                 == warehouse_history[YESTERDAY] + 2, 300, lambda: runs("sales_catalog"))  # fmt: skip

        successful = [r["dag_run_id"] for r in runs("sales_ingest") if r["state"] == "success"]

        def run_of(dag_id: str, day: date) -> str:
            return next(r["dag_run_id"] for r in runs(dag_id)
                        if r["state"] == "success" and (r["logical_date"] or "")[:10] == day.isoformat())  # fmt: skip

        tabs = {dag_id: run_of(dag_id, BAD_DAY) for dag_id in ("sales_forecast", "sales_ingest")}
        check_ui(stack, successful, lake, tabs, bad_file)


def day_by_day(source: Path, root: Path, days: list[date], settings) -> Lake:
    """The same input through the package's functions, one day after another, no Airflow."""
    from salescast.forecast.engine import ForecastConfig, run_forecast
    from salescast.forecast.tasks import load_history

    lake = Lake(root.as_uri())
    shutil.copytree(source, Path(lake.root.path) / "landing" / "sales")
    for day in days:
        ingest_day(lake, day, "expected", 0.5)
    for day in days[-8:]:
        history, known = load_history(lake, day, settings.history_days)
        known_days = pd.DatetimeIndex(known)
        cfg = ForecastConfig.from_settings(settings)
        # a day an expected store sent nothing (its file unreadable) is imputed, as the plan does
        days_of = pd.to_datetime(history["date"]).dt.strftime("%Y-%m-%d")
        stores = {d: frozenset(history.loc[days_of == d, "store_id"]) for d in known}
        unknown = settings.delivery_rule.missing_by_day(stores)
        result = run_forecast(history, cfg, end=pd.Timestamp(day), known_days=known_days, unknown_store_days=unknown)
        out = Path(lake.root.path) / "expected-forecasts" / f"{day}.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        result.forecasts.to_parquet(out, index=False)
    return lake


def assert_lake_matches(lake: Lake, expected: Lake, days: list[date]) -> None:
    def partitions(root: Lake, dataset: str) -> list[str]:
        folder = Path(root.root.path) / dataset
        return sorted(p.name for p in folder.iterdir() if (p / "_SUCCESS").exists())

    assert partitions(lake, "curated/sales_daily") == partitions(expected, "curated/sales_daily")
    assert partitions(lake, "forecasts") == [f"run_date={d}" for d in days]
    for day in days:
        pd.testing.assert_frame_equal(
            expected.read_parquet(expected.curated_dir(day) / DATA_FILE),
            lake.read_parquet(lake.curated_dir(day) / DATA_FILE),
        )
        want = pd.read_parquet(Path(expected.root.path) / "expected-forecasts" / f"{day}.parquet")
        got = lake.read_parquet(lake.run_dir("forecasts", day) / DATA_FILE).drop(columns="run_date")
        pd.testing.assert_frame_equal(want.reset_index(drop=True), got.reset_index(drop=True), check_dtype=False)


def history_in_warehouse(settings) -> dict[date, int]:
    import duckdb

    try:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            rows = con.execute(
                "SELECT date, COUNT(*) FROM history_and_forecast WHERE type = 'history' GROUP BY date"
            ).fetchall()
    except duckdb.Error:  # the catalog DAG is writing it right now
        return {}
    return {pd.Timestamp(d).date(): n for d, n in rows}


def add_bad_row(day_folder: Path) -> str:
    """A file of its own (the day's generated files may lack a store) with one row whose units
    are unparseable, for a store without other rows (no duplicate key); return its name."""
    name = "store_S98.csv"
    (day_folder / name).write_text(f"date,store_id,item_id,units,revenue\n{day_folder.name},S98,I0001,12x,1.50\n")
    return name


def check_ui(stack, run_ids: list[str], lake: Lake, tabs: dict[str, str], bad_file: str) -> None:
    """Log in through the UI's form, open each DAG's grid and see the successful runs, then the
    dashboard: Forecasts from the navigation, a forecast run's tab, an ingest run's tab."""
    from playwright.sync_api import sync_playwright

    flags = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=flags)
        page = browser.new_page(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
        page.set_default_timeout(UI_TIMEOUT)
        try:
            page.goto(stack.url + "/", wait_until="networkidle")
            page.fill("input[name='username']", "admin")
            page.fill("input[name='password']", stack.password())
            page.click("button[type='submit']")
            page.wait_for_url(lambda url: "/auth/" not in url, timeout=UI_TIMEOUT)
            page.goto(f"{stack.url}/dags/sales_ingest", wait_until="networkidle")
            runs = page.locator("a[href*='/dags/sales_ingest/runs/']")
            runs.first.wait_for()
            page.screenshot(path=str(ARTIFACTS / "sales_ingest_grid.png"), full_page=True)
            hrefs = [runs.nth(i).get_attribute("href") for i in range(runs.count())]
            shown = {unquote(h.rsplit("/runs/", 1)[1].split("/")[0].split("?")[0]) for h in hrefs if h}
            missing = [r for r in run_ids if r not in shown]
            assert not missing, (missing, sorted(shown))
            check_forecasts_page(page, stack, lake)
            check_forecast_tab(page, stack, lake, tabs["sales_forecast"])
            check_ingest_tab(page, stack, lake, tabs["sales_ingest"], bad_file)
        except BaseException:
            page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
            (ARTIFACTS / "failure.html").write_text(page.content())
            raise
        finally:
            browser.close()


def check_forecasts_page(page, stack, lake: Lake) -> None:
    """Forecasts from the navigation, pick a series: its chart's traces against the lake."""
    page.goto(f"{stack.url}/", wait_until="load")
    page.get_by_role("link", name="Forecasts").first.click()
    page.wait_for_url(lambda url: "/plugin/salescast-forecasts" in url, timeout=UI_TIMEOUT)
    frame = page.frame_locator("iframe[src*='salescast/forecasts']")
    rows = frame.locator("#series-table tbody tr.pick")
    pick = rows.nth(1)  # not the first: the page must follow the click, not its default
    pick.wait_for()
    store, item = pick.locator("td").nth(0).inner_text(), pick.locator("td").nth(1).inner_text()
    pick.click()
    frame.locator("#series-title").filter(has_text=f"{store} · {item}").wait_for()
    frame.locator("#chart .main-svg").first.wait_for()
    traces = frame.locator("#chart").evaluate("c => c.data.map(t => ({name: t.name, x: t.x, y: t.y}))")
    page.screenshot(path=str(ARTIFACTS / "forecasts.png"))
    by_name = {t["name"]: t for t in traces}
    sales = by_name["sales"]
    published = sorted(p.name.split("=", 1)[1] for p in Path(lake.curated_dir(BAD_DAY).path).parent.iterdir()
                       if (p / "_SUCCESS").exists())  # fmt: skip
    assert [d for d, u in zip(sales["x"], sales["y"], strict=True) if u is not None] == published
    for day, units in zip(sales["x"], sales["y"], strict=True):
        if units is None:  # a gap: the day is not published, never a zero
            continue
        frame_ = lake.read_parquet(lake.curated_dir(date.fromisoformat(day)) / DATA_FILE)
        expected = frame_.loc[(frame_["store_id"] == store) & (frame_["item_id"] == item), "units"].sum()
        assert abs(units - expected) < 1e-9, (day, units, expected)
    run_dates = sorted(p.name.split("=", 1)[1] for p in Path(lake.root.path, "forecasts").glob("run_date=*"))
    forecasts = lake.read_parquet(lake.run_dir("forecasts", date.fromisoformat(run_dates[-1])) / DATA_FILE)
    mine = forecasts[(forecasts["store_id"] == store) & (forecasts["item_id"] == item)].sort_values("date")
    assert len(mine) > 0, (store, item)
    band = {"p10": by_name["p10"], "p90": by_name["p10–p90"]}
    band["p50"] = next(t for name, t in by_name.items() if name.startswith("p50 ("))
    for column, trace in band.items():
        assert trace["x"] == [str(d)[:10] for d in mine["date"]], column
        assert all(abs(a - b) < 1e-9 for a, b in zip(trace["y"], mine[column], strict=True)), column
    frame.locator("#accuracy-latest").filter(has_text=" · bias ").wait_for()  # bias next to wQL, WAPE, coverage
    check_download(page, frame, lake, store, run_dates[-1], forecasts)


def check_download(page, frame, lake: Lake, store: str, run_date: str, forecasts: pd.DataFrame) -> None:
    """Search for the picked series' store, click the download button: the file is the shown
    run's export (read here from the lake) for the series the search lists, its numbers the
    run's Parquet."""
    from salescast.forecast.export import COLUMNS

    frame.locator("#search input[name='store']").fill(store)
    link = frame.locator("#download")
    frame.locator("#download-what").filter(has_text=f"run {run_date}, store \u201c{store}\u201d").wait_for()
    assert link.get_attribute("href").endswith(f"/api/forecasts.csv?run_date={run_date}&store={quote(store)}")
    with page.expect_download(timeout=UI_TIMEOUT) as download:
        link.click()
    assert download.value.suggested_filename == f"forecast_{run_date}_store-{store}.csv"
    header, *rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert header == COLUMNS
    got = [dict(zip(header, row, strict=True)) for row in rows]
    export = Path(lake.root.path, "exports", f"run_date={run_date}", "forecast.csv.gz")
    listed = [r for r in csv.DictReader(io.StringIO(gzip.decompress(export.read_bytes()).decode("utf-8")))
              if store.lower() in r["store_id"].lower()]  # fmt: skip
    assert len(got) == len(listed) > 0
    assert got == listed
    p50 = {(r.store_id, r.item_id, str(r.date)[:10]): r.p50 for r in forecasts.itertuples()}
    assert all(float(r["statistical_p50"]) == p50[(r["store_id"], r["item_id"], r["date"])] for r in got)
    assert sum(r.store_id == store for r in forecasts.itertuples()) == len(got)
    page.screenshot(path=str(ARTIFACTS / "forecasts_download.png"))


def open_run_tab(page, stack, dag_id: str, run_id: str):
    """The run's page in the Airflow UI, then its salescast tab; returns the tab's frame."""
    page.goto(f"{stack.url}/dags/{dag_id}/runs/{quote(run_id, safe='')}", wait_until="load")
    page.locator("a[href*='/plugin/salescast-run']").first.click()
    page.wait_for_url(lambda url: "/plugin/salescast-run" in url, timeout=UI_TIMEOUT)
    return page.frame_locator(f"iframe[src*='salescast/dags/{dag_id}/runs/']")


def check_forecast_tab(page, stack, lake: Lake, run_id: str) -> None:
    """A sales_forecast run's tab: the summary's numbers and the run's HTML report."""
    frame = open_run_tab(page, stack, "sales_forecast", run_id)
    summary = lake.read_json(lake.reports_dir(BAD_DAY) / "forecast_summary.json")
    assert summary["run_id"] == run_id
    series = frame.locator("dl.card:has(h3:text-is('Run')) dd").first
    series.wait_for()
    assert series.inner_text() == f"{summary['series']:,}"
    published_by = frame.locator("table.list tbody tr td:nth-child(3)")
    published_by.first.wait_for()
    assert set(published_by.all_inner_texts()) == {run_id}
    heading = frame.frame_locator("iframe.report").locator("h1")
    heading.filter(has_text=f"salescast forecast for {BAD_DAY}").wait_for()
    page.screenshot(path=str(ARTIFACTS / "forecast_run_tab.png"))


def check_ingest_tab(page, stack, lake: Lake, run_id: str, bad_file: str) -> None:
    """A sales_ingest run's tab: its quarantined rows with reasons, and their CSV download."""
    frame = open_run_tab(page, stack, "sales_ingest", run_id)
    quarantine = lake.read_parquet(lake.quarantine_file(BAD_DAY))
    mine = quarantine[quarantine["run_id"] == run_id].reset_index(drop=True)
    assert ((mine["source_file"] == bad_file) & mine["raw"].str.contains('"12x"')).sum() == 1, mine
    assert mine["reason"].str.len().gt(0).all(), mine
    frame.locator("#quarantine").filter(has_text=f"of {len(mine)} rows of this run").wait_for()
    shown = frame.locator("#quarantine tbody tr")
    assert shown.count() == min(len(mine), 50)
    reasons = frame.locator("#quarantine tbody tr td:nth-child(4)").all_inner_texts()
    assert sorted(reasons) == sorted(mine["reason"].head(50)), reasons
    page.screenshot(path=str(ARTIFACTS / "ingest_run_tab.png"))
    with page.expect_download(timeout=UI_TIMEOUT) as download:
        frame.get_by_role("link", name="download CSV").click()
    got = pd.read_csv(download.value.path(), dtype=str, keep_default_na=False)
    assert list(got.columns) == list(mine.columns)
    columns = ["source_file", "line_number", "kind", "reason", "raw"]
    want = mine[columns].astype("string").fillna("")
    key = sorted(map(tuple, want.to_numpy().tolist()))
    assert sorted(map(tuple, got[columns].to_numpy().tolist())) == key
