"""SQL files: rendered safely, and the views give exactly the expected rows on DuckDB (a store that
sent nothing on a day is not scored, in the view as in the dashboard's accuracy)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from salescast.catalog import sql as catalog
from salescast.dashboard import accuracy
from salescast.lake import Lake
from salescast.publish import DATA_FILE


def write(lake_path: Path, prefix: str, key: str, value: str, frame: pd.DataFrame) -> None:
    folder = lake_path / prefix / f"{key}={value}"
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / "part-0.parquet", index=False)
    (folder / "_SUCCESS").write_text("{}")


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.fixture
def lake_path(tmp_path: Path) -> Path:
    return build_lake(tmp_path / "lake")


def build_lake(root: Path) -> Path:
    """Two days of sales, two forecast runs and their safety stock: the rows the views are checked on."""
    for day, units in (("2025-03-01", 10.0), ("2025-03-02", 20.0)):
        write(root, "curated/sales_daily", "dt", day, pd.DataFrame(
            {"date": [d(day)], "store_id": ["S1"], "item_id": ["A"], "units": [units], "revenue": [units * 2],
             "source_rows": [1]}
        ))  # fmt: skip
    # run 2025-02-28 forecast 03-01 and 03-02; run 2025-03-01 forecast 03-02 and 03-03 (no actuals yet)
    for run, targets, p10, p50, p90 in (
        ("2025-02-28", ["2025-03-01", "2025-03-02"], [8.0, 5.0], [12.0, 15.0], [14.0, 30.0]),
        ("2025-03-01", ["2025-03-02", "2025-03-03"], [18.0, 1.0], [19.0, 2.0], [25.0, 3.0]),
    ):
        frame = pd.DataFrame({
            "run_date": d(run), "store_id": "S1", "item_id": "A", "date": [d(t) for t in targets],
            "p10": p10, "p50": p50, "p90": p90, "horizon_step": [1, 2], "mean": p50, "model": "theta",
        })  # fmt: skip
        write(root, "forecasts", "run_date", run, frame)
        write(root, "safety_stock", "run_date", run, pd.DataFrame({
            "run_date": [d(run)], "store_id": ["S1"], "item_id": ["A"], "lead_time": [7], "service_level": [0.95],
            "safety_stock": [float(len(run))], "lead_time_demand": [5.0], "reorder_point": [5.0],
            "method": ["series_errors"], "model": ["theta"],
        }))  # fmt: skip
    return root


def query(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).df()


def test_views_give_exact_rows(lake_path, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    counts = catalog.refresh_duckdb(Lake(str(lake_path)), warehouse)
    assert counts["sales_daily"] == 2
    assert counts["forecasts"] == 4
    assert counts["forecast_metrics"] == 0

    latest = query(warehouse, "SELECT CAST(date AS VARCHAR) AS date, p50 FROM forecast_latest ORDER BY date")
    assert latest.to_dict("list") == {"date": ["2025-03-02", "2025-03-03"], "p50": [19.0, 2.0]}

    hf = query(
        warehouse, "SELECT CAST(date AS VARCHAR) AS date, value, type FROM history_and_forecast ORDER BY type, date"
    )
    assert list(hf.itertuples(index=False, name=None)) == [
        ("2025-03-01", 10.0, "history"), ("2025-03-02", 20.0, "history"),
        ("2025-03-02", 18.0, "p10"), ("2025-03-03", 1.0, "p10"),
        ("2025-03-02", 19.0, "p50"), ("2025-03-03", 2.0, "p50"),
        ("2025-03-02", 25.0, "p90"), ("2025-03-03", 3.0, "p90"),
    ]  # fmt: skip

    acc = query(warehouse, "SELECT CAST(run_date AS VARCHAR) AS run_date, * EXCLUDE (run_date) FROM forecast_accuracy "
                           "ORDER BY run_date, horizon_step")  # fmt: skip
    # run 02-28 step 1: y=10, p10=8 p50=12 p90=14 -> pinball 0.1*2 | 0.5*2 | 0.1*4 (over) ... by hand:
    row = acc.iloc[0]
    assert (row["run_date"], row["horizon_step"], row["points"]) == ("2025-02-28", 1, 1)
    assert row["wql_p10"] == pytest.approx(2 * (0.1 * 2) / 10)
    assert row["wql_p50"] == pytest.approx(2 * (0.5 * 2) / 10)
    assert row["wql_p90"] == pytest.approx(2 * (0.1 * 4) / 10)
    assert row["wape"] == pytest.approx(2 / 10)
    assert row["coverage"] == 1.0
    assert row["bias"] == pytest.approx((12 - 10) / 10)  # sum(p50 - y) / sum(y): over-forecast
    row = acc.iloc[1]  # run 02-28 step 2: y=20, p10=5 p50=15 p90=30
    assert row["wql_p10"] == pytest.approx(2 * 0.1 * 15 / 20)
    assert row["wql_p50"] == pytest.approx(2 * 0.5 * 5 / 20)
    assert row["wql_p90"] == pytest.approx(2 * 0.1 * 10 / 20)
    assert row["bias"] == pytest.approx((15 - 20) / 20)  # under-forecast
    row = acc.iloc[2]  # run 03-01 step 1: y=20 vs p10=18 p50=19 p90=25; step 2 (03-03) has no actuals yet
    assert (row["run_date"], row["horizon_step"], row["wape"]) == ("2025-03-01", 1, pytest.approx(1 / 20))
    assert row["bias"] == pytest.approx(-1 / 20)
    assert len(acc) == 3

    stock = query(warehouse, "SELECT CAST(run_date AS VARCHAR) AS run_date, safety_stock FROM safety_stock")
    assert stock.to_dict("list") == {"run_date": ["2025-03-01"], "safety_stock": [10.0]}


def test_refresh_is_idempotent_and_works_before_anything_is_published(tmp_path, lake_path):
    empty = catalog.refresh_duckdb(Lake(str(tmp_path / "nothing")), tmp_path / "empty.duckdb")
    assert set(empty.values()) == {0}
    warehouse = tmp_path / "w.duckdb"
    assert catalog.refresh_duckdb(Lake(str(lake_path)), warehouse) == catalog.refresh_duckdb(
        Lake(str(lake_path)), warehouse
    )


def test_athena_sql_renders_from_the_same_files():
    ddl = catalog.athena_table_ddl(catalog.TABLES[0], "salescast", "s3://bucket/lake")
    assert "CREATE EXTERNAL TABLE IF NOT EXISTS salescast.sales_daily" in ddl
    assert "LOCATION 's3://bucket/lake/curated/sales_daily/'" in ddl
    part = catalog.athena_add_partition(catalog.TABLES[1], "salescast", "s3://bucket/lake", date(2025, 3, 1))
    assert part.endswith(
        "PARTITION (run_date = '2025-03-01') LOCATION 's3://bucket/lake/forecasts/run_date=2025-03-01/'"
    )
    view = catalog.athena_view("history_and_forecast", "salescast")
    assert view.startswith("-- History")
    assert "CREATE OR REPLACE VIEW salescast.history_and_forecast" in view


@pytest.mark.parametrize(
    ("view", "reads", "columns"),
    [
        ("forecast_accuracy", {"forecast_vs_actual"},
         ["run_date", "horizon_step", "points", "abs_actual", "wql_p10", "wql_p50", "wql_p90", "wape", "coverage",
          "bias"]),
        ("forecast_vs_actual", {"forecasts", "sales_daily", "censored_days"},
         ["run_date", "store_id", "item_id", "date", "horizon_step", "p10", "p50", "p90", "actual", "naive"]),
        ("forecast_by_store", {"forecast_vs_actual"},
         ["run_date", "store_id", "date", "horizon_step", "series", "sum_p50", "actual"]),
        ("forecast_total", {"forecast_by_store"},
         ["run_date", "date", "horizon_step", "stores", "stores_reported", "series", "sum_p50", "actual"]),
        ("item_master_latest", {"item_master"},
         ["item_id", "category", "subcategory", "brand", "launch_date", "status", "analog_item_id", "asof"]),
        ("forecast_by_category", {"forecast_vs_actual", "item_master_latest"},
         ["run_date", "category", "date", "horizon_step", "series", "sum_p50", "actual"]),
        ("forecast_value_added", {"forecast_vs_actual", "forecasts_final", "item_master_latest"},
         ["run_date", "store_id", "item_id", "category", "points", "points_overridden", "abs_actual",
          "abs_error_naive", "abs_error_statistical", "abs_error_final", "fva_statistical", "fva_overrides"]),
    ],
)  # fmt: skip
def test_athena_views_are_valid_athena_sql_with_their_columns(view, reads, columns):
    """What the sales_catalog DAG sends to Athena: one CREATE OR REPLACE VIEW in the database,
    valid in Athena's dialect (sqlglot parses it as Athena), over the tables or views it names."""
    import sqlglot
    from sqlglot import exp

    sql = catalog.athena_view(view, "salescast")
    assert f"CREATE OR REPLACE VIEW salescast.{view} AS" in sql
    statement = sqlglot.parse_one(sql, read="athena")
    assert isinstance(statement, exp.Create)
    ctes = {c.alias for c in statement.find_all(exp.CTE)}
    tables = {t.name for t in statement.expression.find_all(exp.Table)} - ctes
    assert tables == reads
    assert {t.db for t in statement.expression.find_all(exp.Table) if t.name in reads} == {"salescast"}
    assert statement.expression.named_selects == columns
    if view == "forecast_accuracy":
        assert "CASE WHEN SUM(y) > 0 THEN SUM(p50 - y) / SUM(y) END AS bias" in sql
    elif view not in ("forecast_vs_actual", "item_master_latest", "forecast_value_added"):  # totals: p50 only
        assert "p10" not in statement.expression.sql()
        assert "p90" not in statement.expression.sql()


