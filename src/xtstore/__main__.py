"""``python -m xtstore``: the same as the ``xtstore`` command."""

from __future__ import annotations

import sys

from xtstore.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
