"""Per-series forecasting: a statsmodels bake-off chosen by backtest, calibrated quantiles, safety stock.

Nothing here imports Airflow; the ``sales_forecast`` DAG and the CLI both call :mod:`engine`.
"""
