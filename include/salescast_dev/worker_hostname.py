"""A task instance's ``hostname`` for several Celery workers on one machine.

Airflow records the host a task ran on from ``[core] hostname_callable``; workers on one
machine would all report the same name. The Celery test (tests/system/test_celery_executor.py)
runs two workers here, each with ``SALESCAST_WORKER_HOSTNAME`` set, and points the callable at
:func:`worker_hostname`, so the task instances show which worker ran them, as separate
machines would.
"""

from __future__ import annotations

import os
import socket


def worker_hostname() -> str:
    """``SALESCAST_WORKER_HOSTNAME`` if set, else the machine's FQDN (Airflow's default)."""
    return os.environ.get("SALESCAST_WORKER_HOSTNAME") or socket.getfqdn()
