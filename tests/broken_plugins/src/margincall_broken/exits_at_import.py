"""A plugin that ends the process as soon as it is imported."""

import sys

sys.exit(3)
