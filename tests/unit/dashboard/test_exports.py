"""The Forecasts page's download (``salescast.dashboard.exports``) on a ``file://`` and an
``s3://`` lake, after a real forecast run (the task functions the DAG calls) wrote its export:
without filters it is the export's CSV byte for byte, in several chunks; with the search's
filters it is the export's rows of the series the list shows, read back with Python's csv
module; a run without an export, or no run, is a NotFound with the reason; a cell a spreadsheet
would run is neutralised even in an export not written by salescast, and the filters still
find its series by the id as it was. The route and its access rules:
tests/plugins/test_salescast_plugin.py."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import date, timedelta

import pytest

from salescast.csv_safe import FORMULA_TRIGGERS
from salescast.dashboard import exports
from salescast.dashboard.params import NotFound
from salescast.forecast import export
from salescast.lake import EXPORTS, FINAL_FORECASTS, Lake
from salescast.publish import DATA_FILE, SUCCESS_MARKER
from tests.support.dashboard_lake import forecast_run, publish_history
from tests.support.lakes import on_both_lakes

DAY = date(2025, 3, 26)
RUN = DAY.isoformat()
HORIZON = 3


@pytest.fixture
def run_lake(lake, monkeypatch):
    """Four weeks of the generator's 10 series (S01, S02 x I0001..I0005) and one forecast run on DAY."""
    monkeypatch.setenv("SALESCAST_HISTORY_DAYS", "28")
    monkeypatch.setenv("SALESCAST_HORIZON", str(HORIZON))
    publish_history(lake, DAY - timedelta(days=27), DAY)
    forecast_run(DAY)
    return lake


def export_text(lake: Lake) -> str:
    return gzip.decompress((lake.partition_dir(EXPORTS, DAY) / export.EXPORT_FILE).read_bytes()).decode("utf-8")


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@on_both_lakes
def test_without_filters_the_download_is_the_export_streamed_in_chunks(run_lake, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_ROWS", 8)  # 30 rows: four chunks of the file
    chunks = list(exports.export_csv(run_lake, RUN, {}))
    assert "".join(chunks) == export_text(run_lake)  # the same bytes QuickSight reads
    assert len(chunks) == 1 + 4  # the header, then one piece per chunk read
    rows = rows_of("".join(chunks))
    published = run_lake.read_parquet(run_lake.run_dir("forecasts", DAY) / DATA_FILE)
    assert len(rows) == len(published) == 10 * HORIZON
    assert list(rows[0]) == export.COLUMNS
    for row, (_, want) in zip(rows, published.iterrows(), strict=True):
        assert (row["store_id"], row["item_id"], row["date"]) == (
            want["store_id"],
            want["item_id"],
            str(want["date"])[:10],
        )
        for q in ("p10", "p50", "p90"):  # CSV floats round-trip: exact
            assert float(row[f"statistical_{q}"]) == float(row[f"final_{q}"]) == want[q]


@pytest.mark.parametrize(
    ("chosen", "series"),
    [
        ({"store": "s01"}, {("S01", f"I000{i}") for i in range(1, 6)}),  # case-insensitive, part of the id
        ({"item": "i0003"}, {("S01", "I0003"), ("S02", "I0003")}),
        ({"store": "S02", "item": "4"}, {("S02", "I0004")}),
        ({"q": "2"}, {("S02", f"I000{i}") for i in range(1, 6)} | {("S01", "I0002")}),  # q: store or item
        ({"store": "S03"}, set()),  # nothing matches: the header alone
    ],
)
def test_the_filters_keep_the_rows_of_the_series_the_list_shows(run_lake, chosen, series):
    text = "".join(exports.export_csv(run_lake, RUN, chosen))
    assert text.startswith(export_text(run_lake).splitlines(keepends=True)[0])
    want = [r for r in rows_of(export_text(run_lake)) if (r["store_id"], r["item_id"]) in series]
    assert rows_of(text) == want
    assert {(r["store_id"], r["item_id"]) for r in rows_of(text)} == series


def test_a_run_without_an_export_or_no_run_is_not_found_with_the_reason(run_lake):
    with pytest.raises(NotFound, match="no forecast run of 2025-03-25 is published"):
        exports.export_csv(run_lake, "2025-03-25", {})
    (run_lake.partition_dir(EXPORTS, DAY) / SUCCESS_MARKER).unlink()  # a run from before exports
    with pytest.raises(NotFound, match=r"has no export \(exports/run_date=2025-03-26/forecast.csv.gz\).*re-run"):
        exports.export_csv(run_lake, RUN, {})


def test_a_formula_in_an_export_not_written_by_salescast_is_neutralised(run_lake):
    """An export written by hand (or another tool) with raw formula cells: they go out escaped,
    numbers stay numbers, and the store filter finds the series by its id as it was."""
    forecasts = run_lake.read_parquet(run_lake.run_dir("forecasts", DAY) / DATA_FILE)
    final = run_lake.read_parquet(run_lake.partition_dir(FINAL_FORECASTS, DAY) / DATA_FILE)
    frame = export.export_frame(forecasts, final)
    frame.loc[frame["store_id"] == "S02", "store_id"] = '=HYPERLINK("http://evil.example","x")'
    frame = frame[frame["item_id"].isin(["I0001", "I0002"])]
    frame["category"] = "@SUM(A1)"
    raw = frame.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC)  # no csv_safe: cells as they are
    (run_lake.partition_dir(EXPORTS, DAY) / export.EXPORT_FILE).write_bytes(gzip.compress(raw.encode()))
    text = "".join(exports.export_csv(run_lake, RUN, {"store": "=hyperlink"}))
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2 * HORIZON  # S02's two series left, found by the id as it was
    assert [c for row in [header, *rows] for c in row if c.startswith(FORMULA_TRIGGERS)] == []
    assert {row[header.index("store_id")] for row in rows} == {"'" + '=HYPERLINK("http://evil.example","x")'}
    assert {row[header.index("category")] for row in rows} == {"'@SUM(A1)"}
    assert all(float(row[header.index("final_p50")]) >= 0 for row in rows)
    assert '"' + "'=HYPERLINK" in text  # text quoted ...
    assert '",1,"' in text  # ... numbers bare (horizon step 1)


def test_an_unreadable_export_is_not_found_before_the_stream_starts(run_lake):
    (run_lake.partition_dir(EXPORTS, DAY) / export.EXPORT_FILE).write_bytes(b"not gzip")
    with pytest.raises(NotFound, match="not a readable forecast export"):
        exports.export_csv(run_lake, RUN, {})


def test_the_file_name_says_the_run_and_the_filters_in_safe_characters():
    assert exports.download_name("2025-03-31", {}) == "forecast_2025-03-31.csv"
    chosen = {"store": "S01", "item": '=x/../"y"', "q": None}
    assert exports.download_name("2025-03-31", chosen) == "forecast_2025-03-31_store-S01_item-x-..-y.csv"
    assert len(exports.download_name("2025-03-31", {"q": "x" * 1000}).encode()) <= 255
