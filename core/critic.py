"""``python -m core.critic``: the entry point of :mod:`core.cli.critic`."""

import sys

from core.cli.critic import main

if __name__ == "__main__":
    sys.exit(main())
