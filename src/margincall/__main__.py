"""``python -m margincall`` runs the command line."""

import sys

from margincall.cli import main

sys.exit(main())
