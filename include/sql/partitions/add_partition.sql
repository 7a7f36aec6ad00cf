-- Register one partition (never a crawler, never MSCK REPAIR): values are validated before rendering.
ALTER TABLE {{ database }}.{{ table }} ADD IF NOT EXISTS
PARTITION ({{ key }} = '{{ value }}') LOCATION '{{ location }}/{{ prefix }}/{{ key }}={{ value }}/'
