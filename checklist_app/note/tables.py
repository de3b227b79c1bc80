"""The note's tables of things: treated levels with totals, implants (with UDI) and specimens."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from ..domain.catalogue import BalloonProduct
from ..domain.present import inflation_balloon, product_name
from ..domain.state import CaseState, Entry
from ..domain.values import find_product
from .model import Block, Table, Text
from .words import (
    DASH,
    choice,
    clock,
    done,
    join_words,
    leak_codes,
    leak_words,
    lower_first,
    ml,
    qty,
    side_word,
    sides_phrase,
)


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
            leaked = inject is not None and bool(leak_codes(inject.values))
            broken = _get(removal, "intact") is False
            leaks, torn = leaks + leaked, torn + broken
            if leaked or broken:
                flagged.append(len(rows))
            leak = _leak_cell(state, inject, removal)
            outcome = state.facts.level_outcomes.get(planned.level)
            if outcome is not None:  # the change of plan, where it shows: in the row of the level
                converted = state.facts.performed(planned.level) == "vertebroplasty"
                changed = "Converted to vertebroplasty" if converted else "Level abandoned"
                leak = changed if leak == DASH else f"{leak}; {lower_first(changed)}"
                if len(rows) not in flagged:
                    flagged.append(len(rows))
            rows.append(_level_row(state, planned.level, side, cannula, inflate, inject, leak, kypho))
    summary = [f"{leaks} leak{'s' if leaks != 1 else ''}"] if leaks else ["No leak"]
    summary += [f"{torn} balloon{'s' if torn != 1 else ''} not intact"] if torn else []
    treated = len({i.level for i in state.facts.injections})
    return _levels(rows, flagged, kypho, cement_total, balloon_total, "; ".join(summary), cannulas, treated)


def _levels(rows, flagged, kypho, cement_total, balloon_total, leak_total, cannulas, treated=None) -> Table:
    count = len({r[0] for r in rows}) if treated is None else treated
    header: tuple[str, ...]
    widths: tuple[float, ...]
    totals: tuple[str, ...]
    first = (
        "Total",
        "",
        f"{count} level{'s' if count != 1 else ''}, {cannulas} cannula{'s' if cannulas != 1 else ''}",
    )
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
        widths = (30, 30, 120, 34, 40, 44, 42, 42, 128)  # points of the 510-point A4 line: no header word breaks
        totals = (*first, "", "", "", ml(balloon_total), ml(cement_total), leak_total)
    else:
        header = ("Level", "Side", "Approach", "Gauge", "Cement batch", "Cement volume", "Stop reason", "Leak")
        widths = (30, 30, 120, 34, 100, 42, 68, 86)
        totals = (*first, "", "", ml(cement_total), "", leak_total)
    return Table(header, tuple(rows), widths, totals, tuple(flagged))


def _level_row(state, level, side, cannula, inflate, inject, leak, kypho) -> tuple[str, ...]:
    approach = choice(state, "cannula_placement", "approach", _get(cannula, "approach"))
    gauge = qty(_get(cannula, "gauge"), "G")
    cement = ml(_get(inject, "volume"))
    if kypho:
        return (
            level,
            side_word(side).capitalize(),
            approach,
            gauge,
            _balloon_size(state, inflation_balloon(state, inflate.values)[0] if inflate else None),
            qty(_get(inflate, "pressure"), "psi"),
            ml(_get(inflate, "volume")),
            cement,
            leak,
        )
    stop = choice(state, "cement_injection", "stop_reason", _get(inject, "stop_reason"))
    return (level, side_word(side).capitalize(), approach, gauge, _batch_cell(state, inject), cement, stop, leak)


def _leak_cell(state: CaseState, inject: Entry | None, removal: Entry | None) -> str:
    parts = []
    if inject is not None:
        # The table's narrow column names the leak without its parenthesis ("Venous", not "Venous
        # (basivertebral / segmental)"); the narrative and the complications give it whole.
        where = re.sub(r" \([^)]*\)", "", leak_words(state, inject.values))
        if not where:
            parts.append("No leak")
        else:
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


# -- implants and devices ---------------------------------------------------------------------
DEVICES_HEADING = "Devices used (not implanted)"


def implants_blocks(state: CaseState) -> tuple[Block, ...]:
    """Cement batches (the implants) and, under their own heading, the balloon kits: each balloon was
    removed, so it is a device used, not an implant, listed with product, lot and UDI for traceability."""
    facts = state.facts
    # One row per cement lot (what traceability needs); each mix of it is a line of its use.
    lots: dict[tuple[str, str, str, str], list[Entry]] = {}
    for b in facts.batches:
        key = (b.product_id, b.lot, str(b.expiry or ""), str(b.gtin or ""))
        lots.setdefault(key, []).append(b.entry)
    cement = [_cement_row(state, entries) for entries in lots.values()]
    kits = [_kit_row(state, k.entry) for k in facts.kits]
    if not cement and not kits:
        nothing = "No cement batch has been recorded yet."
        if state.setup is not None and state.setup.procedure == "kyphoplasty":
            nothing = "No cement batch or balloon kit has been recorded yet."
        return (Text(nothing, tone="muted"),)
    rows: list[tuple[str, ...]] = cement or [("No cement batch recorded", "", "", "", "", "")]
    groups: tuple[int, ...] = ()
    if kits:
        groups = (len(rows),)
        rows += [(DEVICES_HEADING, "", "", "", "", ""), *kits]
    header = ("Item", "Product", "Lot", "Expiry", "UDI (GS1)", "Use")
    return (Table(header, tuple(rows), (0.85, 2.45, 0.8, 0.85, 1.75, 2.0), groups=groups),)


def _cement_row(state: CaseState, batches: list[Entry]) -> tuple[str, ...]:
    """One cement lot: product, lot, expiry, UDI, and each mix of it ('Mixed 08:07, room 21 °C: T11 left
    2.8 mL, right 2.6 mL')."""
    first = batches[0]
    values = first.values
    product = find_product(state, "cement", str(values.get("product", "")))
    name = product_name(state, "cement", str(values.get("product", "")))
    maker = f"\n{product.manufacturer}" if product is not None else ""
    uses = []
    for batch in batches:
        used = _cement_use(state, batch.seq)
        room = batch.values.get("room_temperature")
        temp = f", room {qty(room, '°C')}" if room is not None else ""
        uses.append(f"Mixed {clock(batch.clinical_time)}{temp}" + (f"\n{used}" if used else "\nNot injected"))
    gtin = str(values.get("gtin") or (product.gtin if product else ""))
    lot = str(values.get("lot", DASH))
    return ("Bone cement", name + maker, lot, _expiry(values, first), _udi(gtin, values), "\n".join(uses))


def _cement_use(state: CaseState, seq: int) -> str:
    """'T9 left 1.7 mL, right 1.5 mL' per level, then the batch's total when it served several levels."""
    by_level: dict[str, list[str]] = {}
    total = 0.0
    for inst in state.instances_of("cement_injection"):
        entry = inst.entry
        if entry is not None and entry.status == "done" and entry.values.get("batch") == seq:
            total += _float(entry, "volume")
            by_level.setdefault(inst.level or "", []).append(f"{side_word(inst.side)} {ml(entry.values.get('volume'))}")
    if not by_level:
        return ""
    lines = [f"{level} {', '.join(doses)}" for level, doses in by_level.items()]
    return "\n".join([*lines, f"Total {ml(total)}"] if len(lines) > 1 else lines)


def _kit_row(state: CaseState, kit: Entry) -> tuple[str, ...]:
    values = kit.values
    product = find_product(state, "balloon", str(values.get("product", "")))
    name = product_name(state, "balloon", str(values.get("product", "")))
    maker = f"\n{product.manufacturer}" if isinstance(product, BalloonProduct) and product.manufacturer else ""
    used: dict[str, list[str]] = {}
    for inst in state.instances_of("balloon_inflation"):
        if inst.entry is not None and inst.entry.status == "done" and _inflated_with(state, inst.entry, kit):
            used.setdefault(inst.level or "", []).append(inst.side or "")
    where = places(used)
    use = f"Opened {clock(kit.clinical_time)}" + (f"\nInflated at {where}" if where else "\nNot inflated")
    gtin = str(values.get("gtin") or (product.gtin if product else ""))
    return ("Balloon kit", name + maker, str(values.get("lot", DASH)), _expiry(values, kit), _udi(gtin, values), use)


def places(sides_by_level: dict[str, list[str]]) -> str:
    """'T12 left', 'T9, T10 and T11 (left and right)', 'T9 (left and right) and T10 left'."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for level, level_sides in sides_by_level.items():
        groups.setdefault(tuple(level_sides), []).append(level)
    parts: list[str] = []
    for sides, levels in groups.items():
        if len(sides) == 1:
            parts += [f"{level} {side_word(sides[0])}" for level in levels]
        else:
            parts.append(f"{join_words(levels)} ({sides_phrase(sides)})")
    return "; ".join(parts) if any(" and " in p for p in parts) and len(parts) > 1 else join_words(parts)


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
    """The human-readable GS1 UDI: (01) GTIN, then (17) expiry YYMMDD (10) lot, then (21) serial, a line each."""
    if not gtin:
        return DASH
    lines = [f"(01){gtin}", ""]
    if values.get("expiry"):
        lines[1] += f"(17){date.fromisoformat(str(values['expiry'])):%y%m%d}"
    if values.get("lot"):
        lines[1] += f"(10){values['lot']}"
    if values.get("serial"):
        lines.append(f"(21){values['serial']}")
    return "\n".join(line for line in lines if line)


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
    blocks: list[Block] = [Table(header, tuple(rows), (1.4, 0.7, 2.2, 0.9, 0.9, 0.7), caption="Specimens")]
    sign_out = done(state, "sign_out")
    if sign_out is not None and sign_out.values.get("specimens") == "no_specimen":
        blocks.append(Text("The WHO sign-out recorded no specimen although a biopsy was taken: check.", tone="alert"))
    return tuple(blocks)


def specimen_summary(state: CaseState) -> str:
    """The specimens in one line for the operative report: 'Bone biopsy, T11 (left), 10% formalin ...'."""
    assert state.setup is not None
    found = []
    for level in state.setup.level_names:
        entry = done(state, "biopsy", level)
        if entry is None or not entry.values.get("taken"):
            continue
        values = entry.values
        side = f" ({side_word(values.get('side'))})" if values.get("side") else ""
        container = lower_first(choice(state, "biopsy", "container", values.get("container")))
        sent = "sent to the laboratory" if values.get("sent") else "NOT sent to the laboratory"
        found.append(f"Bone biopsy, {level}{side}, in {container}, {sent}")
    if found:
        return "\n".join(found)
    answered_levels = [lv for lv in state.setup.level_names if done(state, "biopsy", lv)]
    return "No specimen taken" if answered_levels else "No biopsy recorded yet"


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


__all__ = [
    "DEVICES_HEADING",
    "biopsy_levels",
    "implants_blocks",
    "levels_table",
    "places",
    "specimen_blocks",
    "specimen_summary",
    "treated_levels",
]
