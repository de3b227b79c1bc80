"""Alarm sound: generated tone patterns, the fallback beep, and the one-sound-at-a-time rule."""

from __future__ import annotations

import wave
from datetime import UTC, datetime, timedelta

import pytest

from checklist_app.domain.alarms import Alarm, load_alarm_policy
from checklist_app.site import shipped_alarm_policy
from checklist_app.ui import alarms
from checklist_app.ui.alarms import AlarmSound, BeepPlayer, sound_path
from tests.gui.conftest import RecordingPlayer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = load_alarm_policy(shipped_alarm_policy())


def alarm(id_: str, priority: str) -> Alarm:
    return Alarm(id_, priority, "Cement", f"{priority} alarm", T0)


@pytest.mark.parametrize("priority", ["high", "medium", "low"])
def test_each_priority_has_a_short_mono_wav(priority):
    with wave.open(str(sound_path(priority))) as sound:
        assert (sound.getnchannels(), sound.getsampwidth()) == (1, 2)
        seconds = sound.getnframes() / sound.getframerate()
    assert 0.5 < seconds < 3


def test_without_qtmultimedia_the_system_beep_is_used(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_multimedia(name, *args, **kwargs):
        if name.startswith("PySide6.QtMultimedia"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_multimedia)
    assert isinstance(alarms.default_player(), BeepPlayer)


def test_only_the_highest_alarm_sounds_and_never_two_at_once():
    player = RecordingPlayer()
    sound = AlarmSound(player, POLICY)
    sound.update([alarm("a", "low")], T0)
    sound.update([alarm("b", "high"), alarm("a", "low")], T0 + timedelta(seconds=1))
    sound.update([alarm("b", "high"), alarm("a", "low")], T0 + timedelta(seconds=2))
    assert player.played == ["low", "high"]  # the RecordingPlayer fails if two overlap
    sound.update([], T0 + timedelta(seconds=3))
    assert player.playing is None


def test_a_low_alarm_sounds_once_a_high_one_repeats_until_acknowledged():
    player = RecordingPlayer()
    sound = AlarmSound(player, POLICY)
    for second in range(0, 31, 5):
        sound.update([alarm("low", "low")], T0 + timedelta(seconds=second))
    assert player.played == ["low"]
    for second in range(0, 31, 5):
        sound.update([alarm("high", "high")], T0 + timedelta(seconds=second))
    assert player.played.count("high") == 4  # at 0, 10, 20 and 30 s


def test_the_sound_forgets_alarms_once_they_are_no_longer_raised():
    """A long-lived window: alarms of finished cases leave nothing behind (bounded memory)."""
    player = RecordingPlayer()
    sound = AlarmSound(player, POLICY)
    for n in range(500):
        sound.update([alarm(f"working_end:{n}", "medium")], T0 + timedelta(minutes=n))
        sound.update([], T0 + timedelta(minutes=n, seconds=30))
    assert len(player.played) == 500
    assert sound.rule.played == {}
