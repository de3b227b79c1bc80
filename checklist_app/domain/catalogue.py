"""Product catalogue: bone cements and kyphoplasty balloons with their IFU timing and limits, the
local anaesthetics and prophylactic antibiotics with their maxima and timing windows, and the usual
ranges a value is checked against (the cannula gauge per procedure)."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

KINDS = ("cement", "balloon")
DRUG_KINDS = ("anaesthetic", "antibiotic")
OTHER = "other"  # the entry every drug list has: a drug the catalogue does not list, named by the nurse


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
    temperature_table: tuple[TemperatureRow, ...] = ()

    def times_at(self, temperature_c: float | None) -> tuple[float, float, float]:
        """(dough, working end, set) minutes from T0 at a room temperature, from the IFU table.

        Linear between the table's rows; beyond its ends the nearest row (the IFU gives no more).
        Without a table, or without a temperature, the reference times.
        """
        rows = self.temperature_table
        if not rows or temperature_c is None:
            return self.dough_time_min, self.working_end_min, self.set_time_min
        if temperature_c <= rows[0].temperature_c:
            return rows[0].times
        if temperature_c >= rows[-1].temperature_c:
            return rows[-1].times
        for low, high in zip(rows, rows[1:], strict=False):
            if low.temperature_c <= temperature_c <= high.temperature_c:
                f = (temperature_c - low.temperature_c) / (high.temperature_c - low.temperature_c)
                return (
                    low.dough_time_min + f * (high.dough_time_min - low.dough_time_min),
                    low.working_end_min + f * (high.working_end_min - low.working_end_min),
                    low.set_time_min + f * (high.set_time_min - low.set_time_min),
                )
        raise AssertionError("rows are sorted by temperature")  # pragma: no cover


@dataclass(frozen=True)
class TemperatureRow:
    """One row of a cement's IFU table: its times (minutes from T0) at a room temperature."""

    temperature_c: float
    dough_time_min: float
    working_end_min: float
    set_time_min: float

    @property
    def times(self) -> tuple[float, float, float]:
        return self.dough_time_min, self.working_end_min, self.set_time_min


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
class Anaesthetic:
    """A local anaesthetic: mg = strength (%) × 10 × volume (mL); its maximum per kg and in total."""

    id: str
    name: str
    max_mg_per_kg: float | None = None
    max_mg: float | None = None
    source: str = ""


@dataclass(frozen=True)
class DoseRule:
    """A recommended prophylactic dose from a body weight on: a fixed dose or mg per kg."""

    from_weight_kg: float
    dose_mg: float | None = None
    mg_per_kg: float | None = None

    def dose_for(self, weight_kg: float) -> float:
        return self.dose_mg if self.dose_mg is not None else (self.mg_per_kg or 0) * weight_kg


@dataclass(frozen=True)
class Antibiotic:
    """A prophylactic antibiotic: how long before the incision it may be given, and its dose by weight."""

    id: str
    name: str
    window_min: float | None = None
    doses: tuple[DoseRule, ...] = ()
    source: str = ""

    def recommended_mg(self, weight_kg: float | None) -> float | None:
        """The recommended dose for this weight (None: no rule, or the weight is not known)."""
        if weight_kg is None or not self.doses:
            return None
        rules = [r for r in self.doses if weight_kg >= r.from_weight_kg]
        return rules[-1].dose_for(weight_kg) if rules else None


Drug = Anaesthetic | Antibiotic


@dataclass(frozen=True)
class Catalogue:
    """The products a site can record, looked up by id (per kind) or by GTIN."""

    cements: tuple[CementProduct, ...] = ()
    balloons: tuple[BalloonProduct, ...] = ()
    anaesthetics: tuple[Anaesthetic, ...] = ()
    antibiotics: tuple[Antibiotic, ...] = ()
    typical: Mapping[str, Mapping[str, tuple[float, float]]] = field(default_factory=dict)  # name -> procedure -> range

    def drug(self, kind: str, drug_id: str) -> Drug:
        for drug in self.anaesthetics if kind == "anaesthetic" else self.antibiotics if kind == "antibiotic" else ():
            if drug.id == drug_id:
                return drug
        raise KeyError(drug_id)

    def entries(self, kind: str) -> tuple[Product | Drug, ...]:
        """Everything a product field of this catalogue (cement, balloon, anaesthetic, antibiotic) offers."""
        found: dict[str, tuple[Product | Drug, ...]] = {
            "cement": self.cements,
            "balloon": self.balloons,
            "anaesthetic": self.anaesthetics,
            "antibiotic": self.antibiotics,
        }
        return found.get(kind, ())

    def typical_range(self, name: str, procedure: str) -> tuple[float, float] | None:
        """The usual range of a value for a procedure (cannula gauge), or None when the catalogue gives none."""
        return self.typical.get(name, {}).get(procedure)

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

    def product(self, kind: str, product_id: str) -> Product | Drug:
        """The entry of `kind` (a template's `catalogue`: cement, balloon, anaesthetic, antibiotic) with this id."""
        if kind == "cement":
            return self.cement(product_id)
        if kind == "balloon":
            return self.balloon(product_id)
        return self.drug(kind, product_id)

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
_OPTIONAL_KEYS = {"cement": {"source", "temperature_table"}, "balloon": {"source", "manufacturer"}}
_REQUIRED = {"cement": _CEMENT_KEYS, "balloon": _BALLOON_KEYS}


