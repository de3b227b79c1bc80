"""Product catalogue: bone cements and kyphoplasty balloons with their IFU timing and limits."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

KINDS = ("cement", "balloon")


class CatalogueError(ValueError):
    """A catalogue file that cannot be used; the message names the file, the entry and the key."""


@dataclass(frozen=True)
class CementProduct:
    """A PMMA cement. Times are minutes from the start of mixing (T0) at the reference temperature."""

    kind: ClassVar[str] = "cement"

    id: str
    name: str
    manufacturer: str
    gtin: str
    dough_time_min: float
    working_end_min: float
    set_time_min: float
    reference_temperature_c: float
    source: str = ""


@dataclass(frozen=True)
class BalloonProduct:
    """A kyphoplasty balloon (inflatable bone tamp) and its inflation limits from the IFU."""

    kind: ClassVar[str] = "balloon"

    id: str
    name: str
    size_label: str
    gtin: str
    max_pressure_psi: float
    max_volume_ml: float
    manufacturer: str = ""
    source: str = ""


Product = CementProduct | BalloonProduct


@dataclass(frozen=True)
class Catalogue:
    """The products a site can record, looked up by id (per kind) or by GTIN."""

    cements: tuple[CementProduct, ...] = ()
    balloons: tuple[BalloonProduct, ...] = ()

    def cement(self, product_id: str) -> CementProduct:
        for product in self.cements:
            if product.id == product_id:
                return product
        raise KeyError(product_id)

    def balloon(self, product_id: str) -> BalloonProduct:
        for product in self.balloons:
            if product.id == product_id:
                return product
        raise KeyError(product_id)

    def product(self, kind: str, product_id: str) -> Product:
        """The product of `kind` ('cement' or 'balloon', as a template's `catalogue`) with this id."""
        if kind == "cement":
            return self.cement(product_id)
        if kind == "balloon":
            return self.balloon(product_id)
        raise KeyError(kind)

    def by_gtin(self, gtin: str) -> Product | None:
        """The product with this GTIN (8 to 14 digits, any zero padding), or None if unknown or invalid."""
        try:
            wanted = gtin14(gtin)
        except ValueError:
            return None
        products: list[Product] = [*self.cements, *self.balloons]
        return next((product for product in products if product.gtin == wanted), None)


# key -> rule: "text" non-empty text, "gtin" a checked GTIN, "positive" a finite number above zero,
# "temperature" a room temperature in °C.
_CEMENT_KEYS = {
    "id": "text",
    "name": "text",
    "manufacturer": "text",
    "gtin": "gtin",
    "dough_time_min": "positive",
    "working_end_min": "positive",
    "set_time_min": "positive",
    "reference_temperature_c": "temperature",
}
_BALLOON_KEYS = {
    "id": "text",
    "name": "text",
    "size_label": "text",
    "gtin": "gtin",
    "max_pressure_psi": "positive",
    "max_volume_ml": "positive",
}
_OPTIONAL_KEYS = {"cement": {"source"}, "balloon": {"source", "manufacturer"}}
_REQUIRED = {"cement": _CEMENT_KEYS, "balloon": _BALLOON_KEYS}


def load_catalogue(shipped: Path, site: Path | None = None) -> Catalogue:
    """Read the shipped catalogue, then let the site file (if it exists) replace or add entries by id."""
    cements, balloons = _read_file(Path(shipped))
    if site is not None and Path(site).exists():
        site_cements, site_balloons = _read_file(Path(site))
        cements.update(site_cements)
        balloons.update(site_balloons)
        # A clash that only appears after merging comes from the site file.
        _check_gtins_unique([*cements.values(), *balloons.values()], Path(site))
    return Catalogue(cements=tuple(cements.values()), balloons=tuple(balloons.values()))


def _read_file(path: Path) -> tuple[dict[str, CementProduct], dict[str, BalloonProduct]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path}: not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - set(KINDS))
    if unknown:
        raise CatalogueError(f"{path}: unknown table '{unknown[0]}' (expected [[cement]] or [[balloon]])")
    cements: dict[str, CementProduct] = {}
    balloons: dict[str, BalloonProduct] = {}
    for kind in KINDS:
        entries = data.get(kind, [])
        if not isinstance(entries, list):
            raise CatalogueError(f"{path}: '{kind}' must be a list of [[{kind}]] tables")
        for index, raw in enumerate(entries, start=1):
            product = _parse_entry(kind, raw, path, index)
            if product.id in (cements if kind == "cement" else balloons):
                raise CatalogueError(f"{path}: [[{kind}]] '{product.id}': id defined twice")
            if isinstance(product, CementProduct):
                cements[product.id] = product
            else:
                balloons[product.id] = product
    _check_gtins_unique([*cements.values(), *balloons.values()], path)
    return cements, balloons


