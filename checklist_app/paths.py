"""The one place that decides where data and shipped resources live."""

from __future__ import annotations

import os
from importlib import resources as _resources
from pathlib import Path

import platformdirs

APP_NAME = "checklist-app"
DB_ENV = "CHECKLIST_APP_DB"
DATA_ENV = "CHECKLIST_APP_DATA"
DB_FILENAME = "checklist.sqlite3"


def resources_dir() -> Path:
    """Templates, catalogue, fonts and sounds: the source tree's resources/ or the installed copy."""
    source = Path(__file__).resolve().parent.parent / "resources"
    if (source / "templates").is_dir():
        return source
    return Path(str(_resources.files("checklist_app.resources")))


def templates_dir() -> Path:
    return resources_dir() / "templates"


def data_dir() -> Path:
    """Per-user data directory (site settings, product overrides, the default database)."""
    override = os.environ.get(DATA_ENV)
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    override = os.environ.get(DB_ENV)
    return Path(override) if override else data_dir() / DB_FILENAME


def site_settings_path() -> Path:
    return data_dir() / "site.toml"


def site_products_path() -> Path:
    return data_dir() / "products.toml"
