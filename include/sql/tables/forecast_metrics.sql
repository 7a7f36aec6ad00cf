-- Per-series backtest scores of every candidate model, one partition per forecast run.
CREATE EXTERNAL TABLE IF NOT EXISTS {{ database }}.forecast_metrics (
  store_id string,
  item_id string,
  n_windows bigint,
  censored_days bigint,
  model string,
  chosen boolean,
  reason string,
  skipped_models bigint,
  wql_p10 double,
  wql_p50 double,
  wql_p90 double,
  mean_wql double,
  wape double,
  mase double,
  coverage double,
  points double
)
PARTITIONED BY (run_date string)
STORED AS PARQUET
LOCATION '{{ location }}/metrics/'
