"""The site's configuration, loaded once: settings, product catalogue and procedure templates.

The composition roots (app.py, cli.py, the self-test) load it and hand it to the service, so a
broken site file stops the program at start with one line naming the file and the key, never in
the middle of a case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import paths
from .domain.alarms import AlarmPolicy, load_alarm_policy
from .domain.catalogue import Catalogue, load_catalogue
from .domain.coding import CodingTables, load_coding_tables
from .domain.settings import Settings, load_settings
from .domain.template import Template, load_template


@dataclass(frozen=True)
class SiteConfig:
    """What a site has set: its settings, its products and the procedures it can record."""

    settings: Settings = field(default_factory=Settings)
    catalogue: Catalogue = field(default_factory=Catalogue)
    templates: Mapping[str, Template] = field(default_factory=dict)
    alarm_policy: AlarmPolicy = field(default_factory=lambda: load_alarm_policy(shipped_alarm_policy()))
    coding: CodingTables = field(default_factory=lambda: load_coding_tables(shipped_coding_tables()))


def shipped_alarm_policy() -> Path:
    return paths.resources_dir() / "alarms.toml"


def shipped_coding_tables() -> Path:
    return paths.resources_dir() / "codes.toml"


def load_templates(directory: Path | None = None) -> dict[str, Template]:
    """Every shipped procedure template, keyed by procedure."""
    folder = directory or paths.templates_dir()
    loaded = [load_template(p) for p in sorted(folder.glob("*.toml"))]
    return {t.procedure: t for t in loaded}


def load_site_config() -> SiteConfig:
    """The shipped resources overridden by the site files in the data folder (if there are any)."""
    site_products = paths.site_products_path()
    site_settings = paths.site_settings_path()
    return SiteConfig(
        settings=load_settings(site_settings if site_settings.is_file() else None),
        catalogue=load_catalogue(
            paths.resources_dir() / "products.toml", site_products if site_products.is_file() else None
        ),
        templates=load_templates(),
        alarm_policy=load_alarm_policy(shipped_alarm_policy()),
        coding=load_coding_tables(shipped_coding_tables()),
    )
