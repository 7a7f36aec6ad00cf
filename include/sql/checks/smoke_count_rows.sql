{# After a catalog refresh: Athena can read the newest registered day of sales_daily. #}
SELECT COUNT(*) AS row_count FROM {{ database }}.sales_daily WHERE dt = '{{ value }}'
