"""``python -m core.evaluate``: the entry point of :mod:`core.cli.evaluate`."""

import sys

from core.cli.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
