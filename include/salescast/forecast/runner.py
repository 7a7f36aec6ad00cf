"""Forecast many series: in this process, or in forked worker processes, with progress."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context

import numpy as np

from salescast.forecast.config import ForecastConfig
from salescast.forecast.drivers import SeriesDrivers
from salescast.forecast.outcome import SeriesOutcome
from salescast.forecast.progress import Progress
from salescast.forecast.selection import forecast_series

Chunk = tuple[
    np.ndarray, np.ndarray, list[tuple[str, str]], ForecastConfig, np.ndarray | None, list[SeriesDrivers | None]
]


def _run_chunk(args: Chunk) -> list[SeriesOutcome]:
    values, first, keys, cfg, events, drivers = args
    return [forecast_series(values[i], int(first[i]), keys[i], cfg, events, drivers[i]) for i in range(len(keys))]


def forecast_rows(
    values: np.ndarray,
    first: np.ndarray,
    keys: list[tuple[str, str]],
    rows: list[int],
    cfg: ForecastConfig,
    events: np.ndarray | None,
    jobs: int,
    desc: str,
    drivers: list[SeriesDrivers] | None = None,
) -> list[SeriesOutcome]:
    """``forecast_series`` for the panel ``rows``, sorted by (store, item); ``drivers``, when
    given, has one entry per row of ``rows``."""
    by_row: dict[int, SeriesDrivers] = dict(zip(rows, drivers, strict=True)) if drivers is not None else {}
    jobs = max(1, min(jobs, len(rows) or 1))
    # small chunks keep both workers busy to the end and the progress fine-grained
    n_chunks = min(len(rows), jobs * 40) if jobs > 1 else 1
    chunks = [rows[j::n_chunks] for j in range(n_chunks)] if jobs > 1 else [rows]
    tasks = [(values[c], first[c], [keys[i] for i in c], cfg, events, [by_row.get(i) for i in c]) for c in chunks if c]
    progress = Progress(len(rows), desc=desc)
    try:
        outcomes = _run_chunks(tasks, jobs, progress)
    finally:
        progress.close()
    outcomes.sort(key=lambda o: (o.store_id, o.item_id))
    return outcomes


def _run_chunks(tasks: list[Chunk], jobs: int, progress: Progress) -> list[SeriesOutcome]:
    """Run chunks in this process or in ``jobs`` forked workers, reporting each chunk done."""
    outcomes: list[SeriesOutcome] = []
    if jobs <= 1:
        for values, first, keys, cfg, events, drivers in tasks:
            for i in range(len(keys)):
                outcomes.append(forecast_series(values[i], int(first[i]), keys[i], cfg, events, drivers[i]))
                progress.update()
        return outcomes
    # Workers are forked: they share the parent's imports and its single-threaded BLAS
    # (see salescast.threads), so `jobs` processes use `jobs` cores, not jobs x cores.
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
        for part in as_completed([pool.submit(_run_chunk, task) for task in tasks]):
            done = part.result()
            outcomes.extend(done)
            progress.update(len(done))
    return outcomes
