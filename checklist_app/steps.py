"""The use cases of a case in progress: start it, record, correct, retract, override, acknowledge, hand over.

Each takes keyword arguments only, refuses bad input with a `Refusal` naming the field before
anything is written, appends its events through the case log in one durable transaction and
returns the case's new snapshot (whose `changes` says what it appended).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .caselog import CaseLog
from .domain import events as ev
from .domain.advisories import unacknowledged
from .domain.alarms import alarms
from .domain.chronology import check_clinical_time, check_late_entry, check_order
from .domain.errors import Refusal
from .domain.events import Event
from .domain.gates import GateClosed, closed_gates, expired_lot_gate
from .domain.setup import build_setup, clean_name, clean_text
from .domain.state import PENDING, CaseState, Entry
from .domain.template import StepSpec
from .domain.values import check_choices_at, check_instance, validate_values
from .domain.wristband import confirm_wristband, identity_record
from .inputs import Draft, check_scope, moment, reason_text
from .staff_directory import ROLES


class StepUseCases:
    """Everything recorded while a case runs, through one case log."""

    def __init__(self, log: CaseLog) -> None:
        self.log = log

    def start_case(
        self,
        *,
        patient: Mapping[str, Any],
        procedure: str,
        levels: Any,
        indication: str,
        team: Mapping[str, Any],
        icd10: Any = (),
        indication_detail: str = "",
        screen: Mapping[str, Any] | None = None,
        coverage: Mapping[str, Any] | None = None,
        myeloma_remission: str = "",
        primary_neoplasm: str = "",
        training: bool = False,
        identity: Mapping[str, Any] | None = None,
    ) -> CaseState:
        """Open a new case from its set-up. The contraindication screen raises warnings, not blocks.

        `training` marks a simulated case (the demo): the case list, `show` and the note say so.
        `identity` says where the patient came from (SPEC §13): {"source": "hospital_list", "list":
        "adt" | "fhir", "wristband": scan}; left out, the patient was typed by hand, and the record says so.
        """
        now = self.log.clock.now()
        setup = build_setup(
            patient=patient,
            procedure=procedure,
            levels=levels,
            indication=indication,
            team=team,
            icd10=icd10,
            indication_detail=indication_detail,
            screen=screen,
            coverage=coverage,
            myeloma_remission=myeloma_remission,
            primary_neoplasm=primary_neoplasm,
            today=now.astimezone().date(),
        )
        template = self.log.site.templates.get(setup.procedure)
        if template is None:
            raise Refusal("procedure", f"no template installed for {setup.procedure}")
        pattern = self.log.site.settings.wristband_pattern
        provenance = identity_record(dict(identity) if identity is not None else None, setup.patient.mrn, pattern)
        case_id = self.log.store.next_case_id(now.astimezone().date())
        event = Event(
            case_id=case_id,
            seq=1,
            kind=ev.CASE_STARTED,
            clinical_time=now,
            recorded_time=now,
            actor=setup.team.nurse,
            values={
                "setup": setup.to_dict(),
                "template": {"id": template.id, "version": template.version},
                "identity": provenance,
                **({"training": True} if training is True else {}),
            },
        )
        row = {
            "id": case_id,
            "created": ev.format_time(now),
            "service_date": now.astimezone().date().isoformat(),
            "patient_name": setup.patient.name,
            "mrn": setup.patient.mrn,
            "procedure": setup.procedure,
            "levels": " ".join(setup.level_names),
            "status": "in_progress",
        }
        return self.log.start(event, row)

    def record_step(
        self,
        *,
        case_id: str,
        step: str,
        level: str | None = None,
        side: str | None = None,
        values: Mapping[str, Any] | None = None,
        clinical_time: datetime | None = None,
        late_reason: str | None = None,
        override_reason: str | None = None,
        actor: str | None = None,
        wristband: str | None = None,
    ) -> CaseState:
        """Tick a step (with its values). Closed gates refuse it unless `override_reason` is given.

        `wristband` is the patient's wristband as scanned (sign-in, time-out): it must be this case's
        patient, a hard stop no override opens (`WrongPatient`); a match is recorded with the step."""
        state = self.log.writable(case_id)
        spec = self._spec(state, step)
        check_instance(state, spec, level, side)
        if spec.on_demand and state.live_records(step, level):
            raise Refusal(
                "step", f"'{spec.title}' is already recorded for {level}; correct or retract that entry instead"
            )
        if not (spec.repeat == "any" or spec.on_demand) and state.instance(step, level, side).status != PENDING:
            raise Refusal("step", f"'{spec.title}' is already recorded; correct or retract that entry instead")
        now = self.log.clock.now()
        when = moment(clinical_time) or now
        check_clinical_time(state, when, now, step=step)
        late = check_late_entry(state, when, now, late_reason)
        clean = validate_values(state, spec, values or {}, when)
        check_choices_at(spec, clean, level)
        if wristband is not None:
            assert state.setup is not None
            clean["wristband"] = confirm_wristband(state.setup.patient.mrn, wristband, state.settings.wristband_pattern)
        late = check_order(state, spec, level, when, clean, late_reason) or late
        gates = closed_gates(state, spec, level, side, when, clean)
        lot_gate = expired_lot_gate(spec, clean, when)
        gates += [lot_gate] if lot_gate else []
        who = self._actor(state, actor)
        drafts = []
        if gates:
            if not override_reason:
                raise GateClosed(gates)
            why = reason_text(override_reason, "override_reason")
            drafts += [
                Draft(ev.GATE_OVERRIDE, who, when, step, level, side, {"gate": g.id, "message": g.message}, why)
                for g in gates
            ]
        drafts.append(Draft(ev.STEP_DONE, who, when, step, level, side, clean, late_reason=late))
        return self.log.append(state, drafts)

    def mark_not_applicable(
        self,
        *,
        case_id: str,
        step: str,
        reason: str,
        level: str | None = None,
        side: str | None = None,
        actor: str | None = None,
    ) -> CaseState:
        """Mark a pending step as not applicable, with the reason (e.g. no antibiotic indicated)."""
        state = self.log.writable(case_id)
        spec = self._spec(state, step)
        if spec.repeat == "any" or spec.on_demand:
            raise Refusal("step", f"'{spec.title}' is recorded when it happens; there is nothing to mark")
        check_instance(state, spec, level, side)
        if state.instance(step, level, side).status != PENDING:
            raise Refusal("step", f"'{spec.title}' is already recorded; correct or retract that entry instead")
        why = reason_text(reason, "reason")
        now = self.log.clock.now()
        draft = Draft(ev.NOT_APPLICABLE, self._actor(state, actor), now, step, level, side, {}, why)
        return self.log.append(state, [draft])

    def correct(
        self,
        *,
        case_id: str,
        seq: int,
        reason: str,
        values: Mapping[str, Any] | None = None,
        clinical_time: datetime | None = None,
        actor: str | None = None,
    ) -> CaseState:
        """Correct a recorded step: a new event referring to the original, which stays in the log."""
        state = self.log.writable(case_id)
        entry = self._live_entry(state, seq)
        spec = state.step_spec_of(entry)
        why = reason_text(reason, "reason")
        now = self.log.clock.now()
        when = moment(clinical_time) or entry.clinical_time
        if clinical_time is not None:
            check_clinical_time(state, when, now, step=spec.id)
        if entry.status == "done":
            # A wristband check is a scan, never a typed value: the original's check stays with the step.
            given = entry.values if values is None else values
            if isinstance(given, Mapping):
                given = {k: v for k, v in given.items() if k != "wristband"}
            clean = validate_values(state, spec, given)
            check_choices_at(spec, clean, entry.event.level)
            if "wristband" in entry.values:
                clean["wristband"] = entry.values["wristband"]
        elif values:
            raise Refusal("values", "a step marked not applicable has no values; retract it and record the step")
        else:
            clean = {}
        if clean == entry.values and when == entry.clinical_time:
            raise Refusal("values", "the correction changes nothing")
        check_order(state, spec, entry.event.level, when, clean, None)
        e = entry.event
        draft = Draft(ev.CORRECTION, self._actor(state, actor), when, e.step, e.level, e.side, clean, why, ref=seq)
        return self.log.append(state, [draft])

    def retract(self, *, case_id: str, seq: int, reason: str, actor: str | None = None) -> CaseState:
        """Withdraw a recorded step (it returns to pending); the original stays in the log."""
        state = self.log.writable(case_id)
        entry = self._live_entry(state, seq)
        why = reason_text(reason, "reason")
        e = entry.event
        draft = Draft(
            ev.RETRACTION, self._actor(state, actor), self.log.clock.now(), e.step, e.level, e.side, {}, why, ref=seq
        )
        return self.log.append(state, [draft])

    def override_gate(
        self,
        *,
        case_id: str,
        step: str,
        gate: str,
        reason: str,
        level: str | None = None,
        side: str | None = None,
        actor: str | None = None,
    ) -> CaseState:
        """Open a hard stop with a reason (printed in the note). Level/side None cover every instance."""
        state = self.log.writable(case_id)
        spec = self._spec(state, step)
        known = {g.id: g for g in spec.gates}
        if not isinstance(gate, str) or gate not in known:
            raise Refusal("gate", f"'{spec.title}' has no gate {gate!r}")
        check_scope(state, spec, level, side)
        why = reason_text(reason, "reason")
        values = {"gate": gate, "message": known[gate].message}
        draft = Draft(ev.GATE_OVERRIDE, self._actor(state, actor), self.log.clock.now(), step, level, side, values, why)
        return self.log.append(state, [draft])

    def acknowledge_warning(self, *, case_id: str, warning_id: str, actor: str | None = None) -> CaseState:
        """Record that a warning was seen and accepted (who and when)."""
        state = self.log.writable(case_id)
        found = {w.id: w for w in unacknowledged(state)}
        if not isinstance(warning_id, str) or warning_id not in found:
            raise Refusal("warning", f"no unacknowledged warning {warning_id!r}")
        values = {"warning": warning_id, "message": found[warning_id].message}
        draft = Draft(ev.WARNING_ACKNOWLEDGED, self._actor(state, actor), self.log.clock.now(), values=values)
        return self.log.append(state, [draft])

    def acknowledge_alarm(self, *, case_id: str, alarm_id: str, actor: str | None = None) -> CaseState:
        """Silence an alarm for good: logged with who and when; it does not repeat."""
        state = self.log.writable(case_id)
        raised = {a.id: a for a in alarms(state, self.log.clock.now())}
        if not isinstance(alarm_id, str) or alarm_id not in raised:
            raise Refusal("alarm", f"no active alarm {alarm_id!r}")
        alarm = raised[alarm_id]
        values = {"alarm": alarm_id, "priority": alarm.priority, "message": alarm.message}
        draft = Draft(ev.ALARM_ACKNOWLEDGED, self._actor(state, actor), self.log.clock.now(), values=values)
        return self.log.append(state, [draft])

    def change_staff(
        self, *, case_id: str, role: str, name: str, reason: str = "handover", actor: str | None = None
    ) -> CaseState:
        """Hand over a role (the signed-in nurse, the operator...). Later entries carry the new name."""
        state = self.log.writable(case_id)
        if not isinstance(role, str) or role not in ROLES:
            raise Refusal("role", f"must be one of {', '.join(ROLES)}")
        person = clean_name(name, "name")
        values = {"role": role, "name": person, "previous": state.current_nurse if role == "nurse" else ""}
        draft = Draft(
            ev.STAFF_CHANGE, self._actor(state, actor), self.log.clock.now(), values=values, reason=reason_text(reason)
        )
        return self.log.append(state, [draft])

    @staticmethod
    def _spec(state: CaseState, step: str) -> StepSpec:
        if not isinstance(step, str) or not state.template.has_step(step):
            raise Refusal("step", f"{step!r} is not a step of {state.template.name}")
        return state.template.step(step)

    @staticmethod
    def _actor(state: CaseState, actor: str | None) -> str:
        # A name typed now is checked as a name; the nurse on record was checked when recorded.
        return clean_name(actor, "actor") if actor is not None else clean_text(state.current_nurse, "actor")

    @staticmethod
    def _live_entry(state: CaseState, seq: Any) -> Entry:
        entry = state.entry_for(seq) if isinstance(seq, int) and not isinstance(seq, bool) else None
        if entry is None:
            raise Refusal("seq", f"event {seq!r} is not a recorded step of this case")
        if entry.retracted:
            raise Refusal("seq", f"event {seq} was retracted; record the step again instead")
        return entry
