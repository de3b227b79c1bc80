"""Bad input through every use case: a clear Refusal (field + message), never another error, never a partial write.

Property-based: each test function has one database (examples share it, a fresh case is made
only when an example was accepted); after every example the case's stored events are checked,
and at the end of each function the whole database must verify clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checklist_app.domain.clock import FakeClock
from checklist_app.domain.errors import Refusal
from checklist_app.domain.state import PENDING
from checklist_app.domain.template import FieldSpec
from checklist_app.service import ChecklistService, load_templates
from checklist_app.store import open_store
from tests.conftest import START, STEP_VALUES, advance, enrol_team, setup_kwargs

from .ledger import LEDGER
from .strategies import anything, datetimes, maybe, near, numbers, rarely_bad, texts

EXAMPLES = 120
RECORD_STEP_EXAMPLES = 200
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    report_multiple_bugs=False,  # one minimal example per test keeps a red run short; the named examples list the rest
)
TEMPLATES = load_templates()
CEMENT, BALLOON = "example_pmma_hv_a", "example_balloon_15"
VALID: dict[str, dict[str, Any]] = {
    **STEP_VALUES,
    "cement_mix": {"product": CEMENT, "lot": "CM0001", "expiry": "2030-01-01", "room_temperature": 21.0},
    "balloon_kit": {"product": BALLOON, "lot": "BK0001", "expiry": "2030-01-01"},
}
STEPS = [(procedure, spec.id) for procedure, template in sorted(TEMPLATES.items()) for spec in template.steps]


# -- one database per test function ----------------------------------------------------------------


class Bench:
    """A service over its own database, with prepared cases of each kind (remade once used up)."""

    def __init__(self, path: Path) -> None:
        self.clock = FakeClock(START)
        self.service = enrol_team(ChecklistService(open_store(path), clock=self.clock))
        self._cases: dict[str, str] = {}

    def case(self, kind: str) -> str:
        if kind not in self._cases:
            self._cases[kind] = self._prepare(kind)
        return self._cases[kind]

    def retire(self, kind: str) -> None:
        """The example changed this case (it was accepted): the next example gets a fresh one."""
        self._cases.pop(kind, None)

    def _prepare(self, kind: str) -> str:
        procedure = "vertebroplasty" if kind.endswith("vertebroplasty") else "kyphoplasty"
        service, clock = self.service, self.clock
        extra = {"screen": {"cement_allergy": True}, "levels": [("T3", "both")]} if kind == "warned" else {}
        case_id = service.start_case(**setup_kwargs(procedure, **extra)).case_id
        if kind.startswith("fresh"):
            return case_id
        service.record_step(case_id=case_id, step="patient_in_room")
        service.record_step(case_id=case_id, step="cement_mix", values=VALID["cement_mix"])
        if procedure == "kyphoplasty":
            service.record_step(case_id=case_id, step="balloon_kit", values=VALID["balloon_kit"])
        if kind in ("complete", "nurse_signed", "signed"):
            advance(service, clock, case_id)
            for warning in service.warnings(case_id, pending_only=True):
                service.acknowledge_warning(case_id=case_id, warning_id=warning.id)
        if kind in ("nurse_signed", "signed"):
            service.sign(case_id=case_id, name=service.state(case_id).current_nurse, role="nurse")
            service.record_findings(case_id=case_id, complications="none", findings="ok", ebl_ml=5.0)
        if kind == "signed":
            service.sign(case_id=case_id, name="Dr Ada Demo", role="operator", codes=service.suggested_codes(case_id))
        return case_id


@pytest.fixture(scope="module")
def benches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Bench]]:
    made: dict[str, Bench] = {}
    yield made
    for bench in made.values():
        bench.service.close()


@pytest.fixture
def bench(benches: dict[str, Bench], tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    """This test function's database; it must verify clean once all its examples have run."""
    made = benches.setdefault(request.node.name, Bench(tmp_path_factory.mktemp("bench") / "checklist.sqlite3"))
    yield made
    assert made.service.store.verify() == []


# -- the one check every example goes through ---------------------------------------------------