def load_catalogue(shipped: Path, site: Path | None = None) -> Catalogue:
    """Read the shipped catalogue, then let the site file (if it exists) replace or add entries by id
    (and its [typical] ranges replace the shipped ones, range by range)."""
    cements, balloons, drugs, typical = _read_file(Path(shipped))
    if site is not None and Path(site).exists():
        site_cements, site_balloons, site_drugs, site_typical = _read_file(Path(site))
        cements.update(site_cements)
        balloons.update(site_balloons)
        for kind in DRUG_KINDS:
            drugs[kind].update(site_drugs[kind])
        for name, ranges in site_typical.items():
            typical.setdefault(name, {}).update(ranges)
        # A clash that only appears after merging comes from the site file.
        _check_gtins_unique([*cements.values(), *balloons.values()], Path(site))
    for kind in DRUG_KINDS:
        drugs[kind].setdefault(OTHER, _other(kind))
    return Catalogue(
        cements=tuple(cements.values()),
        balloons=tuple(balloons.values()),
        anaesthetics=tuple(d for d in drugs["anaesthetic"].values() if isinstance(d, Anaesthetic)),
        antibiotics=tuple(d for d in drugs["antibiotic"].values() if isinstance(d, Antibiotic)),
        typical=typical,
    )


def _other(kind: str) -> Drug:
    if kind == "anaesthetic":
        return Anaesthetic(OTHER, "Other local anaesthetic (named)")
    return Antibiotic(OTHER, "Other antibiotic (named)")


def _read_file(
    path: Path,
) -> tuple[
    dict[str, CementProduct],
    dict[str, BalloonProduct],
    dict[str, dict[str, Drug]],
    dict[str, dict[str, tuple[float, float]]],
]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path}: not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - set(KINDS) - set(DRUG_KINDS) - {"typical"})
    if unknown:
        raise CatalogueError(
            f"{path}: unknown table '{unknown[0]}' (expected [[cement]], [[balloon]], [[anaesthetic]], "
            "[[antibiotic]] or [typical])"
        )
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
    drugs: dict[str, dict[str, Drug]] = {kind: {} for kind in DRUG_KINDS}
    for kind in DRUG_KINDS:
        entries = data.get(kind, [])
        if not isinstance(entries, list):
            raise CatalogueError(f"{path}: '{kind}' must be a list of [[{kind}]] tables")
        for index, raw in enumerate(entries, start=1):
            drug = _parse_drug(kind, raw, path, index)
            if drug.id in drugs[kind]:
                raise CatalogueError(f"{path}: [[{kind}]] '{drug.id}': id defined twice")
            drugs[kind][drug.id] = drug
    return cements, balloons, drugs, _parse_typical(data.get("typical", {}), path)


def _parse_drug(kind: str, raw: Any, path: Path, index: int) -> Drug:
    where = f"{path}: [[{kind}]] #{index}"
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: must be a table")
    if isinstance(raw.get("id"), str) and raw["id"].strip():
        where = f"{path}: [[{kind}]] '{raw['id'].strip()}'"
    allowed = {
        "id",
        "name",
        "source",
        *(("max_mg_per_kg", "max_mg") if kind == "anaesthetic" else ("window_min", "doses")),
    }
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise CatalogueError(f"{where}: unknown key '{unknown[0]}'")
    for key in ("id", "name"):
        if key not in raw:
            raise CatalogueError(f"{where}: missing key '{key}'")
    ident, name = _value(raw["id"], "text", f"{where}: 'id'"), _value(raw["name"], "text", f"{where}: 'name'")
    source = _value(raw["source"], "text", f"{where}: 'source'") if "source" in raw else ""

    def optional(key: str) -> float | None:
        return _value(raw[key], "positive", f"{where}: '{key}'") if key in raw else None

    if kind == "anaesthetic":
        return Anaesthetic(ident, name, optional("max_mg_per_kg"), optional("max_mg"), source)
    doses = raw.get("doses", [])
    if not isinstance(doses, list):
        raise CatalogueError(f"{where}: 'doses' must be a list of {{ from_weight_kg, dose_mg or mg_per_kg }}")
    rules = tuple(_dose_rule(d, f"{where}: 'doses' #{n}") for n, d in enumerate(doses, start=1))
    if [r.from_weight_kg for r in rules] != sorted({r.from_weight_kg for r in rules}):
        raise CatalogueError(f"{where}: 'doses' must go up by from_weight_kg, each weight once")
    return Antibiotic(ident, name, optional("window_min"), rules, source)


