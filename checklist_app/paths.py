"""The one place that decides where data and shipped resources live."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "checklist-app"
DB_ENV = "CHECKLIST_APP_DB"
DATA_ENV = "CHECKLIST_APP_DATA"
DB_FILENAME = "checklist.sqlite3"


def resources_dir() -> Path:
    """Templates, catalogue, fonts and sounds: the source tree's resources/ or the installed copy."""
    here = Path(__file__).resolve().parent
    # Installed first (pip puts resources/ inside the package), then the source tree's top level.
    for candidate in (here / "resources", here.parent / "resources"):
        if (candidate / "templates").is_dir():
            return candidate
    # Anything else (a zip import...): ask the import system. Rare, so it is not imported at start-up.
    from importlib import resources  # noqa: PLC0415

    return Path(str(resources.files("checklist_app.resources")))


def templates_dir() -> Path:
    return resources_dir() / "templates"


def data_dir() -> Path:
    """Per-user data directory (site settings, product overrides, the default database)."""
    override = os.environ.get(DATA_ENV)
    if override:
        return Path(override)
    import platformdirs  # noqa: PLC0415 - only for the default location (not with --db or the variables)

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    override = os.environ.get(DB_ENV)
    return Path(override) if override else data_dir() / DB_FILENAME


def site_settings_path() -> Path:
    return data_dir() / "site.toml"


def site_products_path() -> Path:
    return data_dir() / "products.toml"


def site_interfaces_path() -> Path:
    """The hospital interfaces' configuration (checklist_app/interfaces/config.py); none: no interfaces."""
    return data_dir() / "interfaces.toml"


def patient_list_path(db_path: Path) -> Path:
    """The hospital's patient list (owner-only, purged after some days), beside the database it serves."""
    return Path(db_path).with_name(Path(db_path).stem + "-patients.sqlite3")
