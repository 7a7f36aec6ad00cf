"""The planners' export (``salescast.forecast.export``), through the forecast run's tasks on a
file:// and an s3:// lake: ``exports/run_date=D/forecast.csv.gz`` holds the published forecasts
row for row, readable by Python's csv module and by pandas, its QuickSight manifest names it,
it is published in the run's commit (a commit cut short publishes neither the tables nor the
export until it is recovered), and a re-run of D replaces it."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import date, timedelta

import pandas as pd
import pytest

from salescast.forecast import export
from salescast.forecast import tasks as forecast_tasks
from salescast.lake import EXPORTS, FINAL_FORECASTS, SALES_DAILY, Dataset, Lake
from salescast.publish import DATA_FILE, SUCCESS_MARKER, is_published, publish_partition
from tests.support.lakes import on_both_lakes

DAY = date(2025, 3, 26)
SERIES = {("S01", "A"): 5.0, ("S01", "B"): 12.0, ("S02", "A"): 30.0}


def publish_history(lake: Lake, scale: float = 1.0) -> None:
    day = DAY - timedelta(days=27)
    while day <= DAY:
        frame = pd.DataFrame(
            [{"date": day, "store_id": s, "item_id": i, "units": u * scale} for (s, i), u in SERIES.items()]
        )
        staged = lake.staging_dir(SALES_DAILY, day) / DATA_FILE
        lake.write_parquet(staged, frame)
        publish_partition(lake, staged, lake.curated_dir(day), {"dataset": "sales_daily", "rows": len(frame)})
        day += timedelta(days=1)


def forecast(run_id: str) -> None:
    ds = DAY.isoformat()
    shards = [forecast_tasks.forecast_shard(ds, run_id, spec) for spec in forecast_tasks.plan_shards(ds, run_id)]
    forecast_tasks.publish_forecasts(ds, run_id, shards)


@pytest.fixture
def run_env(lake, monkeypatch):
    monkeypatch.setenv("SALESCAST_HISTORY_DAYS", "28")
    monkeypatch.setenv("SALESCAST_HORIZON", "3")
    publish_history(lake)
    return lake


def read_export(lake: Lake) -> tuple[bytes, list[list[str]], pd.DataFrame]:
    data = gzip.decompress((lake.partition_dir(EXPORTS, DAY) / export.EXPORT_FILE).read_bytes())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    return data, rows, pd.read_csv(io.BytesIO(data), dtype={"store_id": str, "item_id": str, "category": str})


def assert_matches_published(lake: Lake) -> pd.DataFrame:
    """The export is the published forecasts table, row for row, with the final table's quantiles."""
    data, rows, frame = read_export(lake)
    assert not data.startswith(b"\xef\xbb\xbf")  # QuickSight reads UTF-8 without a BOM
    assert rows[0] == export.COLUMNS
    assert all(len(row) == len(export.COLUMNS) for row in rows)
    published = lake.read_parquet(lake.run_dir("forecasts", DAY) / DATA_FILE)
    assert len(rows) - 1 == len(frame) == len(published) > 0
    assert frame["run_date"].tolist() == [DAY.isoformat()] * len(published)
    for column in ("store_id", "item_id", "model", "horizon_step"):
        assert frame[column].tolist() == published[column].tolist(), column
    assert frame["date"].tolist() == [d.isoformat() for d in published["date"]]
    final = lake.read_parquet(lake.partition_dir(FINAL_FORECASTS, DAY) / DATA_FILE)
    for q in ("p10", "p50", "p90"):  # exact: CSV floats round-trip
        assert frame[f"statistical_{q}"].tolist() == published[q].tolist()
        assert frame[f"final_{q}"].tolist() == final[q].tolist()
    assert frame["override_id"].fillna("").tolist() == final["override_id"].fillna("").tolist()
    return frame


