-- The item master as delivered, one partition per as-of day (asof), written by sales_items; item_master_latest
-- keeps each item's newest row.
CREATE EXTERNAL TABLE IF NOT EXISTS {{ database }}.item_master (
  item_id string,
  category string,
  subcategory string,
  brand string,
  launch_date date,
  status string,
  analog_item_id string,
  source_file string
)
PARTITIONED BY (asof string)
STORED AS PARQUET
LOCATION '{{ location }}/curated/items/'
