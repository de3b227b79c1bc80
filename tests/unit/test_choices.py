"""Which batch or kit a step proposes: the newest usable one, never a cement batch whose working time is over."""

from __future__ import annotations

from datetime import timedelta

import pytest

from checklist_app.domain.choices import offered, preselected
from checklist_app.domain.errors import Refusal
from checklist_app.domain.timers import working_window
from tests.conftest import STEP_VALUES, advance, mix_cement, open_balloon_kit

INJECTION_VALUES = {k: v for k, v in STEP_VALUES["cement_injection"].items() if k != "batch"}


def batch_field(state):
    return state.template.step("cement_injection").field("batch")


def test_the_newest_batch_within_its_working_time_is_proposed_and_listed_first(service, clock, started):
    first = mix_cement(service, started, lot="A")
    clock.advance(minutes=1)
    second = mix_cement(service, started, lot="B")
    state = service.state(started)
    assert [e.seq for e in offered(state, batch_field(state))] == [second, first]
    assert preselected(state, batch_field(state), clock.now()) == second


def test_a_batch_whose_working_time_is_over_is_never_proposed(service, clock, started):
    only = mix_cement(service, started)
    state = service.state(started)
    end = working_window(state, state.entry_for(only))[1]
    assert preselected(state, batch_field(state), end - timedelta(seconds=1)) == only
    assert preselected(state, batch_field(state), end) is None


def test_an_older_batch_still_in_its_window_is_proposed_when_the_newest_is_spent(service, clock, started):
    """Proposal follows usability, not just recency: a newer batch of a fast-setting product may end first."""
    slow = mix_cement(service, started, product="example_pmma_lv_c")  # working time 12 min
    clock.advance(minutes=1)
    fast = mix_cement(service, started, product="example_pmma_mv_b")  # working time 9 min
    state = service.state(started)
    assert preselected(state, batch_field(state), clock.now()) == fast
    assert preselected(state, batch_field(state), clock.now() + timedelta(minutes=9, seconds=30)) == slow


def test_an_injection_naming_no_batch_uses_the_proposed_one(service, clock, started):
    advance(service, clock, started, "cement_injection")
    first = mix_cement(service, started)
    clock.set(working_window(service.state(started), service.state(started).entry_for(first))[0])
    state = service.record_step(
        case_id=started, step="cement_injection", level="T12", side="left", values=INJECTION_VALUES
    )
    assert state.instance("cement_injection", "T12", "left").entry.values["batch"] == first


def test_an_injection_naming_no_batch_is_refused_when_every_batch_is_spent(service, clock, started):
    advance(service, clock, started, "cement_injection")
    first = mix_cement(service, started)
    clock.set(working_window(service.state(started), service.state(started).entry_for(first))[1] + timedelta(minutes=1))
    with pytest.raises(Refusal) as refused:
        service.record_step(case_id=started, step="cement_injection", level="T12", side="left", values=INJECTION_VALUES)
    assert refused.value.field == "batch" and "working time" in refused.value.message


def test_an_inflation_refers_to_a_balloon_kit_and_needs_one(service, clock, started):
    advance(service, clock, started, "balloon_inflation")
    values = STEP_VALUES["balloon_inflation"]
    with pytest.raises(Refusal) as refused:
        service.record_step(case_id=started, step="balloon_inflation", level="T12", side="left", values=values)
    assert refused.value.field == "kit" and "balloon kit" in refused.value.message
    kit = open_balloon_kit(service, started)
    state = service.record_step(case_id=started, step="balloon_inflation", level="T12", side="left", values=values)
    assert state.instance("balloon_inflation", "T12", "left").entry.values["kit"] == kit


def test_balloon_pressure_warns_against_the_limit_of_the_kit_actually_used(service, clock, started):
    advance(service, clock, started, "balloon_inflation")
    open_balloon_kit(service, started)  # example_balloon_15: 700 psi, 4 mL
    values = {**STEP_VALUES["balloon_inflation"], "volume": 4.5}
    service.record_step(case_id=started, step="balloon_inflation", level="T12", side="left", values=values)
    messages = [w.message for w in service.warnings(started)]
    assert any("Final volume 4.5 mL is above the warning limit of 4 mL" in m for m in messages)