@on_both_lakes
def test_a_run_exports_its_forecasts_with_a_quicksight_manifest(run_env):
    lake = run_env
    forecast("run1")
    frame = assert_matches_published(lake)
    assert frame["category"].isna().all()  # no item master: empty
    assert frame["override_id"].isna().all()  # no overrides: final = statistical
    partition = lake.partition_dir(EXPORTS, DAY)
    names = [p.name for p in lake.list_files(partition)]
    assert names == [SUCCESS_MARKER, export.EXPORT_FILE, export.QUICKSIGHT_MANIFEST]
    marker = lake.read_json(partition / SUCCESS_MARKER)
    assert (marker["dataset"], marker["run_id"], marker["rows"]) == ("exports", "run1", len(SERIES) * 3)

    manifest = json.loads((partition / export.QUICKSIGHT_MANIFEST).read_bytes())
    assert manifest["globalUploadSettings"] == {
        "format": "CSV", "delimiter": ",", "textqualifier": '"', "containsHeader": "true",
    }  # fmt: skip
    [location] = manifest["fileLocations"]
    [uri] = location["URIs"]
    scheme = "file:///" if lake.is_local else f"{lake.uri}/"
    assert uri.startswith(scheme)
    assert uri.endswith(f"/exports/run_date={DAY}/forecast.csv.gz")
    assert lake.path(uri).read_bytes() == (partition / export.EXPORT_FILE).read_bytes()  # the export itself


@on_both_lakes
def test_a_rerun_of_the_day_replaces_the_export(run_env):
    lake = run_env
    forecast("run1")
    first = read_export(lake)[0]
    publish_history(lake, scale=2.0)  # late corrections: every day re-published, double the sales
    forecast("run2")
    frame = assert_matches_published(lake)
    assert read_export(lake)[0] != first
    assert lake.read_json(lake.partition_dir(EXPORTS, DAY) / SUCCESS_MARKER)["run_id"] == "run2"
    assert [p.name for p in lake.list_files(lake.partition_dir(EXPORTS, DAY))] == [
        SUCCESS_MARKER, export.EXPORT_FILE, export.QUICKSIGHT_MANIFEST,
    ]  # fmt: skip
    assert frame["statistical_p50"].sum() > 0


@on_both_lakes
def test_the_export_is_published_in_the_runs_commit(run_env, monkeypatch):
    """A publish that dies while moving the export leaves neither the tables nor the export
    marked; the next attempt's recovery publishes both, consistent."""
    lake = run_env
    move = Lake.move

    def failing_move(self, source, target):
        if target.name == export.EXPORT_FILE:
            raise OSError("disk gone")
        move(self, source, target)

    monkeypatch.setattr(Lake, "move", failing_move)
    with pytest.raises(OSError, match="disk gone"):
        forecast("run1")
    assert not is_published(lake.run_dir("forecasts", DAY))
    assert not is_published(lake.partition_dir(EXPORTS, DAY))
    monkeypatch.setattr(Lake, "move", move)
    recovery = forecast_tasks.recover_publish(lake, DAY)
    assert recovery is not None
    assert recovery["action"] == "finished"
    assert is_published(lake.run_dir("forecasts", DAY))
    assert is_published(lake.partition_dir(EXPORTS, DAY))
    assert_matches_published(lake)


def test_text_cells_a_spreadsheet_would_run_are_escaped_and_numbers_stay_numbers():
    forecasts = pd.DataFrame({
        "run_date": DAY, "store_id": ["=HYPERLINK(\"x\")", "S1"], "item_id": ["-3", "@A"],
        "date": DAY + timedelta(days=1), "p10": [1.0, 0.0], "p50": [2.5, 0.0], "p90": [4.0, 1e-9],
        "horizon_step": 1, "mean": 2.0, "model": "theta",
    })  # fmt: skip
    final = forecasts.assign(override_id=[None, "2025-03-20/o.csv:2"], override_author=["", "+ana"],
                             override_reason=[None, "=1+1"])  # fmt: skip
    body = export.csv_gz_bytes(export.export_frame(forecasts, final))
    rows = list(csv.reader(io.StringIO(gzip.decompress(body).decode())))
    assert rows[1][:3] == [DAY.isoformat(), '\'=HYPERLINK("x")', "'-3"]
    assert rows[2][1:3] == ["S1", "'@A"]
    assert [float(v) for v in rows[2][7:13]] == [0.0, 0.0, 1e-9, 0.0, 0.0, 1e-9]
    assert rows[2][13:] == ["2025-03-20/o.csv:2", "'+ana", "'=1+1"]  # a planner's text is text too
    assert body == export.csv_gz_bytes(export.export_frame(forecasts, final))