def attempt(bench: Bench, call: str, kwargs: dict[str, Any], case_id: Any = None) -> bool:
    """Call the use case; True if accepted. Refusals must be clear and leave the disk unchanged."""
    service = bench.service
    target = case_id if isinstance(case_id, str) and service.store.case_exists(case_id) else None
    before = _footprint(service, target)
    LEDGER.add("inputs.service")
    LEDGER.add(f"inputs.service.{call}")
    try:
        getattr(service, call)(**kwargs)
    except Refusal as refusal:
        LEDGER.add("inputs.service_refused")
        assert isinstance(refusal.field, str) and refusal.field.strip(), repr(refusal.field)
        assert isinstance(refusal.message, str) and refusal.message.strip(), repr(refusal.message)
        assert _footprint(service, target) == before, "a refused call changed the database"
        if target is not None:
            cached = service.state(target).events
            assert len(cached) == before[0], "a refused call changed the state shown on screen"
        return False
    except Exception as error:
        if LEDGER.survived(call, error):
            return False
        raise
    LEDGER.add("inputs.service_accepted")
    if target is not None:
        _assert_reads_back(service, target, before[0])
    return True


def _footprint(service: ChecklistService, case_id: str | None) -> tuple[int, int, int]:
    events = len(service.store.events(case_id)) if case_id else 0
    return events, len(service.list_cases()), len(service.store.staff.list_staff(active_only=False))


def _assert_reads_back(service: ChecklistService, case_id: str, before: int) -> None:
    """What was accepted is on disk exactly as the screen's state has it, and its hashes hold."""
    stored = service.store.events(case_id)
    cached = service.state(case_id).events
    assert [e.hash for e in stored] == [e.hash for e in cached]
    for event in stored[before:]:
        assert event.compute_hash() == event.hash, f"accepted event {event.seq} does not read back as written"


# -- strategies ------------------------------------------------------------------------------------

NEAR_MISSES = {
    "bool": st.sampled_from(["yes", "no", 1, 0, "true", None, [True]]),
    "number": st.one_of(numbers, st.sampled_from(["17 atm", "1,500", "abc", "12 mL", "5 psi", "-1", "1e400", "∞"])),
    "integer": st.one_of(numbers, st.sampled_from(["2.5", "3.0", "11 G", "eleven"])),
    "choice": st.one_of(texts, st.lists(texts, max_size=2)),
    "multi": st.one_of(texts, st.lists(st.one_of(texts, st.just("none")), max_size=3), st.just(["none", "none"])),
    "text": texts,
    "date": st.one_of(st.sampled_from(["2026-13-01", "yesterday", "01/02/2030", "0000-01-01", "2030-02-30"]), texts),
    "product": st.one_of(texts, st.sampled_from(["00614141100019", CEMENT.upper(), BALLOON + " "])),
    "batch": st.one_of(st.integers(-3, 60), st.sampled_from([True, 2.0, "2", None])),
    "staff": st.one_of(texts, st.lists(texts, max_size=3), st.just([])),
}


def bad_value(fspec: FieldSpec) -> st.SearchStrategy[Any]:
    return st.one_of(NEAR_MISSES.get(fspec.type, anything), anything)


@st.composite
def step_values(draw: st.DrawFn, procedure: str, step: str) -> Any:
    """A valid value set with one to three things wrong (a bad value, a missing or an unknown key)."""
    spec = TEMPLATES[procedure].step(step)
    if draw(st.integers(0, 9)) == 0:
        return draw(anything)  # not even a mapping, most of the time
    values: dict[Any, Any] = dict(VALID.get(step, {}))
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["bad", "bad", "drop", "unknown"]) if spec.fields else st.just("unknown"))
        if action == "bad":
            fspec = draw(st.sampled_from(spec.fields))
            values[fspec.id] = draw(bad_value(fspec))
        elif action == "drop" and values:
            values.pop(draw(st.sampled_from(sorted(values, key=str))))
        else:
            values[draw(st.one_of(texts, st.integers(), st.none(), st.tuples(st.integers())))] = draw(anything)
    return values


clinical_times = st.one_of(st.none(), st.none(), near(START), datetimes, anything)
reasons = st.one_of(st.just("Operator decision"), texts, anything)
actors = st.one_of(st.none(), st.just("Nurse Dana Demo"), texts, anything)


# -- record_step for every step of both templates ---------------------------------------------------


