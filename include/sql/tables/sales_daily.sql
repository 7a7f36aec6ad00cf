-- Curated daily sales, one partition per day (dt), written by sales_ingest.
CREATE EXTERNAL TABLE IF NOT EXISTS {{ database }}.sales_daily (
  `date` date,
  store_id string,
  item_id string,
  units double,
  revenue double,
  source_rows bigint
)
PARTITIONED BY (dt string)
STORED AS PARQUET
LOCATION '{{ location }}/curated/sales_daily/'
