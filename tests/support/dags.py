"""The DAG files of dags/ as the tests use them: parsed offline, or one DAG run for one day
with ``dag.test()`` in this process, on the session's SQLite DB."""

from __future__ import annotations

import socket
from datetime import date

import pendulum


def run(dag_id: str, day: date):
    from airflow.dag_processing.dagbag import DagBag

    from salescast.config import DAGS_DIR

    dag = DagBag(dag_folder=str(DAGS_DIR)).get_dag(dag_id)
    return dag.test(logical_date=pendulum.datetime(day.year, day.month, day.day, tz="UTC"))


def parse_offline():
    from airflow.dag_processing.dagbag import DagBag

    from salescast.config import DAGS_DIR

    def no_network(*args, **kwargs):
        raise AssertionError("a DAG file tried to open a network connection at parse time")

    original = socket.socket.connect
    socket.socket.connect = no_network
    try:
        return DagBag(dag_folder=str(DAGS_DIR))
    finally:
        socket.socket.connect = original