def hierarchy_lake(root: Path) -> None:
    """Two stores, four series, one run of three days: S1 sold no A on 03-02 (zero, not unknown),
    S2 sent nothing on 03-03 and S1 nothing on 03-04, where S2's only row is a net return."""
    sales = {
        "2025-03-02": [("S1", "B", 4.0), ("S2", "A", 7.0), ("S2", "C", -1.0)],
        "2025-03-03": [("S1", "A", 3.0), ("S1", "B", 5.0)],
        "2025-03-04": [("S2", "C", -3.0)],
    }
    for day, rows in sales.items():
        write(root, "curated/sales_daily", "dt", day, pd.DataFrame(
            [{"date": d(day), "store_id": s, "item_id": i, "units": u, "revenue": u, "source_rows": 1}
             for s, i, u in rows]
        ))  # fmt: skip
    series = [("S1", "A", 2.0), ("S1", "B", 5.0), ("S2", "A", 6.0), ("S2", "C", 0.5)]
    frame = pd.DataFrame([
        {"run_date": d("2025-03-01"), "store_id": s, "item_id": i, "date": d(day), "p10": level / 2,
         "p50": level + step, "p90": level * 2 + step, "horizon_step": step, "mean": level, "model": "theta"}
        for s, i, level in series for step, day in enumerate(("2025-03-02", "2025-03-03", "2025-03-04"), start=1)
    ])  # fmt: skip
    write(root, "forecasts", "run_date", "2025-03-01", frame)


