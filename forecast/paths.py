"""Where the shipped data live.

The data directory is ``data/`` at the project root (beside ``forecast/``); the environment
variable ``FORECAST_DATA_DIR`` overrides it.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The directory holding the shipped tidy CSVs and ``SOURCES.md``."""
    override = os.environ.get("FORECAST_DATA_DIR")
    return Path(override) if override else PROJECT_ROOT / "data"
