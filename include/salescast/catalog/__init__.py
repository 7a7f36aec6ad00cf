"""Catalog: the SQL tables and views over the lake, on DuckDB (embedded) or Glue and Athena (AWS)."""
