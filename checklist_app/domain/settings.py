"""Site settings: each declared once here with its default, unit and meaning; a site TOML file overrides them."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

MAX_FACILITY_NAME = 200


class SettingsError(ValueError):
    """A site settings file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Option:
    """What one setting is: its name, default, unit, allowed range and a description for people."""

    name: str
    default: str | float
    description: str
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()  # text settings: the values allowed (empty: any one line)


def _option(
    default: str | float,
    description: str,
    unit: str = "",
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] = (),
) -> Any:
    """A dataclass field carrying its own description: the single declaration of a setting."""
    info = {"description": description, "unit": unit, "minimum": minimum, "maximum": maximum, "choices": choices}
    return field(default=default, metadata=info)


@dataclass(frozen=True)
class Settings:
    """The site's settings; every field's default and meaning are declared right here."""

    facility_name: str = _option("Procedure room", "Facility name printed on every page of the operative note")
    late_entry_minutes: float = _option(
        5.0, "An entry this long after its clinical time is a late entry and needs a reason", "min", 0, 1440
    )
    skin_prep_dry_minutes: float = _option(
        3.0, "Dry time after an alcohol-based skin prep, before draping", "min", 0, 30
    )
    cement_volume_warn_ml: float = _option(7.0, "Warn when one cement injection is above this volume", "mL", 0.5, 12)
    antibiotic_max_minutes: float = _option(
        60.0,
        "Warn when the antibiotic was given longer than this before the first incision (drugs the catalogue "
        "gives no window for)",
        "min",
        1,
        240,
    )
    antibiotic_dose_min_percent: float = _option(
        90.0, "Warn when the antibiotic dose is below this share of the recommended dose for the weight", "%", 50, 100
    )
    cement_temperature_tolerance_c: float = _option(
        2.0,
        "Warn when the room differs this much from a cement's reference temperature and it has no IFU table",
        "°C",
        0.5,
        10,
    )
    inr_max: float = _option(1.5, "Warn when the INR is above this value", "ratio", 0.5, 10)
    platelets_min: float = _option(50.0, "Warn when platelets are below this count", "×10⁹/L", 0, 2000)
    dose_kar_mgy: float = _option(
        5000.0, "Substantial radiation dose: reference air kerma (Ka,r) above this flags the note", "mGy", 1, 100000
    )
    dose_kap_gycm2: float = _option(
        500.0, "Substantial radiation dose: kerma-area product above this flags the note", "Gy·cm²", 1, 100000
    )
    dose_fluoro_min: float = _option(
        60.0, "Substantial radiation dose: fluoroscopy time above this flags the note", "min", 1, 1000
    )
    dose_dlp_mgycm: float = _option(
        0.0,
        "CT-guided cases: a dose-length product at or above this flags the note (0: not checked; no published "
        "substantial-dose level exists for CT, set your site's)",
        "mGy·cm",
        0,
        100000,
    )
    working_warning_minutes: float = _option(
        1.0, "Warn this long before the end of the cement working time", "min", 0, 10
    )
    wristband_pattern: str = _option(
        r"\s*(?P<mrn>[^\s]{1,64})\s*",
        "How the patient's wristband barcode carries the MRN: a regular expression over the whole scan with a "
        "group named 'mrn' (e.g. 'MRN(?P<mrn>[0-9]{8})' for a prefix); the default takes the whole code",
    )
    signature_pin: str = _option(
        "if set",
        "When a signature needs the signer's PIN: 'if set' (staff who have a PIN) or 'always' (everyone must have one)",
        choices=("if set", "always"),
    )

    def get(self, name: str) -> str | float:
        """The value of the setting called `name` (as written in templates: ``setting:NAME``)."""
        if name not in _NAMES:
            raise KeyError(f"unknown setting '{name}'")
        value: str | float = getattr(self, name)
        return value


def options() -> tuple[Option, ...]:
    """Every setting with its default and description, in declaration order (for docs and screens)."""
    return tuple(
        Option(
            name=f.name,
            default=f.default,  # type: ignore[arg-type]
            description=f.metadata["description"],
            unit=f.metadata["unit"],
            minimum=f.metadata["minimum"],
            maximum=f.metadata["maximum"],
            choices=f.metadata["choices"],
        )
        for f in fields(Settings)
    )


_NAMES = frozenset(f.name for f in fields(Settings))


def load_settings(path: Path | None) -> Settings:
    """Defaults overridden by the ``[settings]`` table of a site file; no path or no file gives the defaults."""
    if path is None or not Path(path).exists():
        return Settings()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
    stray = sorted(set(data) - {"settings"})
    if stray:
        raise SettingsError(f"{path}: unknown key '{stray[0]}' (settings go in a [settings] table)")
    table = data.get("settings", {})
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: 'settings' must be a [settings] table")
    known = {option.name: option for option in options()}
    changes: dict[str, str | float] = {}
    for key, value in table.items():
        option = known.get(key)
        if option is None:
            raise SettingsError(f"{path}: [settings] unknown key '{key}'")
        changes[key] = _checked(option, value, f"{path}: [settings] '{key}'")
    return replace(Settings(), **changes)  # type: ignore[arg-type]


def _checked(option: Option, value: Any, where: str) -> str | float:
    if isinstance(option.default, str):
        if not isinstance(value, str) or not value.strip():
            raise SettingsError(f"{where} must be non-empty text")
        text = value.strip()
        if option.choices and text not in option.choices:
            raise SettingsError(f"{where} must be one of: {', '.join(repr(c) for c in option.choices)}")
        if len(text) > MAX_FACILITY_NAME or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
            raise SettingsError(f"{where} must be one line of at most {MAX_FACILITY_NAME} characters")
        return text
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SettingsError(f"{where} must be a number ({option.unit})")
    number = float(value)
    low, high = option.minimum, option.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        raise SettingsError(f"{where} must be between {low:g} and {high:g} {option.unit} (got {number:g})")
    return number