def test_store_and_total_views_add_up_bottom_up(tmp_path):
    hierarchy_lake(tmp_path / "lake")
    warehouse = tmp_path / "w.duckdb"
    counts = catalog.refresh_duckdb(Lake(str(tmp_path / "lake")), warehouse)
    assert (counts["forecast_by_store"], counts["forecast_total"]) == (6, 3)
    forecasts = pd.read_parquet(tmp_path / "lake/forecasts/run_date=2025-03-01/part-0.parquet")
    sales = query(warehouse, "SELECT store_id, item_id, CAST(date AS VARCHAR) AS date, units FROM sales_daily")
    stores = query(warehouse, "SELECT store_id, CAST(date AS VARCHAR) AS date, horizon_step, series, sum_p50, actual "
                              "FROM forecast_by_store ORDER BY store_id, date")  # fmt: skip
    for row in stores.itertuples(index=False):
        items = forecasts[(forecasts["store_id"] == row.store_id) & (forecasts["date"].astype(str) == row.date)]
        assert row.sum_p50 == pytest.approx(items["p50"].sum())  # the store is the sum of its items
        assert row.series == len(items)
        delivered = sales[(sales["store_id"] == row.store_id) & (sales["date"] == row.date)]
        sold = delivered[delivered["item_id"].isin(items["item_id"])]["units"].sum()
        if len(delivered):
            assert row.actual == pytest.approx(sold), row
        else:
            assert pd.isna(row.actual), row  # the store sent nothing that day: unknown, not zero
    actual = dict(zip(zip(stores["store_id"], stores["date"], strict=True), stores["actual"], strict=True))
    assert actual[("S1", "2025-03-02")] == 4.0  # A: no row on a day S1 delivered: zero
    assert actual[("S2", "2025-03-02")] == 6.0  # 7 sold, 1 returned
    assert actual[("S2", "2025-03-04")] == -3.0
    assert pd.isna(actual[("S2", "2025-03-03")])
    assert pd.isna(actual[("S1", "2025-03-04")])

    total = query(warehouse, "SELECT CAST(date AS VARCHAR) AS date, horizon_step, stores, stores_reported, series, "
                             "sum_p50, actual FROM forecast_total ORDER BY date")  # fmt: skip
    by_day = stores.groupby("date")
    assert total["sum_p50"].tolist() == pytest.approx(by_day["sum_p50"].sum().tolist())
    assert total["sum_p50"].tolist() == pytest.approx(forecasts.groupby("date")["p50"].sum().tolist())
    assert total["series"].tolist() == [4, 4, 4]
    assert total["stores_reported"].tolist() == [2, 1, 1]
    assert total["actual"].iloc[0] == 10.0  # every store reported 03-02
    assert total["actual"].iloc[1:].isna().all()  # a store missing: no total that would look like a miss

    bias = query(warehouse, "SELECT horizon_step, bias FROM forecast_accuracy ORDER BY horizon_step")["bias"]
    assert bias.iloc[0] == pytest.approx((3 + 6 + 7 + 1.5 - 10) / 10)  # p50 step 1: 3, 6, 7, 1.5; sold 0+4+7-1
    assert bias.iloc[1] == pytest.approx((4 + 7 - 8) / 8)  # S1 only
    assert pd.isna(bias.iloc[2])  # S2's actuals sum to -3: no meaningful ratio


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: catalog.athena_view("forecast_latest", "sales; DROP TABLE x"), "not a lower-case SQL identifier"),
        (
            lambda: catalog.athena_add_partition(catalog.TABLES[0], "db", "s3://b/l", "2025-03-01' OR '1'='1"),
            "not a YYYY-MM-DD",
        ),
        (lambda: catalog.athena_add_partition(catalog.TABLES[0], "db", "s3://b/l", "2025-3-1"), "not a YYYY-MM-DD"),
        (lambda: catalog.athena_table_ddl(catalog.TABLES[0], "db", "s3://b/l'x"), "not a plain s3://"),
        (lambda: catalog.athena_table_ddl(catalog.TABLES[0], "db", "s3://b/../etc"), "not a plain s3://"),
        (lambda: catalog.render("views/safety_stock.sql", database="db", evil="1"), "no validation rule"),
    ],
)
def test_unsafe_values_never_reach_sql(call, message):
    with pytest.raises(catalog.UnsafeSqlValue, match=message.replace("(", r"\(")):
        call()


