-- One row per series and target date, one partition per forecast run (run_date), written by sales_forecast.
CREATE EXTERNAL TABLE IF NOT EXISTS {{ database }}.forecasts (
  store_id string,
  item_id string,
  `date` date,
  p10 double,
  p50 double,
  p90 double,
  horizon_step bigint,
  mean double,
  model string
)
PARTITIONED BY (run_date string)
STORED AS PARQUET
LOCATION '{{ location }}/forecasts/'
