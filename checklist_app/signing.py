"""Closing a case: the operator's findings, the signatures (with PINs) and addenda."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .caselog import CaseLog
from .domain import events as ev
from .domain.advisories import unacknowledged
from .domain.errors import Refusal
from .domain.names import normal
from .domain.setup import clean_name, clean_text
from .domain.state import DONE, PENDING, CaseState
from .inputs import Draft, reason_text
from .staff_directory import StaffDirectory, directory_name

# SPEC §6: what a signature means, by role: the nurse performed and recorded the checks, the
# operator is the author of the operative report (an addendum's author signs the addendum).
MEANINGS_BY_ROLE = {"nurse": ("performed", "recorded"), "operator": ("author",)}
MEANINGS = ("performed", "recorded", "author")
DEFAULT_MEANING = {"nurse": "performed", "operator": "author"}
NONE = "none"  # the complications answer when there were none (the answer is mandatory)
_CPT = re.compile(r"^\+?[0-9]{4}[0-9T](-5[23])?$")
_ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


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
        answer = clean_text(complications, "complications", 2000, required=False)
        if not answer:
            raise Refusal("complications", "answer 'none', or describe the complications")
        if answer.casefold().rstrip(".") in ("none", "nil", "no", "no complications"):
            answer = NONE
        required = state.facts.complications_required()
        if answer == NONE and required:
            raise Refusal(
                "complications", f"the record shows {'; '.join(required)}: describe the complication(s), not 'none'"
            )
        values = {
            "findings": clean_text(findings, "findings", 4000, required=False),
            "complications": answer,
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
        self,
        *,
        case_id: str,
        name: str,
        role: str,
        meaning: str | None = None,
        pin: str | None = None,
        codes: Mapping[str, Any] | None = None,
    ) -> CaseState:
        """Sign the record: the nurse first (all steps answered), then the operator, which locks it.

        The operator confirms the procedure (CPT) and diagnosis (ICD-10-CM) codes with the signature
        (`codes` = {"cpt": [...], "icd10": [...]}, as suggested by `suggested_codes` or changed).
        """
        state = self.log.writable(case_id)
        if not isinstance(role, str) or role not in DEFAULT_MEANING:
            raise Refusal("role", "only the nurse and the operator sign")
        meaning = meaning or DEFAULT_MEANING[role]
        if not isinstance(meaning, str) or meaning not in MEANINGS_BY_ROLE[role]:
            raise Refusal("meaning", f"the {role} signs as: {', '.join(MEANINGS_BY_ROLE[role])}")
        # SPEC §6: the signer is a person of the staff directory, found by name (NFKC, look-alikes
        # refused), never free text; the printed name is the directory's.
        person = directory_name(name, "name")
        self._check_can_sign(state, role, person)
        member = self.staff.signer(person, role)
        values: dict[str, Any] = {"name": person, "role": role, "meaning": meaning}
        if role == "operator":
            values["codes"] = confirmed_codes(codes)
        self.staff.check_pin(member, pin, case_id)  # last: only a real attempt counts as a wrong PIN
        draft = Draft(ev.SIGNATURE, person, self.log.clock.now(), values=values)
        return self.log.append(state, [draft])

    def suggested_codes(self, case_id: str) -> dict[str, list[str]]:
        """The codes to offer the operator at sign-off: {"cpt": [...], "icd10": [...]} (SPEC §7.4)."""
        return self.log.state(case_id).facts.suggested_codes()

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
        checks = [i for i in state.instances if i.spec.who_check and i.status != DONE]
        if checks:
            # SPEC §3: no signature while a WHO check is pending, retracted or marked not applicable.
            raise Refusal("case", f"the WHO check '{checks[0].label}' is not completed: nobody signs before it is")
        held = {normal(p) for p in state.facts.held(role)}  # the case's team as typed, compared in NFKC
        if role == "nurse":
            if person not in held:
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
        required = state.facts.complications_required()
        if required and state.findings.values.get("complications") == NONE:
            raise Refusal(
                "findings", f"the record shows {'; '.join(required)}: record the complication(s) in the findings"
            )
        if person not in held:
            raise Refusal("name", f"{person} is not the operator of this case")


def confirmed_codes(codes: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """The operator's confirmed codes: at least one CPT and one ICD-10-CM code, each well formed."""
    if not isinstance(codes, Mapping):
        raise Refusal("codes", "confirm the procedure (CPT) and diagnosis (ICD-10-CM) codes to sign")
    out: dict[str, list[str]] = {}
    for key, pattern, what in (("cpt", _CPT, "CPT"), ("icd10", _ICD10, "ICD-10-CM")):
        given = codes.get(key)
        if isinstance(given, str):
            given = [c for c in given.replace(";", ",").split(",")]
        if not isinstance(given, (list, tuple)):
            raise Refusal("codes", f"give the {what} codes as a list")
        cleaned = [clean_text(c, "codes", 12).upper() for c in given if isinstance(c, str) and c.strip()]
        if not cleaned:
            raise Refusal("codes", f"confirm at least one {what} code")
        bad = [c for c in cleaned if not pattern.match(c)]
        if bad:
            raise Refusal("codes", f"'{bad[0]}' is not a {what} code")
        out[key] = cleaned
    return out
