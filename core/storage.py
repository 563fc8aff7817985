"""``python -m core.storage``: the entry point of :mod:`core.cli.storage`."""

import sys

from core.cli.storage import main

if __name__ == "__main__":
    sys.exit(main())