def publish_reference(lake: Lake, dataset: Dataset, asof: date, frame: pd.DataFrame) -> None:
    staged = lake.staging_dir(dataset, asof) / DATA_FILE
    lake.write_parquet(staged, frame.assign(asof=asof))
    publish_partition(lake, staged, lake.partition_dir(dataset, asof), {"dataset": dataset.folder, "rows": len(frame)})


@on_both_lakes
def test_an_override_changes_the_final_table_and_the_export_not_the_statistical_one(run_env):
    """A planner sets S01/A on the first horizon day; an override for a store that never sold is
    reported, not applied; the item master's categories reach the export."""
    from salescast.lake import ITEMS, OVERRIDES

    lake = run_env
    forecast("plain")
    statistical = lake.read_parquet(lake.run_dir("forecasts", DAY) / DATA_FILE)
    first = DAY + timedelta(days=1)
    overrides = pd.DataFrame({
        "override_id": ["2025-03-20/o.csv:2", "2025-03-20/o.csv:3"], "store_id": ["S01", "S99"], "item_id": ["A", "*"],
        "date_from": [first, first], "date_to": [first, first], "kind": ["set", "pct"], "value": [50.0, 10.0],
        "reason": ["launch event", "new store"], "author": ["ana", "bo"], "expires": [None, None],
    })  # fmt: skip
    publish_reference(lake, OVERRIDES, date(2025, 3, 20), overrides)
    items = pd.DataFrame({"item_id": ["A", "B"], "category": ["food", "home"], "subcategory": ["x", "y"],
                          "brand": ["b", "b"], "launch_date": [date(2024, 1, 1)] * 2, "status": ["active"] * 2,
                          "analog_item_id": [None, None], "source_file": ["items.csv"] * 2})  # fmt: skip
    publish_reference(lake, ITEMS, date(2025, 3, 1), items)
    forecast("with-override")

    again = lake.read_parquet(lake.run_dir("forecasts", DAY) / DATA_FILE)
    pd.testing.assert_frame_equal(again, statistical)  # the statistical table is untouched
    final = lake.read_parquet(lake.partition_dir(FINAL_FORECASTS, DAY) / DATA_FILE)
    hit = (final["store_id"] == "S01") & (final["item_id"] == "A") & (pd.to_datetime(final["date"]) == str(first))
    assert final.loc[hit, "p50"].tolist() == [50.0]
    assert final.loc[hit, "override_id"].tolist() == ["2025-03-20/o.csv:2"]
    assert final.loc[~hit, "override_id"].isna().all()
    assert final.loc[~hit, "p50"].tolist() == statistical.loc[~hit.to_numpy(), "p50"].tolist()
    summary = lake.read_json(lake.reports_dir(DAY) / "forecast_summary.json")["overrides"]
    assert (summary["considered"], summary["applied"], summary["rows_changed"]) == (2, 1, 1)
    assert summary["examples"] == {"no series of the run in its reach (unknown store or item)": ["2025-03-20/o.csv:3"]}

    frame = assert_matches_published(lake)
    assert frame.loc[hit.to_numpy(), "final_p50"].tolist() == [50.0]
    assert frame.loc[hit.to_numpy(), "override_author"].tolist() == ["ana"]
    assert dict(zip(frame["item_id"], frame["category"], strict=True)) == {"A": "food", "B": "home"}
