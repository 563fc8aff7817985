"""``python -m core.jobs``: the entry point of :mod:`core.cli.jobs`."""

import sys

from core.cli.jobs import main

if __name__ == "__main__":
    sys.exit(main())
