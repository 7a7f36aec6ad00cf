-- Every run's forecast rows next to the actual sales of their series and target day, and the seasonal naive
-- forecast of that day: the one home of the rule that decides what a forecast is scored against
-- (forecast_accuracy, forecast_by_store, forecast_by_category and forecast_value_added read it).
-- actual: the series' sales once its store delivered that day; a series of a delivering store with no row sold
-- zero. Null while the day is not published, when the store's file was missing that day, or when the drivers
-- say the item could not be bought (censored_days of the newest run with drivers: a stock-out or a closed store;
-- days before that run's history window are scored as sold): unknown demand, not zero.
-- naive: seasonal naive for a daily run, the series' sales on the same weekday of the last week before the run
-- (the target day minus 7 x ceil(horizon_step / 7) days), known by the same rule as actual, else null.
CREATE OR REPLACE VIEW {{ database }}.forecast_vs_actual AS
WITH days AS (
  SELECT DISTINCT store_id, "date" FROM {{ database }}.sales_daily
),
actuals AS (
  SELECT store_id, item_id, "date", SUM(units) AS units FROM {{ database }}.sales_daily GROUP BY store_id, item_id, "date"
),
censored AS (
  SELECT store_id, item_id, "date" FROM {{ database }}.censored_days
  WHERE run_date = (SELECT MAX(run_date) FROM {{ database }}.censored_days)
),
fc AS (
  SELECT
    run_date, store_id, item_id, "date", horizon_step, p10, p50, p90,
    date_add('day', -7 * CAST(CEIL(horizon_step / 7.0) AS INTEGER), "date") AS naive_date
  FROM {{ database }}.forecasts
)
SELECT
  f.run_date,
  f.store_id,
  f.item_id,
  f."date",
  f.horizon_step,
  f.p10,
  f.p50,
  f.p90,
  CASE WHEN d.store_id IS NOT NULL AND c.store_id IS NULL THEN COALESCE(a.units, 0.0) END AS actual,
  CASE WHEN nd.store_id IS NOT NULL AND nc.store_id IS NULL THEN COALESCE(na.units, 0.0) END AS naive
FROM fc AS f
LEFT JOIN days AS d ON f.store_id = d.store_id AND f."date" = d."date"
LEFT JOIN actuals AS a ON a.store_id = f.store_id AND a.item_id = f.item_id AND a."date" = f."date"
LEFT JOIN censored AS c ON c.store_id = f.store_id AND c.item_id = f.item_id AND c."date" = f."date"
LEFT JOIN days AS nd ON f.store_id = nd.store_id AND f.naive_date = nd."date"
LEFT JOIN actuals AS na ON na.store_id = f.store_id AND na.item_id = f.item_id AND na."date" = f.naive_date
LEFT JOIN censored AS nc ON nc.store_id = f.store_id AND nc.item_id = f.item_id AND nc."date" = f.naive_date