def test_tables_cover_every_published_dataset():
    from salescast.forecast.tasks import DATASETS  # the three datasets the forecast DAG publishes
    from salescast.lake import CENSORED, FINAL_FORECASTS, ITEMS  # final; with drivers, censored days; items

    published = {"curated/sales_daily", *DATASETS, FINAL_FORECASTS.folder, CENSORED.folder, ITEMS.folder}
    assert {t.prefix for t in catalog.TABLES} == published


def test_category_totals_add_up_to_the_total_with_each_items_newest_category(tmp_path):
    """forecast_by_category sums the run's series per category (the item master's newest row
    per item); the categories add up to forecast_total; an unlisted item has category null."""
    hierarchy_lake(tmp_path / "lake")
    masters = {"2025-02-01": [("A", "food"), ("B", "food"), ("C", "home")], "2025-02-20": [("B", "drinks")]}
    for asof, rows in masters.items():
        frame = pd.DataFrame([{"item_id": i, "category": c, "subcategory": c, "brand": "x", "status": "active",
                               "launch_date": d("2024-01-01"), "analog_item_id": None, "source_file": "items.csv"}
                              for i, c in rows])  # fmt: skip
        write(tmp_path / "lake", "curated/items", "asof", asof, frame.assign(asof=d(asof)))
    (tmp_path / "lake/forecasts/run_date=2025-03-01/part-0.parquet").rename(tmp_path / "f.parquet")
    forecasts = pd.read_parquet(tmp_path / "f.parquet")
    extra = forecasts[forecasts["item_id"] == "C"].assign(item_id="Z")  # an item the master does not list
    pd.concat([forecasts, extra]).to_parquet(tmp_path / "lake/forecasts/run_date=2025-03-01/part-0.parquet")
    warehouse = tmp_path / "w.duckdb"
    counts = catalog.refresh_duckdb(Lake(str(tmp_path / "lake")), warehouse)
    assert (counts["item_master"], counts["item_master_latest"]) == (4, 3)
    latest = query(warehouse, "SELECT item_id, category FROM item_master_latest ORDER BY item_id")
    assert latest.values.tolist() == [["A", "food"], ["B", "drinks"], ["C", "home"]]  # B's newer row wins
    cats = query(warehouse, "SELECT category, CAST(date AS VARCHAR) AS date, series, sum_p50, actual "
                            "FROM forecast_by_category ORDER BY date, category NULLS LAST")  # fmt: skip
    day1 = cats[cats["date"] == "2025-03-02"].set_index(cats.loc[cats["date"] == "2025-03-02", "category"].fillna("-"))
    assert day1["series"].to_dict() == {"drinks": 1, "food": 2, "home": 1, "-": 1}
    assert day1.loc["food", "sum_p50"] == pytest.approx(3 + 7)  # S1/A 2+1, S2/A 6+1
    assert day1.loc["food", "actual"] == pytest.approx(0 + 7)  # S1 sold no A that day, S2 sold 7
    total = query(warehouse, "SELECT CAST(date AS VARCHAR) AS date, sum_p50 FROM forecast_total ORDER BY date")
    by_day = cats.groupby("date")["sum_p50"].sum()
    assert by_day.tolist() == pytest.approx(total["sum_p50"].tolist())  # the categories add up to the total


