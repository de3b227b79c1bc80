"""The note's bidi levels and order follow UAX #9's implicit rules for a left-to-right line."""

from __future__ import annotations

import pytest

from checklist_app.note.bidi import NBSP, keep_rtl_together, levels, visual_order


def display(text: str) -> str:
    return "".join(text[i] for i in visual_order(levels(text)))


@pytest.mark.parametrize(
    ("logical", "shown"),
    [
        ("Patient דוד כהן today", "Patient ןהכ דוד today"),  # a right-to-left name inside English
        ("MRN 12345 דוד", "MRN 12345 דוד"),  # digits after Latin stay left to right
        ("דוד 123", "123 דוד"),  # digits after Hebrew: the number reads left to right, placed to the left
        ("محمد ٤٥", "٤٥ دمحم"),  # Arabic-Indic digits too
        ("x (דוד) y", "x (דוד) y"[:3] + "דוד"[::-1] + ") y"),  # brackets between Latin and Hebrew stay put
        ("abc", "abc"),
        ("", ""),
    ],
)
def test_right_to_left_stretches_are_reversed_and_numbers_inside_them_are_not(logical, shown):
    assert display(logical) == shown


def test_a_mark_takes_the_direction_of_its_letter():
    assert levels("שָׁלוֹם") == [1] * len("שָׁלוֹם")


def test_a_space_between_two_right_to_left_words_joins_them_and_one_before_latin_does_not():
    text = "Dr محمد أحمد and דוד כהן"
    together = keep_rtl_together(text)
    assert together == "Dr محمد" + NBSP + "أحمد and דוד" + NBSP + "כהן"
    assert keep_rtl_together("plain text\nsecond line") == "plain text\nsecond line"


def test_levels_of_a_mixed_line():
    assert levels("ab אב 12") == [0, 0, 0, 1, 1, 1, 2, 2]


def test_a_right_to_left_stretch_wider_than_the_line_is_cut_at_spaces_into_lines_in_logical_order():
    def fits(text: str) -> bool:
        return len(text) <= 9

    text = "Dr אבג דהו זחט יכל and more"
    assert keep_rtl_together(text, fits) == "Dr \nאבג" + NBSP + "דהו\nזחט" + NBSP + "יכל and more"
    assert keep_rtl_together("אבג דהו", fits) == "אבג" + NBSP + "דהו"  # it fits: one piece
