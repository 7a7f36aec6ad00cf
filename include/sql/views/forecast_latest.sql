-- The newest forecast run of every series.
CREATE OR REPLACE VIEW {{ database }}.forecast_latest AS
SELECT f.run_date, f.store_id, f.item_id, f."date", f.horizon_step, f.p10, f.p50, f.p90, f.mean, f.model
FROM {{ database }}.forecasts AS f
JOIN (
  SELECT store_id, item_id, MAX(run_date) AS run_date
  FROM {{ database }}.forecasts
  GROUP BY store_id, item_id
) AS latest
  ON f.store_id = latest.store_id AND f.item_id = latest.item_id AND f.run_date = latest.run_date