@pytest.mark.parametrize("procedure", sorted(TEMPLATES))
@settings(PROPERTY, max_examples=RECORD_STEP_EXAMPLES)
@given(data=st.data())
def test_record_step_refuses_bad_values_times_and_places_clearly(
    bench: Bench, procedure: str, data: st.DataObject
) -> None:
    step = data.draw(st.sampled_from([spec.id for spec in TEMPLATES[procedure].steps]), label="step")
    LEDGER.add(f"inputs.record_step.{procedure}.{step}")
    kind = f"fresh-{procedure}" if step == "patient_in_room" else f"ready-{procedure}"
    case_id = bench.case(kind)
    state = bench.service.state(case_id)
    pending = [i for i in state.instances if i.spec.id == step and i.status == PENDING]
    where = data.draw(st.sampled_from(pending)) if pending else None
    kwargs = {
        "case_id": data.draw(rarely_bad(case_id)),
        "step": data.draw(rarely_bad(step)),
        "level": data.draw(maybe(where.level if where else None)),
        "side": data.draw(maybe(where.side if where else None)),
        "values": data.draw(step_values(procedure, step)),
        "clinical_time": data.draw(clinical_times),
        "late_reason": data.draw(st.one_of(st.none(), st.sampled_from(["catch_up", "other"]), anything)),
        "override_reason": data.draw(st.one_of(st.none(), reasons)),
        "actor": data.draw(actors),
    }
    if attempt(bench, "record_step", kwargs, case_id):
        bench.retire(kind)


CLASSIC_BAD = [
    "",
    "   ",
    "x" * 10_000,
    "\x00",
    "\ud800",
    "\ufffe",
    True,
    -1,
    -(10**30),  # (10**400, too big for a float, is its own named example below)
    float("nan"),
    float("inf"),
    -0.0,
    [],
    {},
    ["none", "none"],
    object(),
    datetime(2026, 3, 2, 8, 0),
]


@pytest.mark.parametrize(("procedure", "step"), STEPS, ids=[f"{p}-{s}" for p, s in STEPS])
def test_every_step_refuses_classic_bad_values_by_field(bench: Bench, procedure: str, step: str) -> None:
    """Every step of both templates, every field, a fixed list of the usual suspects (no luck needed)."""
    kind = f"fresh-{procedure}" if step == "patient_in_room" else f"ready-{procedure}"
    spec = TEMPLATES[procedure].step(step)
    fields = [f.id for f in spec.fields] or ["unknown"]
    for field_id in fields:
        for bad in CLASSIC_BAD:
            case_id = bench.case(kind)
            state = bench.service.state(case_id)
            kwargs = {"case_id": case_id, "step": step, "values": {**VALID.get(step, {}), field_id: bad}}
            if spec.on_demand:  # a level's change of plan: per planned level, no side
                kwargs["level"] = state.setup.level_names[0]
            elif spec.repeat != "any":
                where = next(i for i in state.instances if i.spec.id == step)
                kwargs |= {"level": where.level, "side": where.side}
            if attempt(bench, "record_step", kwargs, case_id):
                bench.retire(kind)


# -- every other use case ----------------------------------------------------------------------------


@PROPERTY
@given(data=st.data())
def test_start_case_refuses_bad_set_up_clearly(bench: Bench, data: st.DataObject) -> None:
    valid = setup_kwargs()
    patient = {key: data.draw(maybe(value)) for key, value in valid["patient"].items()}
    team = {key: data.draw(maybe(value)) for key, value in valid["team"].items()}
    team["assistants"] = data.draw(maybe(["Resident Ivo Demo"]))
    levels = data.draw(
        maybe(
            valid["levels"],
            st.one_of(
                anything,
                st.lists(
                    st.one_of(
                        st.fixed_dictionaries({"level": maybe("T12", texts), "sides": maybe(["left"])}),
                        st.tuples(maybe("L1", texts), maybe("both")),
                        anything,
                    ),
                    max_size=4,
                ),
            ),
        )
    )
    screen = data.draw(
        maybe(
            {"pregnancy": False},
            st.one_of(anything, st.dictionaries(st.sampled_from(["inr", "platelets", "pregnancy", "x"]), anything)),
        )
    )
    kwargs = {
        "patient": data.draw(maybe(patient)),
        "procedure": data.draw(maybe("kyphoplasty")),
        "levels": levels,
        "indication": data.draw(maybe("osteoporotic")),
        "team": data.draw(maybe(team)),
        "icd10": data.draw(maybe(["M80.08XA"], st.one_of(anything, st.lists(texts, max_size=3)))),
        "indication_detail": data.draw(maybe("", texts)),
        "screen": screen,
    }
    attempt(bench, "start_case", kwargs)


@PROPERTY
@given(data=st.data())
def test_mark_not_applicable_refuses_bad_input_clearly(bench: Bench, data: st.DataObject) -> None:
    case_id = bench.case("ready-kyphoplasty")
    pending = [i for i in bench.service.state(case_id).instances if i.status == PENDING]
    where = data.draw(st.sampled_from(pending))
    kwargs = {
        "case_id": data.draw(rarely_bad(case_id)),
        "step": data.draw(maybe(where.spec.id, st.one_of(anything, st.sampled_from(["cement_mix", "balloon_kit"])))),
        "reason": data.draw(reasons),
        "level": data.draw(maybe(where.level)),
        "side": data.draw(maybe(where.side)),
        "actor": data.draw(actors),
    }
    if attempt(bench, "mark_not_applicable", kwargs, case_id):
        bench.retire("ready-kyphoplasty")


