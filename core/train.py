"""``python -m core.train``: the entry point of :mod:`core.cli.train`."""

import sys

from core.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
