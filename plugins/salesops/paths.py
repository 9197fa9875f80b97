"""Project paths, computed from this file's location and overridable by environment.

Nothing here touches the file system at import time.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
INCLUDE_DIR = PROJECT_ROOT / "include"
SQL_DIR = INCLUDE_DIR / "sql"
# The base policy. SALESOPS_CONFIG_DIR names an overlay laid over it (salesops.policy.loader), never
# a replacement: a process started with the overlay set must still read every other file from here.
CONFIG_DIR = INCLUDE_DIR / "config"
TEMPLATES_DIR = INCLUDE_DIR / "templates"


def data_dir() -> Path:
    """Where the demo CRM, the landing area and the default warehouse file live."""
    return Path(os.getenv("SALESOPS_DATA_DIR", PROJECT_ROOT / "data"))


def output_dir() -> Path:
    """Where packs, Data Docs and other artifacts are written."""
    return Path(os.getenv("SALESOPS_OUTPUT_DIR", PROJECT_ROOT / "out"))


def landing_dir() -> Path:
    """Extracted batches land here as Parquet before they are loaded."""
    return data_dir() / "landing"
