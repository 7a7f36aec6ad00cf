"""One BLAS thread per process, set before numpy is first imported.

The forecast models solve thousands of tiny linear systems; a multi-threaded BLAS only adds
synchronisation there (measured 3.5x slower on this 2-core machine: 19.3 s vs 5.1 s for
100 series) and oversubscribes the cores that parallel tasks and ``--jobs`` processes use.
Parallelism comes from processes and Airflow tasks instead. A value the caller set wins.
"""

import os

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def single_threaded_blas(environ: "os._Environ[str] | dict[str, str]" = os.environ) -> None:
    for name in THREAD_VARIABLES:
        environ.setdefault(name, "1")
