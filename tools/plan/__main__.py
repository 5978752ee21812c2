"""``python -m tools.plan``: see tools/plan/cli.py."""

import sys

from tools.plan.cli import main

sys.exit(main())
