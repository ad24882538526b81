"""``python -m v1sim`` runs the command-line interface."""

import sys

from .cli import main

sys.exit(main())
