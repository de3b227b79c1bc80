"""Closing a case: the operator's findings, the signatures (with PINs) and addenda."""

from __future__ import annotations

from .caselog import CaseLog
from .domain import events as ev
from .domain.advisories import unacknowledged
from .domain.errors import Refusal
from .domain.setup import clean_name, clean_text
from .domain.state import PENDING, CaseState
from .inputs import Draft, reason_text
from .staff_directory import StaffDirectory

MEANINGS = ("performed", "reviewed", "approved")
DEFAULT_MEANING = {"nurse": "performed", "operator": "approved"}


class SigningUseCases:
    """The use cases that close a case, over the case log and the staff directory (for PINs)."""

    def __init__(self, log: CaseLog, staff: StaffDirectory) -> None:
        self.log, self.staff = log, staff

    def record_findings(
        self,
        *,
        case_id: str,
        findings: str = "",
        complications: str = "",
        ebl_ml: float | None = None,
        condition: str = "Stable",
        disposition: str = "",
        postop_diagnosis: str = "",
        actor: str | None = None,
    ) -> CaseState:
        """The operator's findings, complications, blood loss, condition and disposition for the note."""
        state = self.log.writable(case_id)
        if ebl_ml is not None and (isinstance(ebl_ml, bool) or not isinstance(ebl_ml, (int, float))):
            raise Refusal("ebl_ml", "estimated blood loss must be a number of mL")
        if ebl_ml is not None and not 0 <= ebl_ml <= 5000:
            raise Refusal("ebl_ml", "estimated blood loss must be between 0 and 5000 mL")
        values = {
            "findings": clean_text(findings, "findings", 4000, required=False),
            "complications": clean_text(complications, "complications", 2000, required=False),
            "ebl_ml": ebl_ml,
            "condition": clean_text(condition, "condition", required=False),
            "disposition": clean_text(disposition, "disposition", required=False),
            "postop_diagnosis": clean_text(postop_diagnosis, "postop_diagnosis", 500, required=False),
        }
        who = actor or (state.setup.team.operator if state.setup else None)
        draft = Draft(
            ev.FINDINGS, (clean_name if actor else clean_text)(who, "actor"), self.log.clock.now(), values=values
        )
        return self.log.append(state, [draft])

    def sign(
        self, *, case_id: str, name: str, role: str, meaning: str | None = None, pin: str | None = None
    ) -> CaseState:
        """Sign the record: the nurse first (all steps answered), then the operator, which locks it."""
        state = self.log.writable(case_id)
        if not isinstance(role, str) or role not in DEFAULT_MEANING:
            raise Refusal("role", "only the nurse and the operator sign")
        meaning = meaning or DEFAULT_MEANING[role]
        if not isinstance(meaning, str) or meaning not in MEANINGS:
            raise Refusal("meaning", f"must be one of {', '.join(MEANINGS)}")
        person = clean_name(name, "name")
        self._check_can_sign(state, role, person)
        self.staff.check_pin(person, role, pin)
        values = {"name": person, "role": role, "meaning": meaning}
        draft = Draft(ev.SIGNATURE, person, self.log.clock.now(), values=values)
        return self.log.append(state, [draft])

    def add_addendum(self, *, case_id: str, text: str, reason: str, author: str) -> CaseState:
        """After signing, the only way to add to a case: a dated, attributed addendum with a reason."""
        state = self.log.state(case_id)
        if not state.facts.locked:
            raise Refusal("case", "the case is not signed yet: record or correct the step directly")
        values = {"text": clean_text(text, "text", 4000)}
        draft = Draft(
            ev.ADDENDUM, clean_name(author, "author"), self.log.clock.now(), values=values, reason=reason_text(reason)
        )
        return self.log.append(state, [draft])

    def _check_can_sign(self, state: CaseState, role: str, person: str) -> None:
        if state.facts.signature(role):
            raise Refusal("role", f"the {role} has already signed")
        if role == "nurse":
            if person not in state.facts.held("nurse"):
                raise Refusal("name", f"{person} is not a nurse of this case (hand over first)")
            pending = [i.label for i in state.instances if i.status == PENDING]
            if pending:
                raise Refusal("case", f"{len(pending)} step(s) still pending, first: {pending[0]}")
            if unacknowledged(state):
                raise Refusal("warnings", "acknowledge every warning before signing")
            return
        if not state.facts.signature("nurse"):
            raise Refusal("case", "the nurse signs the record before the operator")
        if state.findings is None:
            raise Refusal("findings", "record the findings, complications and blood loss before signing")
        if person not in state.facts.held("operator"):
            raise Refusal("name", f"{person} is not the operator of this case")