def _parse_entry(kind: str, raw: Any, path: Path, index: int) -> Product:
    where = f"{path}: [[{kind}]] #{index}"
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: must be a table")
    entry_id = raw.get("id")
    if isinstance(entry_id, str) and entry_id.strip():
        where = f"{path}: [[{kind}]] '{entry_id.strip()}'"
    required = _REQUIRED[kind]
    unknown = sorted(set(raw) - set(required) - _OPTIONAL_KEYS[kind])
    if unknown:
        raise CatalogueError(f"{where}: unknown key '{unknown[0]}'")
    values: dict[str, Any] = {}
    for key, rule in required.items():
        if key not in raw:
            raise CatalogueError(f"{where}: missing key '{key}'")
        values[key] = _value(raw[key], rule, f"{where}: '{key}'")
    for key in _OPTIONAL_KEYS[kind]:
        if key in raw:
            values[key] = _value(raw[key], "text", f"{where}: '{key}'")
    if kind == "cement":
        if not values["dough_time_min"] < values["working_end_min"] < values["set_time_min"]:
            raise CatalogueError(
                f"{where}: 'dough_time_min' < 'working_end_min' < 'set_time_min' is not true "
                f"({values['dough_time_min']:g}, {values['working_end_min']:g}, {values['set_time_min']:g} min)"
            )
        return CementProduct(**values)
    return BalloonProduct(**values)


def _value(value: Any, rule: str, where: str) -> Any:
    if rule in ("text", "gtin"):
        if not isinstance(value, str) or not value.strip():
            raise CatalogueError(f"{where} must be non-empty text")
        if rule == "gtin":
            try:
                return gtin14(value)
            except ValueError as exc:
                raise CatalogueError(f"{where}: {exc}") from None
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CatalogueError(f"{where} must be a number")
    number = float(value)
    if rule == "positive" and number <= 0:
        raise CatalogueError(f"{where} must be above zero (got {number:g})")
    if rule == "temperature" and not 10 <= number <= 40:
        raise CatalogueError(f"{where} must be between 10 and 40 °C (got {number:g})")
    return number


def gtin14(text: str) -> str:
    """A GTIN-8/12/13/14 checked (digits and GS1 check digit) and zero-padded to 14 digits.

    The same checks and messages as biip's `Gtin.parse` with its default configuration (length,
    digits, check digit), done here because importing biip costs ~90 ms and every catalogue entry
    is checked at start-up. Scans are still read by biip only (domain/barcode.py).
    """
    digits = text.strip() if isinstance(text, str) else ""
    if not (digits.isascii() and digits.isdigit()) or len(digits) not in (8, 12, 13, 14):
        raise ValueError(f"'{text}' is not a GTIN (8, 12, 13 or 14 digits)")
    expected = gs1_check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        # Worded as biip words it ("Invalid GTIN check digit for ...: Expected 1, got 2.").
        raise ValueError(
            f"'{text}' is not a valid GTIN: Invalid GTIN check digit for {digits!r}: "
            f"Expected {expected!r}, got {int(digits[-1])!r}."
        )
    return digits.zfill(14)


def gs1_check_digit(payload: str) -> int:
    """The GS1 mod-10 check digit of `payload` (GS1 General Specifications 7.9.1): weights 3, 1, 3, ...

    from the right, so leading zeros do not change it.
    """
    total = sum(int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(payload)))
    return (10 - total % 10) % 10


def _check_gtins_unique(products: list[Product], path: Path) -> None:
    seen: dict[str, Product] = {}
    for product in products:
        other = seen.get(product.gtin)
        if other is not None:
            raise CatalogueError(
                f"{path}: [[{product.kind}]] '{product.id}': 'gtin' {product.gtin} is already used by "
                f"[[{other.kind}]] '{other.id}'"
            )
        seen[product.gtin] = product
