-- Each item's newest item master row (the latest as-of delivery that names it wins, as in
-- salescast.forecast.items_asof): the current category, subcategory, brand, launch date and status.
CREATE OR REPLACE VIEW {{ database }}.item_master_latest AS
SELECT item_id, category, subcategory, brand, launch_date, status, analog_item_id, asof
FROM (
  SELECT
    item_id, category, subcategory, brand, launch_date, status, analog_item_id, asof,
    ROW_NUMBER() OVER (PARTITION BY item_id ORDER BY asof DESC) AS newest
  FROM {{ database }}.item_master
) AS ranked
WHERE newest = 1
