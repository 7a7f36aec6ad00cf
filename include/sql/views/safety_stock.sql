-- The latest safety-stock recommendation of every series.
CREATE OR REPLACE VIEW {{ database }}.safety_stock AS
SELECT s.run_date, s.store_id, s.item_id, s.lead_time, s.service_level, s.safety_stock, s.lead_time_demand,
       s.reorder_point, s.method, s.model
FROM {{ database }}.safety_stock_runs AS s
JOIN (
  SELECT store_id, item_id, MAX(run_date) AS run_date FROM {{ database }}.safety_stock_runs GROUP BY store_id, item_id
) AS latest
  ON s.store_id = latest.store_id AND s.item_id = latest.item_id AND s.run_date = latest.run_date
