"""``python -m aetherops.testing.grafana_double``."""

import sys

from .cli import main

sys.exit(main())
