-- Every run's median forecast and the actuals per category and target day, over all stores: sums of the run's
-- series (bottom-up, so the categories add up to forecast_total's sum_p50 by construction). The category is the
-- item's current one (item_master_latest: a re-categorised item moves with its history); an item the master does
-- not list is in the row whose category is null. actual once every series of the category has one that day
-- (forecast_vs_actual: published, its store delivered, not out of stock), else null. No p10/p90: docs/sql.md.
CREATE OR REPLACE VIEW {{ database }}.forecast_by_category AS
SELECT
  v.run_date,
  i.category,
  v."date",
  v.horizon_step,
  COUNT(*) AS series,
  SUM(v.p50) AS sum_p50,
  CASE WHEN COUNT(v.actual) = COUNT(*) THEN SUM(v.actual) END AS actual
FROM {{ database }}.forecast_vs_actual AS v
LEFT JOIN {{ database }}.item_master_latest AS i ON i.item_id = v.item_id
GROUP BY v.run_date, i.category, v."date", v.horizon_step
