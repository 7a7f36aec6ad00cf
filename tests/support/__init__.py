"""Helpers the tests share: no tests here, only what several test files import.

* ``net``: free ports, moto_server, an environment without the session's settings.
* ``airflow_api``: a small client for Airflow's REST API (the system tests).
* ``dags``: ``dag.test()`` of a DAG in dags/ for a day; dags/ parsed offline.
* ``make_run``: the command ``make run`` executes, and its environment.
* ``lakes``: file:// and s3:// lakes for one test, a full disk (with tests/conftest.py).
* ``dashboard_lake``: a small real lake for the dashboard tests.
* ``celery_services``, ``celery_cluster``: PostgreSQL, Redis and a distributed Airflow.
"""
