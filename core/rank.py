"""``python -m core.rank``: the entry point of :mod:`core.cli.rank`."""

import sys

from core.cli.rank import main

if __name__ == "__main__":
    sys.exit(main())