@PROPERTY
@given(data=st.data())
def test_correct_refuses_bad_input_clearly(bench: Bench, data: st.DataObject) -> None:
    case_id = bench.case("complete")
    state = bench.service.state(case_id)
    seq = data.draw(st.sampled_from(sorted(state.entries_by_seq)))
    entry = state.entry_for(seq)
    assert entry is not None
    spec = state.step_spec_of(entry)
    values = data.draw(st.one_of(st.none(), step_values(state.template.procedure, spec.id)))
    kwargs = {
        "case_id": data.draw(rarely_bad(case_id)),
        "seq": data.draw(maybe(seq, st.one_of(anything, st.integers(-2, 500), st.just(float(seq)), st.just(True)))),
        "reason": data.draw(reasons),
        "values": values,
        "clinical_time": data.draw(clinical_times),
        "actor": data.draw(actors),
    }
    attempt(bench, "correct", kwargs, case_id)


@PROPERTY
@given(data=st.data())
def test_retract_refuses_bad_input_clearly(bench: Bench, data: st.DataObject) -> None:
    case_id = bench.case("complete")
    seqs = sorted(bench.service.state(case_id).entries_by_seq)
    kwargs = {
        "case_id": data.draw(rarely_bad(case_id)),
        "seq": data.draw(maybe(data.draw(st.sampled_from(seqs)), st.one_of(anything, st.integers(-2, 500)))),
        "reason": data.draw(reasons),
        "actor": data.draw(actors),
    }
    if attempt(bench, "retract", kwargs, case_id):
        bench.retire("complete")


@PROPERTY
@given(data=st.data())
def test_override_gate_refuses_bad_input_clearly(bench: Bench, data: st.DataObject) -> None:
    case_id = bench.case("ready-kyphoplasty")
    step, gate = data.draw(st.sampled_from([("cannula_placement", "time_out"), ("cannula_removal", "hardening")]))
    kwargs = {
        "case_id": data.draw(rarely_bad(case_id)),
        "step": data.draw(rarely_bad(step)),
        "gate": data.draw(maybe(gate)),
        "reason": data.draw(reasons),
        "level": data.draw(maybe(None, st.one_of(st.just("T12"), st.just("L1"), anything))),
        "side": data.draw(maybe(None, st.one_of(st.sampled_from(["left", "right"]), anything))),
        "actor": data.draw(actors),
    }
    attempt(bench, "override_gate", kwargs, case_id)


@PROPERTY
@given(data=st.data())
def test_acknowledge_warning_refuses_bad_input_clearly(bench: Bench, data: st.DataObject) -> None:
    case_id = bench.case("warned")
    pending = [w.id for w in bench.service.warnings(case_id, pending_only=True)] or ["screen:cement_allergy"]
    kwargs = {
        "case_id": data.draw(rarely_bad(case_id)),
        "warning_id": data.draw(maybe(data.draw(st.sampled_from(pending)), st.one_of(anything, texts))),
        "actor": data.draw(actors),
    }
    if attempt(bench, "acknowledge_warning", kwargs, case_id):
        bench.retire("warned")


@PROPERTY
@given(data=st.data())
def test_acknowledge_alarm_refuses_bad_input_clearly(bench: Bench, data: st.DataObject) -> None:
    case_id = bench.case("ready-vertebroplasty")
    if not bench.service.alarms(case_id):
        bench.clock.advance(minutes=3)  # the cement is ready: an alarm is up
    raised = [a.id for a in bench.service.alarms(case_id)] or ["cement_ready:3"]
    kwargs = {
        "case_id": data.draw(rarely_bad(case_id)),
        "alarm_id": data.draw(maybe(data.draw(st.sampled_from(raised)), st.one_of(anything, texts))),
        "actor": data.draw(actors),
    }
    if attempt(bench, "acknowledge_alarm", kwargs, case_id):
        bench.retire("ready-vertebroplasty")


@PROPERTY
@given(data=st.data())
def test_change_staff_refuses_bad_input_clearly(bench: Bench, data: st.DataObject) -> None:
    case_id = bench.case("ready-kyphoplasty")
    kwargs = {
        "case_id": data.draw(rarely_bad(case_id)),
        "role": data.draw(maybe("nurse", st.one_of(anything, st.sampled_from(["operator", "Nurse", "surgeon"])))),
        "name": data.draw(maybe("Nurse Eli Example", texts)),
        "reason": data.draw(maybe("handover", reasons)),
        "actor": data.draw(actors),
    }
    attempt(bench, "change_staff", kwargs, case_id)


