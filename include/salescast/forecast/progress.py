"""Progress of long forecast runs: series done / total, rate and ETA.

On a terminal a tqdm bar; anywhere else (Airflow task logs, CI, a file) one log line each
time another 10% is done, formatted by tqdm too, so the numbers read the same.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

from tqdm import tqdm

log = logging.getLogger("salescast.forecast")


class Progress:
    """Call :meth:`update` as series finish and :meth:`close` at the end."""

    def __init__(self, total: int, desc: str = "forecast", stream: TextIO | None = None) -> None:
        self.total, self.desc, self.done = total, desc, 0
        self.started = time.monotonic()
        self.next_decile = 1
        stream = stream if stream is not None else sys.stderr
        interactive = hasattr(stream, "isatty") and stream.isatty()
        self.bar = tqdm(total=total, desc=desc, unit="series", file=stream, leave=False) if interactive else None

    def update(self, n: int = 1) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            return
        crossed = False  # one line per update, however many tenths it crossed (jobs: chunks)
        while self.total and self.done * 10 >= self.next_decile * self.total and self.next_decile <= 10:
            self.next_decile += 1
            crossed = True
        if crossed:
            log.info("%s", self.line())

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        return tqdm.format_meter(self.done, self.total, elapsed, prefix=self.desc, unit="series", ascii=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
