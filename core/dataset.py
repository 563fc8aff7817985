"""``python -m core.dataset stats DIR [--json]``: the entry point of :mod:`core.cli.dataset`."""

import sys

from core.cli.dataset import main

if __name__ == "__main__":
    sys.exit(main())
