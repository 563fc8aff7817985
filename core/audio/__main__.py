"""``python -m core.audio render IN.mid OUT.wav``: the entry point of :mod:`core.cli.audio`."""

import sys

from core.cli.audio import main

if __name__ == "__main__":
    sys.exit(main())
