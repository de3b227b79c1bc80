"""Site settings: declared once with defaults, overridden by a site file, refused precisely when wrong."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from checklist_app.domain.settings import Settings, SettingsError, load_settings, options

SPEC_DEFAULTS = {
    "facility_name": "Procedure room",
    "late_entry_minutes": 5,
    "skin_prep_dry_minutes": 3,
    "cement_volume_warn_ml": 7,
    "antibiotic_max_minutes": 60,
    "inr_max": 1.5,
    "platelets_min": 50,
    "dose_kar_mgy": 5000,
    "dose_kap_gycm2": 500,
    "dose_fluoro_min": 60,
    "working_warning_minutes": 1,
    "antibiotic_dose_min_percent": 90,
    "cement_temperature_tolerance_c": 2,  # SPEC §3: warn beyond ±2 °C of the reference without an IFU table
    "dose_dlp_mgycm": 0,
    "wristband_pattern": r"\s*(?P<mrn>[^\s]{1,64})\s*",  # SPEC §5/§13: the whole code is the MRN unless set
    "signature_pin": "if set",  # SPEC §6 (issue 12): "always" makes a PIN mandatory for every signature
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_clinical_defaults_of_the_spec() -> None:
    settings = load_settings(None)
    assert {name: settings.get(name) for name in SPEC_DEFAULTS} == SPEC_DEFAULTS
    assert settings == Settings()


def test_every_setting_is_declared_once_with_its_default_and_description() -> None:
    declared = options()
    assert [o.name for o in declared] == [f.name for f in dataclasses.fields(Settings)]
    assert {o.name for o in declared} == set(SPEC_DEFAULTS)
    for option in declared:
        assert option.description, option.name
        assert getattr(Settings(), option.name) == option.default
        if not isinstance(option.default, str):
            assert option.unit and option.minimum is not None and option.maximum is not None
            assert option.minimum <= option.default <= option.maximum


def test_missing_site_file_gives_the_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "absent.toml") == Settings()


def test_site_file_overrides_only_the_settings_it_names(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[settings]\nfacility_name = "Hôpital Saint-Éloi, salle 3"\ninr_max = 1.8\nlate_entry_minutes = 10\n'
    )
    settings = load_settings(path)
    assert settings.facility_name == "Hôpital Saint-Éloi, salle 3"
    assert settings.get("inr_max") == 1.8
    assert settings.late_entry_minutes == 10.0 and isinstance(settings.late_entry_minutes, float)
    assert settings.cement_volume_warn_ml == 7


def test_empty_site_file_gives_the_defaults(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, "# nothing set yet\n")) == Settings()


def test_settings_cannot_be_changed_in_place() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().inr_max = 3  # type: ignore[misc]


def test_asking_for_an_unknown_setting_names_it() -> None:
    with pytest.raises(KeyError, match="inr_limit"):
        Settings().get("inr_limit")


BROKEN = {
    "unknown key": ("[settings]\ninr_limit = 2\n", "inr_limit"),
    "text for a number": ('[settings]\ninr_max = "1.5"\n', "inr_max"),
    "yes/no for a number": ("[settings]\nplatelets_min = true\n", "platelets_min"),
    "number for a name": ("[settings]\nfacility_name = 3\n", "facility_name"),
    "empty name": ('[settings]\nfacility_name = "  "\n', "facility_name"),
    "negative minutes": ("[settings]\nlate_entry_minutes = -1\n", "late_entry_minutes"),
    "cement warning above the maximum": ("[settings]\ncement_volume_warn_ml = 20\n", "cement_volume_warn_ml"),
    "infinite dose": ("[settings]\ndose_kar_mgy = inf\n", "dose_kar_mgy"),
    "setting outside the table": ("inr_max = 2\n", "inr_max"),
    "settings not a table": ("settings = 3\n", "settings"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_bad_site_file_is_refused_naming_file_and_key(tmp_path: Path, case: str) -> None:
    text, key = BROKEN[case]
    path = write(tmp_path, text)
    with pytest.raises(SettingsError) as refused:
        load_settings(path)
    assert str(path) in str(refused.value)
    assert f"'{key}'" in str(refused.value)


def test_site_file_that_is_not_toml_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[settings\n")
    with pytest.raises(SettingsError, match="not valid TOML") as refused:
        load_settings(path)
    assert str(path) in str(refused.value)
