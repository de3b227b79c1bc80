"""What a step offers the nurse to choose: the cement batches and balloon kits a form lists and preselects.

A rule, not a view's decision: the newest entry comes first (one recorded while the step was open
included), and a cement batch whose working time is over is never preselected.
"""

from __future__ import annotations

from datetime import datetime

from .state import CaseState, Entry
from .template import FieldSpec


def offered(state: CaseState, fspec: FieldSpec) -> list[Entry]:
    """The entries a batch-type field may refer to, newest first."""
    return list(reversed(state.live_records(fspec.record or "")))


def usable(state: CaseState, entry: Entry, now: datetime) -> bool:
    """A cement batch is usable until its working time ends; a balloon kit once it is opened."""
    if entry.event.step != "cement_mix":
        return True
    batch = state.facts.batch(entry.seq)
    return batch is not None and batch.window is not None and now < batch.window.working_end


def preselected(state: CaseState, fspec: FieldSpec, now: datetime) -> int | None:
    """The entry a form proposes: the newest usable one, or none (the nurse must choose or record one)."""
    return next((e.seq for e in offered(state, fspec) if usable(state, e, now)), None)


def still_valid(state: CaseState, fspec: FieldSpec, seq: object, now: datetime) -> bool:
    """A choice the nurse made earlier still stands: the entry is live and usable."""
    return any(e.seq == seq and usable(state, e, now) for e in offered(state, fspec))