@PROPERTY
@given(data=st.data())
def test_record_findings_refuses_bad_input_clearly(bench: Bench, data: st.DataObject) -> None:
    case_id = bench.case("complete")
    kwargs = {
        "case_id": data.draw(rarely_bad(case_id)),
        "findings": data.draw(maybe("Good fill", texts)),
        "complications": data.draw(maybe("None", texts)),
        "ebl_ml": data.draw(maybe(5.0, st.one_of(numbers, anything))),
        "condition": data.draw(maybe("Stable", texts)),
        "disposition": data.draw(maybe("Home", texts)),
        "postop_diagnosis": data.draw(maybe("", texts)),
        "actor": data.draw(actors),
    }
    attempt(bench, "record_findings", kwargs, case_id)


@PROPERTY
@given(data=st.data())
def test_sign_refuses_bad_input_clearly(bench: Bench, data: st.DataObject) -> None:
    kind, name, role = data.draw(
        st.sampled_from([("complete", "Nurse Dana Demo", "nurse"), ("nurse_signed", "Dr Ada Demo", "operator")])
    )
    case_id = bench.case(kind)
    kwargs = {
        "case_id": data.draw(rarely_bad(case_id)),
        "name": data.draw(maybe(name, texts)),
        "role": data.draw(maybe(role, st.one_of(anything, st.sampled_from(["nurse", "operator", "anaesthesia"])))),
        "meaning": data.draw(maybe(None, st.one_of(anything, st.sampled_from(["performed", "reviewed", "x"])))),
        "pin": data.draw(maybe(None, st.one_of(texts, anything))),
    }
    if attempt(bench, "sign", kwargs, case_id):
        bench.retire(kind)


@PROPERTY
@given(data=st.data())
def test_add_addendum_refuses_bad_input_clearly(bench: Bench, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["signed", "signed", "ready-kyphoplasty"]))
    case_id = bench.case(kind)
    kwargs = {
        "case_id": data.draw(rarely_bad(case_id)),
        "text": data.draw(maybe("Late finding added", texts)),
        "reason": data.draw(maybe("Found on review", reasons)),
        "author": data.draw(maybe("Dr Ada Demo", st.one_of(texts, anything))),
    }
    attempt(bench, "add_addendum", kwargs, case_id)


@PROPERTY
@given(data=st.data())
def test_add_staff_refuses_bad_input_clearly(bench: Bench, data: st.DataObject) -> None:
    kwargs = {
        "name": data.draw(st.one_of(texts, anything)),
        "role": data.draw(maybe("nurse", st.one_of(anything, st.sampled_from(["operator", "Nurse", "cleaner"])))),
        "pin": data.draw(st.one_of(st.none(), st.text("0123456789", min_size=4, max_size=12), texts, anything)),
    }
    attempt(bench, "add_staff", kwargs)


# -- clinical times ------------------------------------------------------------------------------------


@PROPERTY
@given(when=st.one_of(near(START), datetimes), late=st.sampled_from([None, "catch_up"]))
def test_clinical_time_is_accepted_only_between_the_patient_entering_and_now(
    bench: Bench, when: Any, late: str | None
) -> None:
    case_id = bench.case("ready-kyphoplasty")
    kwargs = {"case_id": case_id, "step": "identity_consent", "values": VALID["identity_consent"]}
    accepted = attempt(bench, "record_step", {**kwargs, "clinical_time": when, "late_reason": late}, case_id)
    if accepted:
        bench.retire("ready-kyphoplasty")
        assert when.tzinfo is not None and START <= when <= START + timedelta(seconds=60)


@pytest.mark.parametrize(
    ("when", "field"),
    [
        (START.replace(tzinfo=None), "clinical_time"),
        (START + timedelta(minutes=5), "clinical_time"),
        (START - timedelta(minutes=1), "clinical_time"),
        (START - timedelta(days=400), "clinical_time"),
    ],
    ids=["naive", "future", "before_pir", "long_before_pir"],
)
def test_naive_future_and_before_pir_clinical_times_are_refused_by_name(bench: Bench, when: Any, field: str) -> None:
    case_id = bench.case("ready-kyphoplasty")
    with pytest.raises(Refusal) as refused:
        bench.service.record_step(
            case_id=case_id, step="incision", level="T12", clinical_time=when, late_reason="catch_up"
        )
    assert refused.value.field == field
    LEDGER.add("inputs.service")
