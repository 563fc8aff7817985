"""``python -m core.compare``: the entry point of :mod:`core.cli.compare`."""

import sys

from core.cli.compare import main

if __name__ == "__main__":
    sys.exit(main())
