"""``python -m landscapes``: the ``landscapes`` command (same as the console script)."""

import sys

from analysis.cli import main

sys.exit(main())
