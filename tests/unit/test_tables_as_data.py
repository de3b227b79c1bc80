"""Clinical tables are data in resources/, checked when read: the code tables and the alarm sound policy."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta

import pytest

from checklist_app.domain.alarms import Alarm, AlarmPolicyError, Sounding, load_alarm_policy
from checklist_app.domain.coding import CodingError, load_coding_tables, parse_coding_tables
from checklist_app.site import shipped_alarm_policy, shipped_coding_tables

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def shipped_codes() -> dict:
    return tomllib.loads(shipped_coding_tables().read_text(encoding="utf-8"))


def test_the_shipped_code_tables_load():
    tables = load_coding_tables(shipped_coding_tables())
    assert tables.cpt_codes("kyphoplasty", ["T12"])[0].code == "22513"


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda d: d["cpt"].pop("kyphoplasty"), "must give exactly"),
        (lambda d: d["cpt"]["vertebroplasty"]["primary"].pop(), "must cover the regions"),
        (lambda d: d["cpt"]["kyphoplasty"]["add_on"].update(code="2251"), "is not a valid code"),
        (lambda d: d["icd10"]["osteoporotic"]["codes"][0].update(code="80.08"), "not a valid code"),
        (lambda d: d["icd10"]["traumatic"]["by_level"].pop(), "S1, S2, S3, S4, S5 not covered"),
        (lambda d: d["icd10"]["myeloma"]["codes"][0].update(description=" "), "needs a description"),
    ],
)
def test_a_damaged_code_table_is_refused_naming_what_is_wrong(damage, words):
    data = shipped_codes()
    damage(data)
    with pytest.raises(CodingError, match=words):
        parse_coding_tables(data, "codes.toml")


def test_alarm_sounds_repeat_by_priority_from_the_shipped_policy():
    rule = Sounding(load_alarm_policy(shipped_alarm_policy()))
    high = [Alarm("a", "high", "Cement", "leak", T0)]
    assert rule.next(high, T0) == ("play", "high")
    assert rule.next(high, T0 + timedelta(seconds=9)) == ("keep", None)
    assert rule.next(high, T0 + timedelta(seconds=10)) == ("play", "high")
    low = [Alarm("b", "low", "Skin prep", "dry", T0)]
    assert rule.next(low, T0 + timedelta(seconds=11)) == ("play", "low")
    assert rule.next(low, T0 + timedelta(hours=1)) == ("keep", None)  # a low alarm sounds once
    assert rule.next([], T0 + timedelta(hours=1)) == ("stop", None)


def test_a_broken_alarm_policy_is_refused(tmp_path):
    path = tmp_path / "alarms.toml"
    path.write_text("[repeat_seconds]\nhigh = 10\nmedium = -1\nlow = 0\n", encoding="utf-8")
    with pytest.raises(AlarmPolicyError, match="'medium' must be 0 to 600 seconds"):
        load_alarm_policy(path)
