import sys

from salescast.cli import main

sys.exit(main())
