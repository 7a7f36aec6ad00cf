-- Safety stock recommendation per series, one partition per forecast run; the view safety_stock keeps the latest.
CREATE EXTERNAL TABLE IF NOT EXISTS {{ database }}.safety_stock_runs (
  store_id string,
  item_id string,
  lead_time bigint,
  service_level double,
  safety_stock double,
  lead_time_demand double,
  reorder_point double,
  method string,
  model string
)
PARTITIONED BY (run_date string)
STORED AS PARQUET
LOCATION '{{ location }}/safety_stock/'
