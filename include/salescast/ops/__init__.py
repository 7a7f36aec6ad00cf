"""Operating the DAGs: shared DAG defaults, alert mails, Airflow assets and the local Airflow's environment."""
