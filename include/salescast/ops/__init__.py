"""Operating the DAGs: shared DAG defaults, alert mails, Airflow assets and deadlines.

The local Airflow on SQLite (environment, backfill helper) is the harness's: salescast_dev."""
