-- The final forecast of every run: the forecasts table's rows with the planners' overrides as of the run date
-- applied (one override per row, named in override_*; null where none applies), written by sales_forecast.
CREATE EXTERNAL TABLE IF NOT EXISTS {{ database }}.forecasts_final (
  store_id string,
  item_id string,
  `date` date,
  p10 double,
  p50 double,
  p90 double,
  horizon_step bigint,
  mean double,
  model string,
  override_id string,
  override_kind string,
  override_value double,
  override_author string,
  override_reason string
)
PARTITIONED BY (run_date string)
STORED AS PARQUET
LOCATION '{{ location }}/forecasts_final/'
