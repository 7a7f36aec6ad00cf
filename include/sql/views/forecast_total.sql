-- Every run's median forecast and the actuals over all stores per target day: the sum of forecast_by_store's
-- rows (bottom-up, so the total adds up by construction). actual only once every store of the run delivered that
-- day (a total of the stores that did would look like a miss); stores_reported says how many have. No p10/p90,
-- as in forecast_by_store (docs/sql.md, "Totals have no p10/p90").
CREATE OR REPLACE VIEW {{ database }}.forecast_total AS
SELECT
  run_date,
  "date",
  horizon_step,
  COUNT(*) AS stores,
  COUNT(actual) AS stores_reported,
  SUM(series) AS series,
  SUM(sum_p50) AS sum_p50,
  CASE WHEN COUNT(actual) = COUNT(*) THEN SUM(actual) END AS actual
FROM {{ database }}.forecast_by_store
GROUP BY run_date, "date", horizon_step
