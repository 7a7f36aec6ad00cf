"""The salescast dashboard: forecast pages and DAG-run tabs served inside Airflow's UI.

``plugins/salescast_plugin.py`` mounts :mod:`salescast.dashboard.app` under ``/salescast``.
Everything is read from the lake (``file://`` or ``s3://``) through :class:`salescast.lake.Lake`,
never from ``warehouse.duckdb`` (DuckDB allows one writer, and the catalog DAG is it), with
caches keyed on the published partitions' ``_SUCCESS`` markers so no page shows stale data.
See ``docs/dashboard.md``.
"""
