-- Forecast value added per run and series: the absolute errors of seasonal naive, the statistical forecast and
-- the final one (after the planners' overrides, forecasts_final) over the same scored days (forecast_vs_actual:
-- actual and naive known), kept as sums so any roll-up (store, category, month) is a ratio of sums.
-- fva_statistical = (naive error - statistical error) / sum |actual|: WAPE points the statistical forecast gains
-- over seasonal naive. fva_overrides = (statistical error - final error) / sum |actual|: what the overrides added;
-- below 0 they made the forecast worse. Null when sum |actual| is 0. Daily runs (naive is a daily rule).
CREATE OR REPLACE VIEW {{ database }}.forecast_value_added AS
SELECT
  v.run_date,
  v.store_id,
  v.item_id,
  i.category,
  COUNT(*) AS points,
  COUNT(f.override_id) AS points_overridden,
  SUM(ABS(v.actual)) AS abs_actual,
  SUM(ABS(v.actual - v.naive)) AS abs_error_naive,
  SUM(ABS(v.actual - v.p50)) AS abs_error_statistical,
  SUM(ABS(v.actual - f.p50)) AS abs_error_final,
  CASE WHEN SUM(ABS(v.actual)) > 0
    THEN (SUM(ABS(v.actual - v.naive)) - SUM(ABS(v.actual - v.p50))) / SUM(ABS(v.actual)) END AS fva_statistical,
  CASE WHEN SUM(ABS(v.actual)) > 0
    THEN (SUM(ABS(v.actual - v.p50)) - SUM(ABS(v.actual - f.p50))) / SUM(ABS(v.actual)) END AS fva_overrides
FROM {{ database }}.forecast_vs_actual AS v
JOIN {{ database }}.forecasts_final AS f
  ON f.run_date = v.run_date AND f.store_id = v.store_id AND f.item_id = v.item_id AND f."date" = v."date"
LEFT JOIN {{ database }}.item_master_latest AS i ON i.item_id = v.item_id
WHERE v.actual IS NOT NULL AND v.naive IS NOT NULL
GROUP BY v.run_date, v.store_id, v.item_id, i.category
