"""``python -m driftgym``: the same as the ``driftgym`` command."""

import sys

from driftgym.scenarios.cli import main

sys.exit(main())
