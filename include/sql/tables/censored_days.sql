-- Days of unknown demand (a stock-out or a closed store, from the drivers) per series in a run's history, one
-- partition per forecast run with drivers; forecast_vs_actual leaves them out as the backtest does.
CREATE EXTERNAL TABLE IF NOT EXISTS {{ database }}.censored_days (
  store_id string,
  item_id string,
  `date` date
)
PARTITIONED BY (run_date string)
STORED AS PARQUET
LOCATION '{{ location }}/censored_days/'
