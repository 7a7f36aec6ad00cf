"""Development and test harness: the local Airflow stack and its REST client, the demo and the
synthetic sales generator. Workers never import it."""
