"""Small wording helpers for the note: numbers with units, local times, choice labels, lists in prose."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from ..domain.present import local_datetime, local_time
from ..domain.state import DONE, CaseState, Entry

DASH = "—"
SIDE_WORDS = {"left": "left", "right": "right"}


def number(value: Any, places: int = 1) -> str:
    """A number rounded to at most `places` decimals, without trailing zeros ('3', '3.5', '250')."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return DASH
    text = f"{float(value):.{places}f}".rstrip("0").rstrip(".") if places else f"{round(float(value)):d}"
    return "0" if text in ("-0", "") else text


def ml(value: Any) -> str:
    """A cement or balloon volume, always to one decimal so columns line up: '2.0 mL'."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return DASH
    return f"{float(value):.1f} mL"


def decimal(value: Any, places: int = 2) -> str:
    """A measurement with at least one decimal and at most `places`: INR '1.0', '1.25'."""
    shown = number(value, places)
    return shown if shown == DASH or "." in shown else f"{shown}.0"


def qty(value: Any, unit: str, places: int = 1) -> str:
    """'3.5 mL'; a dash when the value was not recorded."""
    shown = number(value, places)
    if shown == DASH:
        return DASH
    return f"{shown}%" if unit == "%" else f"{shown} {unit}"


def clock(moment: datetime | None, service_day: date | None = None) -> str:
    """Local 24-hour 'HH:MM', with the date in front when it is not the day of service."""
    if moment is None:
        return DASH
    if service_day is not None and moment.astimezone().date() != service_day:
        return local_datetime(moment)
    return local_time(moment)


def stamp(moment: datetime | None) -> str:
    """Local 'YYYY-MM-DD HH:MM'."""
    return local_datetime(moment)


def utc_offset(moment: datetime) -> str:
    """The local offset from UTC in force at `moment`, e.g. 'UTC+01:00'."""
    offset = moment.astimezone().utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def lower_first(label: str) -> str:
    """'Venous (basivertebral)' -> 'venous (basivertebral)'; acronyms such as 'MAC' or 'CT-guided' stay."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def article(word: str) -> str:
    """'a' or 'an' before a word or a gauge number ('an 11 G', 'an 8 G', 'a 13 G')."""
    head = word.split()[0] if word.split() else word
    if head.isdigit():
        return "an" if head in ("8", "11", "18") or head.startswith("8") else "a"
    return "an" if head[:1].lower() in "aeiou" else "a"


def join_words(items: Iterable[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    words = [w for w in items if w]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def sentence(text: str) -> str:
    """Capitalised first letter and a closing full stop."""
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def choice(state: CaseState, step: str, field_id: str, value: Any) -> str:
    """The template's label for a recorded choice value (never the stored code)."""
    if value is None or value == "":
        return DASH
    if not state.template.has_step(step):
        return str(value)
    try:
        spec = state.template.step(step).field(field_id)
    except KeyError:
        return str(value)
    return spec.choice_label(str(value))


def done(state: CaseState, step: str, level: str | None = None, side: str | None = None) -> Entry | None:
    """The entry in force for a step instance when it was done (not pending, not marked not applicable)."""
    if not state.has_instance(step, level, side):
        return None
    entry = state.instance(step, level, side).entry
    return entry if entry is not None and entry.status == DONE else None


def answered(state: CaseState, step: str, level: str | None = None, side: str | None = None) -> Entry | None:
    """The entry in force, done or not applicable."""
    if not state.has_instance(step, level, side):
        return None
    return state.instance(step, level, side).entry


def side_word(side: str | None) -> str:
    """'left' or 'right' (empty when there is no side)."""
    return SIDE_WORDS.get(side or "", side or "")


def sides_phrase(sides: Iterable[str]) -> str:
    """'left', 'right' or 'left and right'."""
    return join_words(side_word(s) for s in sides)


def access(sides: tuple[str, ...]) -> str:
    """'bipedicular' for both sides, else 'unipedicular, left'."""
    return "bipedicular" if len(sides) > 1 else f"unipedicular, {side_word(sides[0]) if sides else DASH}"


def checked_items(state: CaseState, step: str, values: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The yes/no items of a checklist step as short phrases: (answered yes, answered no)."""
    yes: list[str] = []
    no: list[str] = []
    for spec in state.template.step(step).fields:
        if spec.type != "bool" or spec.id not in values:
            continue
        phrase = lower_first(" ".join(spec.label.replace(" confirmed", "").split()))
        (yes if values[spec.id] else no).append(phrase)
    return yes, no