def test_forecast_value_added_is_negative_for_a_harmful_override(tmp_path):
    """Seasonal naive (last week) misses by 5 a day, the statistical p50 by 1, a planner's set to
    20 by 10: the statistical forecast adds value over naive, the override destroys it."""
    root = tmp_path / "lake"
    first = date(2025, 3, 1)
    for n in range(14):
        day = first + timedelta(days=n)
        sales = pd.DataFrame({"date": [day], "store_id": ["S1"], "item_id": ["A"], "units": [5.0 if n < 7 else 10.0],
                              "revenue": [1.0], "source_rows": [1]})  # fmt: skip
        write(root, "curated/sales_daily", "dt", day.isoformat(), sales)
    run = date(2025, 3, 7)
    rows = pd.DataFrame({"run_date": run, "store_id": "S1", "item_id": ["A"] * 7,
                         "date": [run + timedelta(days=k) for k in range(1, 8)], "p10": 7.0, "p50": 9.0,
                         "p90": 12.0, "horizon_step": range(1, 8), "mean": 9.0, "model": "theta"})  # fmt: skip
    write(root, "forecasts", "run_date", run.isoformat(), rows)
    final = rows.assign(p10=15.6, p50=20.0, p90=26.7, override_id="2025-03-06/o.csv:2", override_kind="set",
                        override_value=20.0, override_author="ana", override_reason="feels low")  # fmt: skip
    write(root, "forecasts_final", "run_date", run.isoformat(), final)
    warehouse = tmp_path / "w.duckdb"
    catalog.refresh_duckdb(Lake(str(root)), warehouse)
    naive = query(warehouse, "SELECT naive FROM forecast_vs_actual ORDER BY date")["naive"].tolist()
    assert naive == [5.0] * 7  # the same weekday of the week before the run
    fva = query(warehouse, "SELECT * FROM forecast_value_added").iloc[0]
    assert (fva["points"], fva["points_overridden"], fva["abs_actual"]) == (7, 7, 70.0)
    assert (fva["abs_error_naive"], fva["abs_error_statistical"], fva["abs_error_final"]) == (35.0, 7.0, 70.0)
    assert fva["fva_statistical"] == pytest.approx(28 / 70)
    assert fva["fva_overrides"] == pytest.approx(-63 / 70)  # the override made it worse
    assert pd.isna(fva["category"])  # no item master


