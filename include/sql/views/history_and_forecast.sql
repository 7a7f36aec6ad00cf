-- History and the latest forecast in the long shape a QuickSight line chart colours by type.
CREATE OR REPLACE VIEW {{ database }}.history_and_forecast AS
SELECT store_id, item_id, "date", units AS value, 'history' AS type FROM {{ database }}.sales_daily
UNION ALL
SELECT store_id, item_id, "date", p10 AS value, 'p10' AS type FROM {{ database }}.forecast_latest
UNION ALL
SELECT store_id, item_id, "date", p50 AS value, 'p50' AS type FROM {{ database }}.forecast_latest
UNION ALL
SELECT store_id, item_id, "date", p90 AS value, 'p90' AS type FROM {{ database }}.forecast_latest
