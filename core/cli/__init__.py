"""The command-line tools: one module per tool, each a thin layer of argparse over the library.

``python -m core.<tool>`` runs them (the thin entry modules at the top of :mod:`core`); ``--help`` on each.
"""
