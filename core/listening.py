"""``python -m core.listening``: the entry point of :mod:`core.cli.listening`."""

import sys

from core.cli.listening import main

if __name__ == "__main__":
    sys.exit(main())
