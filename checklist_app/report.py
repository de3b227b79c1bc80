"""A case as plain data (for `show --json`) and as text (for `show`)."""

from __future__ import annotations

from typing import Any

from .domain.advisories import advisories
from .domain.alarms import alarms
from .domain.chronology import LATE_REASONS
from .domain.events import format_time, record_reference
from .domain.facts import STATUS_LABELS
from .domain.present import describe_event, local_datetime, local_time
from .domain.timers import timers


def case_report(service, case_id: str) -> dict[str, Any]:
    """Set-up, derived state and the whole timeline of one case."""
    state = service.state(case_id)
    setup = state.setup
    assert setup is not None
    now = service.clock.now()
    done, total = state.progress
    current = state.current
    last = state.events[-1]
    return {
        "id": state.case_id,
        "training": state.events[0].values.get("training") is True,  # a demo's simulated case
        "record_reference": record_reference(state.case_id, last.seq, last.hash),
        "patient_name": setup.patient.name,
        "setup": {"patient_name": setup.patient.name, **setup.to_dict()},
        "template": {"id": state.template.id, "version": state.template.version},
        "status": state.facts.status,
        "progress": {"done": done, "total": total},
        "current_step": None if current is None else _key(current),
        "milestones": {k: (format_time(v) if v else None) for k, v in state.facts.milestones.items()},
        "steps": [
            {
                **_key(inst),
                "title": inst.spec.title,
                "status": inst.status,
                "values": inst.entry.values if inst.entry else {},
                "clinical_time": format_time(inst.entry.clinical_time) if inst.entry else None,
                "seq": inst.entry.seq if inst.entry else None,
            }
            for inst in state.instances
        ],
        "warnings": [
            {"id": w.id, "source": w.source, "message": w.message, "acknowledged": w.acknowledged_in(state)}
            for w in advisories(state)
        ],
        "timers": [{"id": t.id, "label": t.label, "start": format_time(t.start)} for t in timers(state, now)],
        "alarms": [{"id": a.id, "priority": a.priority, "message": a.message} for a in alarms(state, now)],
        "events": [
            {
                "seq": e.seq,
                "kind": e.kind,
                "step": e.step,
                "level": e.level,
                "side": e.side,
                "values": e.values,
                "clinical_time": format_time(e.clinical_time),
                "recorded_time": format_time(e.recorded_time),
                "actor": e.actor,
                "reason": e.reason,
                "late_reason": e.late_reason,
                "ref": e.ref,
                "summary": describe_event(state, e),
            }
            for e in state.events
        ],
    }


def _key(instance) -> dict[str, Any]:
    return {"step": instance.spec.id, "level": instance.level, "side": instance.side}


def format_report(report: dict[str, Any]) -> str:
    setup = report["setup"]
    patient = setup["patient"]
    levels = ", ".join(f"{lv['level']} ({'/'.join(lv['sides'])})" for lv in setup["levels"])
    training = "  TRAINING: a simulated case, not a clinical record" if report.get("training") else ""
    lines = [
        f"Case {report['id']}  [{STATUS_LABELS.get(report['status'], report['status'])}]{training}",
        f"Record reference: {report['record_reference']}",
        f"Patient:   {patient['name']}  MRN {patient['mrn']}  DOB {patient['date_of_birth'] or '—'}  {patient['sex']}",
        f"Procedure: {setup['procedure']}  levels {levels}  indication {setup['indication']}",
        f"Team:      operator {setup['team']['operator']}, nurse {setup['team']['nurse']}, "
        f"anaesthesia {setup['team']['anaesthesia'] or '—'}",
        f"Progress:  {report['progress']['done']}/{report['progress']['total']} steps",
        "",
        "Steps:",
    ]
    for step in report["steps"]:
        where = " ".join(p for p in (step["level"], step["side"]) if p)
        lines.append(f"  [{_mark(step['status'])}] {step['title']}{f' ({where})' if where else ''}")
    if report["warnings"]:
        lines += ["", "Warnings:"]
        lines += [
            f"  {'ack' if w['acknowledged'] else 'OPEN'}  {w['source']}: {w['message']}" for w in report["warnings"]
        ]
    lines += ["", "Timeline (local time):"]
    for e in report["events"]:
        from .domain.events import parse_time

        clinical = parse_time(e["clinical_time"])
        late = ""
        if e["late_reason"]:
            recorded = local_time(parse_time(e["recorded_time"]))
            late = f"  [late entry, recorded {recorded}: {LATE_REASONS[e['late_reason']]}]"
        reason = f"  (reason: {e['reason']})" if e["reason"] else ""
        lines.append(f"  #{e['seq']:<3} {local_datetime(clinical)}  {e['actor']}: {e['summary']}{reason}{late}")
    # One line per line: a line break (or other control) inside a stored text is shown escaped, so
    # nothing in the record can fake a line of the report.
    return "\n".join(_one_line(line) for line in lines)


def _one_line(text: str) -> str:
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _mark(status: str) -> str:
    return {"done": "x", "not_applicable": "-", "pending": " "}[status]
