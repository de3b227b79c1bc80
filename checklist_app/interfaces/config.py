"""The site's interface configuration (`interfaces.toml` in the data folder): which endpoints, declared once.

No file means no interfaces: the room works alone, nothing is queued, nothing listens. Every key
is checked when the file is read, so a typo stops the program at start with one line naming the
file and the key, never in the middle of a case.

    [room]                      # InterfaceSettings: names agreed with the interface-engine team
    sending_facility = "IR_ROOM_2"
    mrn_authority = "GENERAL"
    mrn_system = "urn:oid:1.2.3.4"
    [adt]                       # the ADT listener (HL7 v2 over MLLP)
    host = "0.0.0.0"
    port = 2575
    [mdm]                       # where the signed note goes (HL7 v2 MDM over MLLP)
    host = "engine.hospital.example"
    port = 2576
    timeout_s = 30
    [fhir]                      # the FHIR R4 server (transaction bundle; Patient search)
    base_url = "https://fhir.hospital.example/r4"
    patient_search = true
    timeout_s = 30
    [patients]
    keep_days = 3               # the patient list forgets a patient not updated for this long
    [outbox]
    first_retry_s = 30          # backoff: 30 s, 60 s, 120 s ... up to max_retry_s
    max_retry_s = 1800
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from .fhir_http import FhirEndpoint
from .profile import InterfaceSettings


class InterfaceConfigError(ValueError):
    """An interfaces.toml that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class MllpEndpoint:
    """Where the MDM messages go."""

    host: str
    port: int
    timeout_s: float = 30.0


@dataclass(frozen=True)
class Backoff:
    """How long a message waits after its n-th failed attempt: first * 2**(n-1), at most `maximum` (s)."""

    first_s: float = 30.0
    maximum_s: float = 1800.0

    def after(self, attempts: int) -> timedelta:
        exponent = max(0, min(attempts - 1, 30))
        return timedelta(seconds=min(self.maximum_s, self.first_s * (2**exponent)))


@dataclass(frozen=True)
class InterfaceConfig:
    """Everything the room needs to talk to the hospital; each part None when not configured."""

    settings: InterfaceSettings = field(default_factory=InterfaceSettings)
    adt_listen: tuple[str, int] | None = None
    mdm: MllpEndpoint | None = None
    fhir: FhirEndpoint | None = None
    patient_search: bool = False
    keep_days: float = 3.0
    backoff: Backoff = field(default_factory=Backoff)

    @property
    def channels(self) -> tuple[str, ...]:
        """The outbox channels a signature fills: "mllp" with an MDM endpoint, "fhir" with a FHIR server."""
        return tuple(name for name, on in (("mllp", self.mdm), ("fhir", self.fhir)) if on is not None)

    @property
    def configured(self) -> bool:
        return bool(self.channels or self.adt_listen or (self.fhir and self.patient_search))


_SECTIONS = ("room", "adt", "mdm", "fhir", "patients", "outbox")


def load_interface_config(path: Path | None) -> InterfaceConfig:
    """The configuration in `path`; no path or no file: nothing configured."""
    if path is None or not Path(path).is_file():
        return InterfaceConfig()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InterfaceConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InterfaceConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_interface_config(data, str(path))


def parse_interface_config(data: dict[str, Any], where: str = "interfaces.toml") -> InterfaceConfig:
    for key, value in data.items():
        if key not in _SECTIONS or not isinstance(value, dict):
            raise InterfaceConfigError(f"{where}: unknown section '{key}' (known: {', '.join(_SECTIONS)})")
    reader = _Reader(data, where)
    config = InterfaceConfig(settings=reader.room())
    adt = data.get("adt")
    if adt is not None:
        config = replace(config, adt_listen=(reader.text("adt", "host", "127.0.0.1"), reader.port("adt")))
    if data.get("mdm") is not None:
        timeout = reader.number("mdm", "timeout_s", 30, 1, 600)
        mdm = MllpEndpoint(reader.text("mdm", "host"), reader.port("mdm"), timeout)
        config = replace(config, mdm=mdm)
    if data.get("fhir") is not None:
        url = reader.text("fhir", "base_url")
        if not url.startswith(("http://", "https://")):
            raise InterfaceConfigError(f"{where}: [fhir] 'base_url' must start with http:// or https://")
        endpoint = FhirEndpoint(url, timeout=reader.number("fhir", "timeout_s", 30, 1, 600))
        config = replace(config, fhir=endpoint, patient_search=reader.flag("fhir", "patient_search", False))
    keep = reader.number("patients", "keep_days", 3, 0.01, 90)
    first = reader.number("outbox", "first_retry_s", 30, 1, 3600)
    maximum = reader.number("outbox", "max_retry_s", 1800, first, 86400)
    reader.no_strays()
    return replace(config, keep_days=keep, backoff=Backoff(first, maximum))


class _Reader:
    """Reads typed keys of the file's sections, remembering which it read, so a typo is reported."""

    def __init__(self, data: dict[str, Any], where: str) -> None:
        self.data, self.where = data, where
        self.read: set[tuple[str, str]] = set()

    def _get(self, section: str, key: str, default: Any) -> Any:
        self.read.add((section, key))
        value = self.data.get(section, {}).get(key, default)
        if value is None:
            raise InterfaceConfigError(f"{self.where}: [{section}] '{key}' is required")
        return value

    def text(self, section: str, key: str, default: str | None = None) -> str:
        value = self._get(section, key, default)
        if not isinstance(value, str) or not value.strip() or any(ord(ch) < 32 for ch in value) or len(value) > 300:
            raise InterfaceConfigError(f"{self.where}: [{section}] '{key}' must be one line of text")
        return value.strip()

    def number(self, section: str, key: str, default: float, low: float, high: float) -> float:
        value = self._get(section, key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise InterfaceConfigError(f"{self.where}: [{section}] '{key}' must be a number from {low:g} to {high:g}")
        return float(value)

    def port(self, section: str) -> int:
        value = self._get(section, "port", None)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
            raise InterfaceConfigError(f"{self.where}: [{section}] 'port' must be a whole number from 0 to 65535")
        return value

    def flag(self, section: str, key: str, default: bool) -> bool:
        value = self._get(section, key, default)
        if not isinstance(value, bool):
            raise InterfaceConfigError(f"{self.where}: [{section}] '{key}' must be true or false")
        return value

    def room(self) -> InterfaceSettings:
        names = [f.name for f in fields(InterfaceSettings)]
        changes = {key: self.text("room", key) for key in self.data.get("room", {}) if key in names}
        if changes.get("addendum_trigger", "T06") not in ("T02", "T06"):
            raise InterfaceConfigError(f'{self.where}: [room] \'addendum_trigger\' must be "T02" or "T06"')
        return replace(InterfaceSettings(), **changes)

    def no_strays(self) -> None:
        for section, table in self.data.items():
            for key in table:
                if (section, key) not in self.read:
                    raise InterfaceConfigError(f"{self.where}: [{section}] unknown key '{key}'")
