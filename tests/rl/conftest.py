"""Lets the rl tests import their shared builders (``rl_fixtures``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
