"""A day whose landing files are hostile, ingested by a real ``sales_ingest`` run (dag.test()),
then its run tab through the dashboard: the quarantine CSV download runs no formula in a
spreadsheet (OWASP's rule, ``salescast.csv_safe``), and a 10,000-character value neither
widens the page (it rendered 145,306 px wide) nor is lost (the cell's title and the CSV hold it).
The page is rendered by headless Chromium (`make chromium`), its requests answered by the real
Airflow app of tests/plugin/conftest.py."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from salescast.csv_safe import FORMULA_TRIGGERS

from .lakes import dag_run, lake_env

pytestmark = pytest.mark.slow

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
