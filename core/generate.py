"""``python -m core.generate``: the entry point of :mod:`core.cli.generate`."""

import sys

from core.cli.generate import main

if __name__ == "__main__":
    sys.exit(main())