def test_censored_days_of_the_newest_run_are_unknown_demand_not_misses(tmp_path):
    """A stock-out day is left out of forecast_vs_actual (so of accuracy and totals), as the
    backtest leaves it out; an older run's verdict is replaced by the newest run's."""
    hierarchy_lake(tmp_path / "lake")
    censored = {"2025-02-28": [("S1", "B", "2025-03-03")], "2025-03-01": [("S1", "A", "2025-03-02")]}
    for run_date, rows in censored.items():
        frame = pd.DataFrame(rows, columns=["store_id", "item_id", "date"])
        write(tmp_path / "lake", "censored_days", "run_date", run_date,
              frame.assign(run_date=d(run_date), date=frame["date"].map(d)))  # fmt: skip
    warehouse = tmp_path / "w.duckdb"
    counts = catalog.refresh_duckdb(Lake(str(tmp_path / "lake")), warehouse)
    assert counts["censored_days"] == 2
    rows = query(warehouse, "SELECT store_id, item_id, CAST(date AS VARCHAR) AS date, actual FROM forecast_vs_actual")
    actual = {(r.store_id, r.item_id, r.date): r.actual for r in rows.itertuples(index=False)}
    assert pd.isna(actual[("S1", "A", "2025-03-02")])  # out of stock: unknown, not zero sales
    assert actual[("S1", "B", "2025-03-03")] == 5.0  # only an older run said so
    step1 = query(warehouse, "SELECT points, bias FROM forecast_accuracy WHERE horizon_step = 1").iloc[0]
    assert step1["points"] == 3
    assert step1["bias"] == pytest.approx((6 + 7 + 1.5 - 10) / 10)
    # the dashboard's own computation follows the same rule
    forecasts = pd.read_parquet(tmp_path / "lake/forecasts/run_date=2025-03-01/part-0.parquet")
    sales = query(warehouse, "SELECT store_id, item_id, date, units FROM sales_daily")
    newest = pd.DataFrame({"store_id": ["S1"], "item_id": ["A"], "date": pd.to_datetime(["2025-03-02"])})
    sums = accuracy.run_sums(forecasts.assign(date=pd.to_datetime(forecasts["date"])),
                             sales.assign(date=pd.to_datetime(sales["date"])), newest)  # fmt: skip
    first = sums[sums["horizon_step"] == 1].iloc[0]
    assert first["points"] == 3
    assert accuracy.scores(first.to_dict())["bias"] == pytest.approx(step1["bias"])
    store = query(warehouse, "SELECT actual FROM forecast_by_store WHERE store_id = 'S1' AND date = '2025-03-02'")
    assert pd.isna(store["actual"].iloc[0])  # A's demand unknown: so is S1's total (B's 4 alone would look low)


def test_a_partition_without_success_marker_stays_out_of_the_views(lake_path, tmp_path):
    """A partition being re-published (marker removed first) or left half-written is not data."""
    (lake_path / "curated/sales_daily/dt=2025-03-02/_SUCCESS").unlink()
    write(lake_path, "forecasts", "run_date", "2025-03-05", pd.DataFrame({"junk": [1]}))
    (lake_path / "forecasts/run_date=2025-03-05/_SUCCESS").unlink()
    warehouse = tmp_path / "w.duckdb"
    counts = catalog.refresh_duckdb(Lake(str(lake_path)), warehouse)
    assert counts["sales_daily"] == 1
    assert counts["forecasts"] == 4
    days = query(warehouse, "SELECT DISTINCT dt FROM sales_daily")["dt"].astype(str).tolist()
    assert days == ["2025-03-01"]


def test_accuracy_skips_a_store_that_sent_nothing(tmp_path):
    """The view and the dashboard score only (store, day) pairs that delivered."""
    root = tmp_path / "lake"

    def write(prefix: str, key: str, value: str, frame: pd.DataFrame) -> None:
        folder = root / prefix / f"{key}={value}"
        folder.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(folder / DATA_FILE, index=False)
        (folder / "_SUCCESS").write_text("{}")

    day = date(2025, 3, 2)  # S2 sent nothing; S1 sold 10 of A
    sales = pd.DataFrame({"date": [day], "store_id": ["S1"], "item_id": ["A"], "units": [10.0],
                          "revenue": [20.0], "source_rows": [1]})  # fmt: skip
    write("curated/sales_daily", "dt", day.isoformat(), sales)
    forecasts = pd.DataFrame({
        "run_date": date(2025, 3, 1), "store_id": ["S1", "S2"], "item_id": "A", "date": day,
        "p10": 8.0, "p50": 10.0, "p90": 12.0, "horizon_step": 1, "mean": 10.0, "model": "theta",
    })  # fmt: skip
    write("forecasts", "run_date", "2025-03-01", forecasts)
    warehouse = tmp_path / "w.duckdb"
    catalog.refresh_duckdb(Lake(str(root)), warehouse)
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        points, wape = con.execute("SELECT points, wape FROM forecast_accuracy").fetchone()
    assert (points, wape) == (1, 0.0)  # S2 is not a miss of 10 units against zero sales
    frame = forecasts.assign(date=pd.to_datetime(forecasts["date"]))
    sums = accuracy.run_sums(frame, sales.assign(date=pd.to_datetime(sales["date"])))
    assert sums["points"].tolist() == [1.0]