def _dose_rule(raw: Any, where: str) -> DoseRule:
    if not isinstance(raw, dict) or set(raw) - {"from_weight_kg", "dose_mg", "mg_per_kg"}:
        raise CatalogueError(f"{where}: must be {{ from_weight_kg, dose_mg or mg_per_kg }}")
    if ("dose_mg" in raw) == ("mg_per_kg" in raw):
        raise CatalogueError(f"{where}: give dose_mg or mg_per_kg, one of them")
    weight = _value(raw.get("from_weight_kg", 0), "number", f"{where}: 'from_weight_kg'")
    if weight < 0:
        raise CatalogueError(f"{where}: 'from_weight_kg' must be 0 or more")
    dose = _value(raw["dose_mg"], "positive", f"{where}: 'dose_mg'") if "dose_mg" in raw else None
    per_kg = _value(raw["mg_per_kg"], "positive", f"{where}: 'mg_per_kg'") if "mg_per_kg" in raw else None
    return DoseRule(weight, dose, per_kg)


def _parse_typical(raw: Any, path: Path) -> dict[str, dict[str, tuple[float, float]]]:
    """[typical.NAME] PROCEDURE = [low, high]: the usual range of a value for a procedure."""
    if not isinstance(raw, dict):
        raise CatalogueError(f"{path}: [typical] must be a table of ranges")
    found: dict[str, dict[str, tuple[float, float]]] = {}
    for name, ranges in raw.items():
        if not isinstance(ranges, dict):
            raise CatalogueError(f"{path}: [typical.{name}] must give a [low, high] range per procedure")
        for procedure, pair in ranges.items():
            where = f"{path}: [typical.{name}] '{procedure}'"
            if not isinstance(pair, list) or len(pair) != 2:
                raise CatalogueError(f"{where} must be [low, high]")
            low, high = (_value(v, "number", where) for v in pair)
            if low > high:
                raise CatalogueError(f"{where}: low {low:g} is above high {high:g}")
            found.setdefault(name, {})[procedure] = (low, high)
    return found


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
        if key in raw and key != "temperature_table":
            values[key] = _value(raw[key], "text", f"{where}: '{key}'")
    if "temperature_table" in raw:
        values["temperature_table"] = _temperature_table(raw["temperature_table"], where)
    if kind == "cement":
        if not values["dough_time_min"] < values["working_end_min"] < values["set_time_min"]:
            raise CatalogueError(
                f"{where}: 'dough_time_min' < 'working_end_min' < 'set_time_min' is not true "
                f"({values['dough_time_min']:g}, {values['working_end_min']:g}, {values['set_time_min']:g} min)"
            )
        return CementProduct(**values)
    return BalloonProduct(**values)


def _temperature_table(raw: Any, where: str) -> tuple[TemperatureRow, ...]:
    """The IFU's times by room temperature: at least two rows, temperatures going up, times in order."""
    keys = {"temperature_c", "dough_time_min", "working_end_min", "set_time_min"}
    if not isinstance(raw, list) or len(raw) < 2:
        raise CatalogueError(f"{where}: 'temperature_table' must list at least two rows")
    rows = []
    for n, row in enumerate(raw, start=1):
        at = f"{where}: 'temperature_table' row {n}"
        if not isinstance(row, dict) or set(row) != keys:
            raise CatalogueError(f"{at} must give exactly {', '.join(sorted(keys))}")
        temperature = _value(row["temperature_c"], "temperature", f"{at}: 'temperature_c'")
        times = [
            _value(row[k], "positive", f"{at}: '{k}'") for k in ("dough_time_min", "working_end_min", "set_time_min")
        ]
        if not times[0] < times[1] < times[2]:
            raise CatalogueError(
                f"{at}: dough < working end < set is not true ({', '.join(f'{t:g}' for t in times)} min)"
            )
        rows.append(TemperatureRow(temperature, *times))
    if [r.temperature_c for r in rows] != sorted({r.temperature_c for r in rows}):
        raise CatalogueError(f"{where}: 'temperature_table' temperatures must go up, each once")
    return tuple(rows)


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
