from salescast.threads import single_threaded_blas

single_threaded_blas()  # before anything imports numpy

import sys  # noqa: E402

from salescast_dev.cli import main  # noqa: E402

sys.exit(main())
