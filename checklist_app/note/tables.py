"""The note's tables of things: treated levels with totals, implants (with UDI) and specimens."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..domain.catalogue import BalloonProduct
from ..domain.present import inflation_balloon, product_name
from ..domain.state import CaseState, Entry
from ..domain.values import find_product
from .model import Block, Table, Text
from .words import DASH, choice, clock, done, join_words, ml, qty, side_word


def levels_table(state: CaseState) -> Table:
    """One row per level and side: access, balloon and cement; a totals row underneath."""
    assert state.setup is not None
    kypho = state.setup.procedure == "kyphoplasty"
    rows: list[tuple[str, ...]] = []
    flagged: list[int] = []
    cement_total, balloon_total, cannulas = 0.0, 0.0, 0
    leaks, torn = 0, 0
    for planned in state.setup.levels:
        for side in planned.sides:
            cannula = done(state, "cannula_placement", planned.level, side)
            inject = done(state, "cement_injection", planned.level, side)
            inflate = done(state, "balloon_inflation", planned.level, side) if kypho else None
            removal = done(state, "balloon_removal", planned.level, side) if kypho else None
            cannulas += cannula is not None
            cement_total += _float(inject, "volume")
            balloon_total += _float(inflate, "volume")
            leaked = _get(inject, "leak") not in (None, "none")
            broken = _get(removal, "intact") is False
            leaks, torn = leaks + leaked, torn + broken
            if leaked or broken:
                flagged.append(len(rows))
            leak = _leak_cell(state, inject, removal)
            rows.append(_level_row(state, planned.level, side, cannula, inflate, inject, leak, kypho))
    summary = [f"{leaks} leak{'s' if leaks != 1 else ''}"] if leaks else ["No leak"]
    summary += [f"{torn} balloon{'s' if torn != 1 else ''} not intact"] if torn else []
    return _levels(rows, flagged, kypho, cement_total, balloon_total, "; ".join(summary), cannulas)


def _levels(rows, flagged, kypho, cement_total, balloon_total, leak_total, cannulas) -> Table:
    count = len({r[0] for r in rows})
    header: tuple[str, ...]
    widths: tuple[float, ...]
    totals: tuple[str, ...]
    first = ("Total", "", f"{count} level{'s' if count != 1 else ''}, {cannulas} cannula{'s' if cannulas != 1 else ''}")
    if kypho:
        header = (
            "Level",
            "Side",
            "Approach",
            "Gauge",
            "Balloon",
            "Pressure",
            "Balloon volume",
            "Cement volume",
            "Leak",
        )
        widths = (0.7, 0.7, 1.6, 0.7, 0.9, 0.9, 0.9, 0.9, 1.7)
        totals = (*first, "", "", "", ml(balloon_total), ml(cement_total), leak_total)
    else:
        header = ("Level", "Side", "Approach", "Gauge", "Cement batch", "Cement volume", "Stop reason", "Leak")
        widths = (0.7, 0.7, 1.5, 0.7, 1.8, 0.8, 1.5, 1.5)
        totals = (*first, "", "", ml(cement_total), "", leak_total)
    return Table(header, tuple(rows), widths, totals, tuple(flagged))


def _level_row(state, level, side, cannula, inflate, inject, leak, kypho) -> tuple[str, ...]:
    approach = choice(state, "cannula_placement", "approach", _get(cannula, "approach"))
    gauge = qty(_get(cannula, "gauge"), "G", 0)
    cement = ml(_get(inject, "volume"))
    if kypho:
        return (
            level,
            side_word(side).capitalize(),
            approach,
            gauge,
            _balloon_size(state, inflation_balloon(state, inflate.values)[0] if inflate else None),
            qty(_get(inflate, "pressure"), "psi", 0),
            ml(_get(inflate, "volume")),
            cement,
            leak,
        )
    stop = choice(state, "cement_injection", "stop_reason", _get(inject, "stop_reason"))
    return (level, side_word(side).capitalize(), approach, gauge, _batch_cell(state, inject), cement, stop, leak)


def _leak_cell(state: CaseState, inject: Entry | None, removal: Entry | None) -> str:
    parts = []
    if inject is not None:
        leak = str(inject.values.get("leak", "none"))
        if leak == "none":
            parts.append("No leak")
        else:
            where = choice(state, "cement_injection", "leak", leak)
            parts.append(f"{where}, {'symptomatic' if inject.values.get('symptomatic') else 'asymptomatic'}")
    if removal is not None and removal.values.get("intact") is False:
        parts.append("Balloon not intact on removal")
    return "; ".join(parts) or DASH


def _balloon_size(state: CaseState, product_id: Any) -> str:
    if product_id is None:
        return DASH
    product = find_product(state, "balloon", str(product_id))
    return product.size_label if isinstance(product, BalloonProduct) else str(product_id)


def _batch_cell(state: CaseState, inject: Entry | None) -> str:
    batch = state.entry_for(int(inject.values.get("batch", 0))) if inject else None
    if batch is None:
        return DASH
    return f"{product_name(state, 'cement', str(batch.values.get('product', '')))}, lot {batch.values.get('lot', DASH)}"


def _get(entry: Entry | None, key: str) -> Any:
    return None if entry is None else entry.values.get(key)


def _float(entry: Entry | None, key: str) -> float:
    value = _get(entry, key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


# -- implants -------------------------------------------------------------------------------
def implants_blocks(state: CaseState) -> tuple[Block, ...]:
    """Cement batches and balloon kits with product, lot, expiry, GTIN and the GS1 UDI."""
    facts = state.facts
    rows = [_cement_row(state, b.entry) for b in facts.batches] + [_kit_row(state, k.entry) for k in facts.kits]
    if not rows:
        return (Text("No cement batch or balloon kit has been recorded yet.", tone="muted"),)
    header = ("Item", "Product", "Lot", "Expiry", "GTIN / UDI", "Use")
    return (Table(header, tuple(rows), (0.9, 1.8, 0.9, 0.9, 2.0, 2.0)),)


def _cement_row(state: CaseState, batch: Entry) -> tuple[str, ...]:
    values = batch.values
    product = find_product(state, "cement", str(values.get("product", "")))
    name = product_name(state, "cement", str(values.get("product", "")))
    maker = f"\n{product.manufacturer}" if product is not None else ""
    used = _cement_use(state, batch.seq)
    temp = f", room {qty(values['room_temperature'], '°C')}" if values.get("room_temperature") is not None else ""
    use = f"Mixed {clock(batch.clinical_time)}{temp}" + (f"\n{used}" if used else "")
    gtin = str(values.get("gtin") or (product.gtin if product else ""))
    return ("Bone cement", name + maker, str(values.get("lot", DASH)), _expiry(values, batch), _udi(gtin, values), use)


def _cement_use(state: CaseState, seq: int) -> str:
    used, total = [], 0.0
    for inst in state.instances_of("cement_injection"):
        entry = inst.entry
        if entry is not None and entry.status == "done" and entry.values.get("batch") == seq:
            total += _float(entry, "volume")
            used.append(f"{inst.level} {side_word(inst.side)} {ml(entry.values.get('volume'))}")
    return "\n".join([*used, f"Total {ml(total)}"]) if used else ""


def _kit_row(state: CaseState, kit: Entry) -> tuple[str, ...]:
    values = kit.values
    product = find_product(state, "balloon", str(values.get("product", "")))
    name = product_name(state, "balloon", str(values.get("product", "")))
    maker = f"\n{product.manufacturer}" if isinstance(product, BalloonProduct) and product.manufacturer else ""
    used = [
        f"{inst.level} {side_word(inst.side)}"
        for inst in state.instances_of("balloon_inflation")
        if inst.entry is not None and _inflated_with(state, inst.entry, kit)
    ]
    use = f"Opened {clock(kit.clinical_time)}" + (f"\nInflated at {join_words(used)}" if used else "")
    gtin = str(values.get("gtin") or (product.gtin if product else ""))
    serial = f"\nSerial {values['serial']}" if values.get("serial") else ""
    row = ("Balloon kit", name + maker, str(values.get("lot", DASH)), _expiry(values, kit), _udi(gtin, values), use)
    return row[:4] + (row[4] + serial, row[5])


def _inflated_with(state: CaseState, inflation: Entry, kit: Entry) -> bool:
    product, lot, seq = inflation_balloon(state, inflation.values)
    if seq is not None:
        return seq == kit.seq
    return product == kit.values.get("product") and str(kit.values.get("lot", "")) in lot


def _expiry(values: dict[str, Any], entry: Entry) -> str:
    expiry = str(values.get("expiry") or "")
    if not expiry:
        return DASH
    expired = date.fromisoformat(expiry) < entry.clinical_time.astimezone().date()
    return f"{expiry}\nEXPIRED when used" if expired else expiry


def _udi(gtin: str, values: dict[str, Any]) -> str:
    """GTIN and the human-readable GS1 UDI: (01) GTIN (17) expiry YYMMDD (10) lot (21) serial."""
    if not gtin:
        return DASH
    udi = f"(01){gtin}"
    if values.get("expiry"):
        udi += f"(17){date.fromisoformat(str(values['expiry'])):%y%m%d}"
    if values.get("lot"):
        udi += f"(10){values['lot']}"
    if values.get("serial"):
        udi += f"(21){values['serial']}"
    return f"GTIN {gtin}\nUDI {udi}"


# -- specimens ------------------------------------------------------------------------------
def specimen_blocks(state: CaseState) -> tuple[Block, ...]:
    """Biopsies taken, with container, read-back and dispatch; or a line saying none was taken."""
    assert state.setup is not None
    rows = []
    for level in state.setup.level_names:
        entry = done(state, "biopsy", level)
        if entry is None or not entry.values.get("taken"):
            continue
        values = entry.values
        rows.append(
            (
                f"Bone biopsy, {level}",
                side_word(values.get("side")).capitalize() or DASH,
                choice(state, "biopsy", "container", values.get("container")),
                "Yes" if values.get("label_read_back") else "No",
                "Yes" if values.get("sent") else "No",
                clock(entry.clinical_time),
            )
        )
    if not rows:
        answered_levels = [lv for lv in state.setup.level_names if done(state, "biopsy", lv)]
        text = "No specimen was taken." if answered_levels else "No biopsy has been recorded yet."
        return (Text(text),)
    header = ("Specimen", "Side", "Container / fixative", "Label read back", "Sent to laboratory", "Time")
    blocks: list[Block] = [Table(header, tuple(rows), (1.4, 0.7, 2.2, 0.9, 0.9, 0.7))]
    sign_out = done(state, "sign_out")
    if sign_out is not None and sign_out.values.get("specimens") == "no_specimen":
        blocks.append(Text("The WHO sign-out recorded no specimen although a biopsy was taken: check.", tone="alert"))
    return tuple(blocks)


def biopsy_levels(state: CaseState) -> list[str]:
    """Levels where a biopsy was taken."""
    assert state.setup is not None
    return [lv for lv in state.setup.level_names if (e := done(state, "biopsy", lv)) and e.values.get("taken")]


def treated_levels(state: CaseState) -> list[str]:
    """Levels with at least one recorded cement injection."""
    assert state.setup is not None
    return [
        lv for lv in state.setup.level_names if any(done(state, "cement_injection", lv, s) for s in ("left", "right"))
    ]


__all__ = ["biopsy_levels", "implants_blocks", "levels_table", "specimen_blocks", "treated_levels"]
