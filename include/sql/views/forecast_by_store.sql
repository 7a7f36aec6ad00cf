-- Every run's median forecast and the actuals per store and target day: sums of the run's series, so a
-- store's row is by construction the sum of its items' rows (forecast_total sums these rows again).
-- actual: the same series' sales, once the store delivered that day (the forecast_accuracy rule: a series of a
-- delivering store with no row sold zero); null while the day is not published or the store sent nothing.
-- Items the run did not forecast (new since the run) are in neither column. No p10/p90: a quantile of a sum is
-- not the sum of the quantiles, and the runs keep each series' quantiles only, not their joint distribution
-- (docs/sql.md, "Totals have no p10/p90").
CREATE OR REPLACE VIEW {{ database }}.forecast_by_store AS
WITH days AS (
  SELECT DISTINCT store_id, "date" FROM {{ database }}.sales_daily
),
actuals AS (
  SELECT store_id, item_id, "date", SUM(units) AS units FROM {{ database }}.sales_daily GROUP BY store_id, item_id, "date"
),
joined AS (
  SELECT f.run_date, f.store_id, f."date", f.horizon_step, f.p50,
         CASE WHEN d.store_id IS NOT NULL THEN COALESCE(a.units, 0.0) END AS actual
  FROM {{ database }}.forecasts AS f
  LEFT JOIN days AS d ON f.store_id = d.store_id AND f."date" = d."date"
  LEFT JOIN actuals AS a ON a.store_id = f.store_id AND a.item_id = f.item_id AND a."date" = f."date"
)
SELECT
  run_date,
  store_id,
  "date",
  horizon_step,
  COUNT(*) AS series,
  SUM(p50) AS sum_p50,
  SUM(actual) AS actual
FROM joined
GROUP BY run_date, store_id, "date", horizon_step
