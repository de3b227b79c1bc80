"""What every use case checks first: ids, times, reasons and scopes given by a caller."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .domain.errors import Refusal
from .domain.setup import clean_text
from .domain.state import CaseState
from .domain.template import StepSpec

MAX_REASON = 500


@dataclass(frozen=True)
class Draft:
    """An event before it has a case position, time stamps or hash."""

    kind: str
    actor: str
    clinical_time: datetime | None = None
    step: str | None = None
    level: str | None = None
    side: str | None = None
    values: Mapping[str, Any] | None = None
    reason: str | None = None
    late_reason: str | None = None
    ref: int | None = None


def check_case_id(case_id: Any) -> None:
    if not isinstance(case_id, str) or not case_id.strip() or len(case_id) > 64:
        raise Refusal("case", f"no case {case_id!r} (a case id looks like 20261122-001)")
    if not case_id.isprintable() or any("\ud800" <= ch <= "\udfff" for ch in case_id):
        raise Refusal("case", f"no case {case_id!r}")


def check_scope(state: CaseState, spec: StepSpec, level: Any, side: Any) -> None:
    """An override names a planned level and side, or None for every one of them."""
    for name, value in (("level", level), ("side", side)):
        if value is not None and not isinstance(value, str):
            raise Refusal(name, "must be text such as 'T12' or 'left'")
    planned = {(i.level, i.side) for i in state.instances_of(spec.id)}
    if level is not None and level not in {lv for lv, _ in planned}:
        raise Refusal("level", f"'{spec.title}' is not planned at {level}")
    if side is not None and side not in {sd for lv, sd in planned if level is None or lv == level}:
        raise Refusal("side", f"'{spec.title}' is not planned on the {side} side")


def moment(value: Any) -> datetime | None:
    """A clinical time given by a caller: None, or a timezone-aware datetime."""
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise Refusal("clinical_time", "must be a date and time with its time zone")
    return value


def reason_text(text: Any, name: str = "reason") -> str:
    return clean_text(text, name, MAX_REASON)
