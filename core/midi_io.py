"""``python -m core.midi_io check FILE...``: the entry point of :mod:`core.cli.midi`."""

import sys

from core.cli.midi import main

if __name__ == "__main__":
    sys.exit(main())
