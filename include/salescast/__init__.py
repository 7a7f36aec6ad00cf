"""salescast: daily retail sales forecasting on Apache Airflow 3, from landing files to forecasts.

All logic lives in this package so it can be tested without a running Airflow; the DAG
files in ``dags/`` only wire these functions into tasks.
"""

__version__ = "0.1.0"
