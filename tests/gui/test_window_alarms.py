"""Timers and alarms on the window, driven by a fake clock and explicit ticks (no waiting)."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt

from checklist_app.domain import events as ev
from checklist_app.domain.present import duration
from checklist_app.domain.timers import hardening_end
from tests.conftest import advance, mix_cement
from tests.gui.window_helpers import click, find, stored


def alarm_texts(window) -> list[str]:
    banner = window.case_screen.banner
    return [row.accessibleName() for row in banner.rows.values()]


def test_cement_alarms_banner_first_then_one_sound_until_acknowledged(qtbot, window, service, clock, started, sound):
    """SPEC §4: "ready to inject" is information on the timer, not an alarm; the working time ending
    and over are medium-priority alarms; visual first, then one sound, repeated until acknowledged."""
    advance(service, clock, started, "cement_injection")
    mix_cement(service, started)  # T0 now: ready at 2 min, warning at 9, end at 10 (example cement A)
    window.open_case(started)
    banner = window.case_screen.banner
    assert banner.isHidden() and sound.played == []
    clock.advance(minutes=2)
    window.case_screen.tick()
    assert banner.isHidden() and sound.played == []  # ready to inject: the timer says so, nothing sounds
    clock.advance(minutes=7)
    window.case_screen.tick()
    assert banner.isVisible() and [a.priority for a in banner.alarms] == ["medium"]
    assert "MEDIUM PRIORITY" in alarm_texts(window)[0] and "ends in 1 min" in alarm_texts(window)[0]
    assert sound.played == ["medium"]
    clock.advance(minutes=1)
    window.case_screen.tick()
    assert [a.priority for a in banner.alarms] == ["medium"]  # "ends in 1 min" gives way to "is over"
    assert "working time is over" in alarm_texts(window)[0]
    assert sound.played == ["medium", "medium"]
    clock.advance(seconds=10)
    window.case_screen.tick()
    assert sound.played.count("medium") == 2
    clock.advance(seconds=16)
    window.case_screen.tick()
    assert sound.played.count("medium") == 3  # unacknowledged medium priority repeats (25 s)


def test_an_epidural_leak_is_a_high_priority_alarm_naming_what_to_do(qtbot, window, service, clock, started, sound):
    """SPEC §3/§4: an epidural, foraminal or pulmonary leak, or a symptomatic one, raises a high-priority
    alarm: stop injecting, tell the operator, check the legs."""
    from tests.conftest import STEP_VALUES
    from tests.gui.window_helpers import complete

    advance(service, clock, started, "cement_injection")
    mix_cement(service, started)
    clock.advance(minutes=3)
    window.open_case(started)
    values = {**STEP_VALUES["cement_injection"], "leak": ["epidural", "venous"]}
    complete(qtbot, window, "cement_injection", "T12", "left", values)
    window.case_screen.tick()
    banner = window.case_screen.banner
    assert banner.alarms[0].priority == "high"
    assert "HIGH PRIORITY" in alarm_texts(window)[0]
    assert "stop injecting, tell the operator, check the legs" in alarm_texts(window)[0]
    assert sound.played[-1] == "high"
    clock.advance(seconds=11)
    window.case_screen.tick()
    assert sound.played.count("high") == 2  # repeats until someone acknowledges it


def test_acknowledging_an_alarm_logs_who_and_when_and_it_never_repeats(qtbot, window, service, clock, started, sound):
    advance(service, clock, started, "cement_injection")
    seq = mix_cement(service, started)
    window.open_case(started)
    clock.advance(minutes=10)
    window.case_screen.tick()
    over = f"working_end:{seq}"
    assert window.case_screen.banner.alarms[0].id == over
    with qtbot.waitSignal(window.case_events.case_changed):
        click(qtbot, window, f"alarm.{over}.acknowledge")
    event = stored(service, started)[-1]
    assert (event.kind, event.values["alarm"], event.values["priority"]) == (ev.ALARM_ACKNOWLEDGED, over, "medium")
    assert event.actor == "Nurse Dana Demo" and event.recorded_time == clock.now()
    assert over not in [a.id for a in window.case_screen.banner.alarms]
    played = sound.played.count("medium")
    for _ in range(3):
        clock.advance(seconds=30)
        window.case_screen.tick()
    assert sound.played.count("medium") == played  # acknowledged: silent for good
    for alarm in list(window.case_screen.banner.alarms):
        click(qtbot, window, f"alarm.{alarm.id}.acknowledge")
    window.case_screen.tick()
    assert window.case_screen.banner.isHidden() and sound.playing is None


def test_ctrl_shift_a_acknowledges_the_highest_priority_alarm(qtbot, window, service, clock, started):
    advance(service, clock, started, "cement_injection")
    seq = mix_cement(service, started)
    window.open_case(started)
    clock.advance(minutes=10)
    window.case_screen.tick()
    qtbot.keyClick(window, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert stored(service, started)[-1].values["alarm"] == f"working_end:{seq}"


def test_alarms_survive_closing_and_reopening_the_window(qtbot, make_window, service, clock, started, sound):
    advance(service, clock, started, "cement_injection")
    mix_cement(service, started)
    clock.advance(minutes=10)
    first = make_window()
    first.case_screen.tick()
    before = [a.id for a in first.case_screen.banner.alarms]
    first.close()
    again = make_window()
    again.case_screen.tick()
    assert [a.id for a in again.case_screen.banner.alarms] == before  # derived from stored events


def test_hardening_countdown_is_shown_in_big_digits_and_counts_down(qtbot, window, service, clock, started):
    advance(service, clock, started, "hardening_wait")
    window.open_case(started)
    end = hardening_end(service.state(started), "T12")
    digits = find(window, "timer.hardening.T12.digits")
    assert digits.text() == duration(end - clock.now())
    assert digits.font().pixelSize() >= 40 or digits.fontInfo().pixelSize() >= 40  # readable from two metres
    clock.advance(seconds=61)
    window.case_screen.tick()
    assert digits.text() == duration(end - clock.now())
    clock.set(end + timedelta(seconds=1))
    window.case_screen.tick()
    assert digits.text() == "0:00"
    assert "Set time reached" in find(window, "timer.hardening.T12").accessibleName()


def test_case_clock_and_skin_prep_dry_time(qtbot, window, service, clock, started):
    advance(service, clock, started, "skin_prep")
    window.open_case(started)
    from tests.gui.window_helpers import complete

    complete(qtbot, window, "skin_prep", values={"agent": "chlorhexidine_alcohol"})
    assert find(window, "timer.skin_prep_dry.digits").text() == "3:00"
    clock.advance(minutes=1)
    window.case_screen.tick()
    assert find(window, "timer.skin_prep_dry.digits").text() == "2:00"
    case_clock = find(window, "timer.case_clock.digits").text()
    pir = service.state(started).facts.milestone("PIR")
    assert case_clock == duration(clock.now() - pir)


def test_the_ticker_runs_every_second_while_a_case_is_open(window, service, started):
    window.open_case(started)
    assert window.case_screen.ticker.isActive() and window.case_screen.ticker.interval() == 1000
    window.close()
    assert not window.case_screen.ticker.isActive()


def test_a_value_above_its_warning_limit_is_acknowledged_on_the_warning_strip(qtbot, window, service, clock, started):
    advance(service, clock, started, "cement_injection")
    mix_cement(service, started)
    clock.advance(minutes=3)  # dough time: the batch may be injected
    window.open_case(started)
    from tests.gui.window_helpers import complete

    values = {"volume": 8.5, "stop_reason": "adequate_fill", "leak": ["none"], "symptomatic": False}
    complete(qtbot, window, "cement_injection", "T12", "left", values)
    strip = window.case_screen.warnings
    assert strip.isVisible() and len(strip.rows) == 1
    warning_id = next(iter(strip.rows))
    assert "8.5 mL is above the warning limit of 7 mL" in strip.rows[warning_id].accessibleName()
    click(qtbot, window, f"warning.{warning_id}.acknowledge")
    event = stored(service, started)[-1]
    assert (event.kind, event.values["warning"], event.actor) == (
        ev.WARNING_ACKNOWLEDGED,
        warning_id,
        "Nurse Dana Demo",
    )
    assert strip.isHidden()
