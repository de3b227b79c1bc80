"""The technique narrative: clinical prose written from the recorded steps (values in force after corrections)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from ..domain.gates import gate_overridden
from ..domain.present import inflation_balloon, product_name
from ..domain.state import NOT_APPLICABLE, CaseState, Entry
from . import clinical
from .model import Text
from .words import (
    access,
    article,
    choice,
    clock,
    done,
    join_words,
    leak_words,
    lower_first,
    ml,
    number,
    qty,
    sentence,
    side_word,
    sides_phrase,
)

IMAGING = {
    "single_c_arm": "fluoroscopy with a single C-arm",
    "biplane": "biplane fluoroscopy",
    "ct_guided": "CT guidance",
}
STOPS = {
    "posterior_quarter": "stopped on reaching the posterior quarter of the body",
    "leak": "stopped because of a leak",
    "adequate_fill": "stopped at adequate fill",
    "resistance": "stopped for high resistance",
}
CLOSURE = {
    "none": "no skin closure was needed",
    "adhesive_strips": "the incisions were closed with adhesive skin strips",
    "suture": "the incisions were closed with sutures",
}
DRESSING = {
    "adhesive": "a sterile adhesive dressing was applied",
    "transparent_film": "a transparent film dressing was applied",
    "gauze_tape": "gauze and tape were applied",
    "none": "no dressing was applied",
}


def technique(state: CaseState) -> tuple[Text, ...]:
    """The narrative: preparation, one paragraph per level, then closure."""
    assert state.setup is not None
    paragraphs = [Text(_preparation(state), label="Preparation.")]
    named: set[tuple[str, ...]] = set()  # balloon kits and cement batches already named in full
    for planned in state.setup.levels:
        text = _level(state, planned.level, planned.sides, named)
        performed = state.facts.performed(planned.level)
        how = "abandoned" if performed == "abandoned" else access(state, planned.level, planned.sides)
        if performed == "vertebroplasty" and state.setup.procedure != "vertebroplasty":
            how += ", converted to vertebroplasty"
        label = f"{planned.level} ({how})."
        paragraphs.append(Text(text or "No step of this level has been recorded yet.", label=label))
    paragraphs.append(Text(_closing(state) or "Closure has not been recorded yet.", label="Completion."))
    return tuple(paragraphs)


def _preparation(state: CaseState) -> str:
    # Arrival, anaesthesia and antibiotic stand in the report's fields above the narrative (one
    # value, one place): the narrative starts with the patient on the table.
    parts = [
        _position(state),
        _imaging(state),
        _localisation(state),
        _skin(state),
        _time_out(state),
    ]
    return " ".join(sentence(p) for p in parts if p)


def _position(state: CaseState) -> str:
    entry = done(state, "prone_positioning")
    if entry is None:
        return ""
    values = entry.values
    arms = lower_first(choice(state, "prone_positioning", "arms", values.get("arms")))
    text = f"the patient was positioned prone, {arms}" if values.get("prone") else "prone position NOT confirmed"
    cares = [
        "pressure points were padded" if values.get("pressure_points") else "pressure points were NOT padded",
        "the eyes and face protected" if values.get("eyes_face") else "the eyes and face were NOT protected",
    ]
    return f"{text}; {join_words(cares)}"


def _imaging(state: CaseState) -> str:
    entry = done(state, "imaging_setup")
    if entry is None:
        return ""
    value = str(entry.values.get("modality", ""))
    guidance = IMAGING.get(value) or lower_first(choice(state, "imaging_setup", "modality", value))
    return f"the procedure was performed under {guidance}"


def _localisation(state: CaseState) -> str:
    assert state.setup is not None
    both: list[tuple[str, list[str]]] = []
    partial: list[tuple[str, list[str]]] = []
    for level in state.setup.level_names:
        entry = done(state, "level_localization", level)
        if entry is None:
            continue
        views = [v for v, key in (("AP", "ap_confirmed"), ("lateral", "lateral_confirmed")) if entry.values.get(key)]
        (both if len(views) == 2 else partial).append((level, views))
    parts = []
    if both:
        verb = "was" if len(both) == 1 else "were"
        parts.append(f"{join_words(lv for lv, _ in both)} {verb} localised on AP and lateral views")
    for level, views in partial:
        parts.append(f"{level} was localised on the {views[0]} view only" if views else f"{level} was NOT localised")
    return "; ".join(parts)


def _skin(state: CaseState) -> str:
    entry = done(state, "skin_prep")
    if entry is None:
        return ""
    agent = lower_first(choice(state, "skin_prep", "agent", entry.values.get("agent")))
    return f"the skin was prepared with {agent} and draped"


def _time_out(state: CaseState) -> str:
    entry = done(state, "time_out")
    text = f"the WHO time-out was completed at {clock(entry.clinical_time)}" if entry else ""
    early = clinical.overrides(state, only=("time_out",))
    if early:
        text += ("; " if text else "") + "hard stop overridden: " + " ".join(lower_first(t) for t in early)
    return text


# -- one level ------------------------------------------------------------------------------
def _level(state: CaseState, level: str, sides: tuple[str, ...], named: set[tuple[str, ...]]) -> str:
    parts: list[Callable[[CaseState, str, tuple[str, ...]], str]] = [
        _anaesthetic_and_incision,
        _cannulas,
        _biopsy,
        partial(_balloons, named=named),
        _balloon_removal,
        partial(_cement, named=named),
        _hardening_and_removal,
        _not_applicable,
        _outcome,
    ]
    return " ".join(sentence(text) for part in parts if (text := part(state, level, sides)))


def _anaesthetic_and_incision(state: CaseState, level: str, sides: tuple[str, ...]) -> str:
    local, incision = done(state, "local_anesthetic", level), done(state, "incision", level)
    text = ""
    if local is not None:
        values = local.values
        strength = qty(values.get("concentration"), "%")
        drug = next((d.drug_name for d in state.facts.local_anaesthetics if d.level == level), "local anaesthetic")
        text = f"{qty(values.get('volume'), 'mL')} of {lower_first(drug)} {strength} was infiltrated"
    if incision is not None:
        cut = f"a stab incision was made at {clock(incision.clinical_time)}"
        text = f"{text} and {cut}" if text else cut
    return text


def _cannulas(state: CaseState, level: str, sides: tuple[str, ...]) -> str:
    entries = {s: e for s in sides if (e := done(state, "cannula_placement", level, s))}
    if not entries:
        return ""
    phrases = {s: _cannula_phrase(state, e.values) for s, e in entries.items()}
    if len(set(phrases.values())) == 1:
        gauge, approach = next(iter(phrases.values()))
        if len(entries) > 1:
            text = f"{gauge} cannulas were placed on the {sides_phrase(entries)} by {approach}"
        else:
            text = f"{article(gauge)} {gauge} cannula was placed on the {sides_phrase(entries)} by {approach}"
    else:
        each = [f"on the {side_word(s)}, {article(g)} {g} cannula by {a}" for s, (g, a) in phrases.items()]
        return f"cannulas were placed under live fluoroscopy: {'; '.join(each)}; {_tips(entries)}"
    return f"{text} under live fluoroscopy, {_tips(entries)}"


def _cannula_phrase(state: CaseState, values: dict[str, Any]) -> tuple[str, str]:
    approach = lower_first(choice(state, "cannula_placement", "approach", values.get("approach")))
    return f"{number(values.get('gauge'), 0)} G", f"{article(approach)} {approach} approach"


def _tips(entries: dict[str, Entry]) -> str:
    missing = []
    for side, entry in entries.items():
        views = [v for v, key in (("AP", "tip_ap"), ("lateral", "tip_lateral")) if not entry.values.get(key)]
        if views:
            missing.append(f"NOT confirmed on the {join_words(views)} view on the {side_word(side)}")
    confirmed = "tips confirmed on AP and lateral views"
    return confirmed if not missing else f"tip position {'; '.join(missing)}"


def _biopsy(state: CaseState, level: str, sides: tuple[str, ...]) -> str:
    entry = done(state, "biopsy", level)
    if entry is None:
        return ""
    values = entry.values
    if not values.get("taken"):
        return ""  # the specimens line and the nursing record say no biopsy was taken
    container = lower_first(choice(state, "biopsy", "container", values.get("container")))
    text = f"a bone biopsy was taken from the {side_word(values.get('side'))} side into {container}"
    # Read back and sent: the Specimens line says so; the narrative speaks only of what went wrong.
    text += "" if values.get("label_read_back") else "; the label was NOT read back"
    return text + ("" if values.get("sent") else "; the specimen was NOT sent")


def _balloons(state: CaseState, level: str, sides: tuple[str, ...], *, named: set[tuple[str, ...]]) -> str:
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for side in sides:
        entry = done(state, "balloon_inflation", level, side)
        if entry is None:
            continue
        values = entry.values
        product, lot, _kit = inflation_balloon(state, values)
        name = product_name(state, "balloon", product)
        end = lower_first(choice(state, "balloon_inflation", "end_point", values.get("end_point")))
        where = f"to {qty(values.get('pressure'), 'psi')} and {ml(values.get('volume'))} on the {side_word(side)}"
        groups.setdefault((name, lot), []).append((where, end))
    removals = [e for s in sides if (e := done(state, "balloon_removal", level, s))]
    intact = bool(removals) and all(e.values.get("intact") is not False for e in removals)
    clauses = []
    for (name, lot), inflations in groups.items():
        subject = "the balloon" if len(inflations) == 1 else "the balloons"
        verb = "was" if len(inflations) == 1 else "were"
        kit = f" ({name}, lot {lot})" if ("balloon", name, lot) not in named else ""
        named.add(("balloon", name, lot))
        if len({end for _, end in inflations}) == 1:
            inflated = f"{join_words(w for w, _ in inflations)} (end point: {inflations[0][1]})"
        else:
            inflated = join_words(f"{w} (end point: {end})" for w, end in inflations)
        clauses.append(f"{subject}{kit} {verb} inflated {inflated}" + (" and removed intact" if intact else ""))
    return "; ".join(clauses)


def _balloon_removal(state: CaseState, level: str, sides: tuple[str, ...]) -> str:
    entries = {s: e for s in sides if (e := done(state, "balloon_removal", level, s))}
    broken = [s for s, e in entries.items() if e.values.get("intact") is False]
    if not broken:
        return ""  # "removed intact" closes the inflation sentence
    return f"the {sides_phrase(broken)} balloon was NOT intact on removal (complication)"


def _cement(state: CaseState, level: str, sides: tuple[str, ...], *, named: set[tuple[str, ...]]) -> str:
    groups: dict[int, list[tuple[str, str]]] = {}
    for side in sides:
        entry = done(state, "cement_injection", level, side)
        if entry is None:
            continue
        values = entry.values
        stop = STOPS.get(str(values.get("stop_reason")), "")
        leak = _leak(state, values)
        if values.get("stop_reason") == "leak" and leak != "no leak":
            detail = f"stopped for {article(leak)} {leak}"  # "stopped for an intradiscal leak, asymptomatic"
        else:
            detail = ", ".join(p for p in (stop, leak) if p)
        batch = values.get("batch")
        groups.setdefault(batch if isinstance(batch, int) else 0, []).append(
            (f"{ml(values.get('volume'))} on the {side_word(side)}", detail)
        )
    clauses = []
    for seq, doses in groups.items():
        entry = state.entry_for(seq)
        values = entry.values if entry else {}
        lot = values.get("lot", "—")
        product = product_name(state, "cement", str(values.get("product", "")))
        if ("cement", str(seq)) in named:
            cement = f"cement from the same batch (lot {lot})"
        elif ("cement lot", product, str(lot)) in named:
            cement = "a new mix of the same cement"
        else:
            cement = f"{product} (lot {lot})"
        named |= {("cement", str(seq)), ("cement lot", product, str(lot))}
        if len(doses) > 1 and len({detail for _, detail in doses}) == 1:
            injected = f"{join_words(dose for dose, _ in doses)} (each {doses[0][1]})"
        else:
            injected = join_words(f"{dose} ({detail})" for dose, detail in doses)
        clauses.append(f"{cement} was injected under lateral fluoroscopy: {injected}")
    return "; ".join(clauses)


def _leak(state: CaseState, values: dict[str, Any]) -> str:
    where = lower_first(leak_words(state, values))
    if not where:
        return "no leak"
    return f"{where} leak, {'SYMPTOMATIC' if values.get('symptomatic') else 'asymptomatic'}"


def _hardening_and_removal(state: CaseState, level: str, sides: tuple[str, ...]) -> str:
    wait, removal = done(state, "hardening_wait", level), done(state, "cannula_removal", level)
    parts = []
    if wait is not None:
        hard = wait.values.get("sample_hard")
        parts.append(
            f"the cement sample on the table was hard at {clock(wait.clinical_time)}"
            if hard
            else "the cement sample was NOT confirmed hard"
        )
    override = gate_overridden(state, "hardening", "cannula_removal", level, None)
    early = (
        f", before the end of the hardening countdown (hard stop overridden: {override.reason})"
        if override is not None
        else ""
    )
    if removal is not None:
        stasis = "with haemostasis" if removal.values.get("haemostasis") else "(haemostasis NOT confirmed)"
        parts.append(f"the cannulas were removed at {clock(removal.clinical_time)} {stasis}{early}")
    elif early:
        parts.append("the hardening hard stop was overridden" + early[early.index(" (") :])
    return "; ".join(parts)


def _not_applicable(state: CaseState, level: str, sides: tuple[str, ...]) -> str:
    found = []
    for inst in state.instances:
        entry = inst.entry
        if inst.level == level and entry is not None and entry.status == NOT_APPLICABLE:
            where = f" ({side_word(inst.side)})" if inst.side else ""
            found.append(f"{lower_first(inst.spec.title)}{where} was not applicable ({entry.event.reason})")
    return "; ".join(found)


def _outcome(state: CaseState, level: str, sides: tuple[str, ...]) -> str:
    """The change of plan at a level, and the hard stops overridden there (other than the time-out)."""
    parts = []
    outcome = state.facts.level_outcomes.get(level)
    if outcome is not None:
        what = (
            "the level was converted to vertebroplasty"
            if outcome.outcome == "converted_to_vertebroplasty"
            else "the procedure was abandoned at this level"
        )
        parts.append(what + (f" ({outcome.reason})" if outcome.reason else ""))
    for event in state.overrides:
        gate = str(event.values.get("gate", ""))
        if event.level == level and gate not in ("time_out", "hardening"):
            parts.append(f"hard stop overridden: {lower_first(clinical.override_text(state, [event]))}")
    return ". ".join(sentence(p).rstrip(".") for p in parts)


def _closing(state: CaseState) -> str:
    parts = []
    neuro = clinical.neuro_check(state)
    if neuro and neuro != "Not recorded yet":
        parts.append(f"neurological check before leaving the table: {lower_first(neuro)}")
    entry = done(state, "closure")
    if entry is not None:
        values = entry.values
        closure = CLOSURE.get(str(values.get("closure")), f"skin closure: {values.get('closure')}")
        dressing = DRESSING.get(str(values.get("dressing")), f"dressing: {values.get('dressing')}")
        parts.append(f"{closure} and {dressing}")
    out = done(state, "sign_out")
    if out is not None:
        parts.append(_sign_out(state, out.values))
    return " ".join(sentence(p) for p in parts)


def _sign_out(state: CaseState, values: dict[str, Any]) -> str:
    counts = "correct" if values.get("counts_correct") else "NOT correct"
    text = f"the needle and sharps counts were {counts} at the WHO sign-out"
    if values.get("equipment_problems"):
        text += f"; equipment problem reported: {values.get('equipment_details', 'no details given')}"
    if values.get("recovery_concerns"):
        text += f"; key concerns for recovery: {values['recovery_concerns']}"
    return text
