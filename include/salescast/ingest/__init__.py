"""Ingest: wait for a day's landing files, archive them raw, map and validate the rows, quarantine
the bad ones with their reason and publish the curated partition."""
