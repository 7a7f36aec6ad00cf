-- Every run's median forecast and the actuals per store and target day: sums of the run's series, so a
-- store's row is by construction the sum of its items' rows (forecast_total sums these rows again).
-- actual: forecast_vs_actual's, summed, once every series of the store has one that day (a sum of part of them
-- would look like a miss): null while the day is not published, the store sent nothing, or an item was out of
-- stock (censored_days: its demand is unknown).
-- Items the run did not forecast (new since the run) are in neither column. No p10/p90: a quantile of a sum is
-- not the sum of the quantiles, and the runs keep each series' quantiles only, not their joint distribution
-- (docs/sql.md, "Totals have no p10/p90").
CREATE OR REPLACE VIEW {{ database }}.forecast_by_store AS
SELECT
  run_date,
  store_id,
  "date",
  horizon_step,
  COUNT(*) AS series,
  SUM(p50) AS sum_p50,
  CASE WHEN COUNT(actual) = COUNT(*) THEN SUM(actual) END AS actual
FROM {{ database }}.forecast_vs_actual
GROUP BY run_date, store_id, "date", horizon_step
