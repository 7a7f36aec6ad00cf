-- Each past run's forecasts against the actuals that arrived later, per run date and horizon step.
-- Only rows with a known actual count (forecast_vs_actual: a day not published, or a store whose file
-- was missing that day, is unknown, not zero; a series of a delivering store with no row sold zero).
-- wQL[tau] = 2 * sum(tau * max(y - q, 0) + (1 - tau) * max(q - y, 0)) / sum(|y|), WAPE = sum(|y - p50|) / sum(|y|),
-- bias = sum(p50 - y) / sum(y): above 0 the median over-forecasts, below 0 it under-forecasts; null when the
-- actuals sum to 0 or less (net returns), where the ratio has no meaning.
CREATE OR REPLACE VIEW {{ database }}.forecast_accuracy AS
WITH joined AS (
  SELECT run_date, horizon_step, p10, p50, p90, actual AS y FROM {{ database }}.forecast_vs_actual WHERE actual IS NOT NULL
)
SELECT
  run_date,
  horizon_step,
  COUNT(*) AS points,
  SUM(ABS(y)) AS abs_actual,
  CASE WHEN SUM(ABS(y)) > 0 THEN 2 * SUM(0.1 * GREATEST(y - p10, 0) + 0.9 * GREATEST(p10 - y, 0)) / SUM(ABS(y)) END AS wql_p10,
  CASE WHEN SUM(ABS(y)) > 0 THEN 2 * SUM(0.5 * GREATEST(y - p50, 0) + 0.5 * GREATEST(p50 - y, 0)) / SUM(ABS(y)) END AS wql_p50,
  CASE WHEN SUM(ABS(y)) > 0 THEN 2 * SUM(0.9 * GREATEST(y - p90, 0) + 0.1 * GREATEST(p90 - y, 0)) / SUM(ABS(y)) END AS wql_p90,
  CASE WHEN SUM(ABS(y)) > 0 THEN SUM(ABS(y - p50)) / SUM(ABS(y)) END AS wape,
  AVG(CASE WHEN y >= p10 AND y <= p90 THEN 1.0 ELSE 0.0 END) AS coverage,
  CASE WHEN SUM(y) > 0 THEN SUM(p50 - y) / SUM(y) END AS bias
FROM joined
GROUP BY run_date, horizon_step
