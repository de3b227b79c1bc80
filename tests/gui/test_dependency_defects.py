"""Defects of our dependencies that must never come back (a dependency's bug is our bug).

PySide6 6.12.0 on Python 3.11 drops a reference to `None` on every binding call that returns
nothing, and when a proxy asks a Python item model's `data()` for a role it answers with None.
A room window repaints its checklist every second, losing ~115 references each time, and the
interpreter aborts ("Fatal Python error: none_dealloc") after about 17 minutes. pyproject.toml keeps
PySide6 below 6.12; these tests fail on 6.12.0 (checked by hand with that release) and pass on the
pinned one. Each batch is checked on its own, so a leaking release fails the test long before the
count could reach zero and abort the whole test run.
"""

from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QApplication

from checklist_app.ui.checklist_model import KEY_ROLE, ChecklistModel
from tests.conftest import advance
from tests.gui.window_helpers import select_row

BATCHES, REPAINTS_PER_BATCH = 20, 50  # 1,000 repaints of the real checklist
LEAK_TOLERANCE = 20  # references to None a batch may legitimately gain or lose (caches, interned values)


def none_references() -> int:
    gc.collect()
    return sys.getrefcount(None)


def test_thousands_of_checklist_repaints_keep_every_reference_to_none(
    make_window, service, clock, started, monkeypatch
):
    calls = 0
    answer = ChecklistModel.data

    def counted(self, index, role=Qt.ItemDataRole.DisplayRole):
        nonlocal calls
        calls += 1
        return answer(self, index, role)

    monkeypatch.setattr(ChecklistModel, "data", counted)  # before the window makes its model
    advance(service, clock, started, "cannula_placement")  # done, current, pending and locked rows
    window = make_window()
    QApplication.processEvents()  # the delayed items layout: until it has run, a repaint draws no row
    tree = window.case_screen.checklist.tree
    start = none_references()
    for batch in range(BATCHES):
        before = none_references()
        for _ in range(REPAINTS_PER_BATCH):
            tree.viewport().repaint()
        lost = before - none_references()
        assert lost <= LEAK_TOLERANCE, (
            f"batch {batch}: {REPAINTS_PER_BATCH} repaints of the checklist lost {lost} references to None "
            "(the PySide6 6.12.0 defect: the window would abort with none_dealloc)"
        )
    assert calls >= 50_000, f"only {calls} data() calls: the test no longer exercises the model"
    assert start - none_references() <= LEAK_TOLERANCE


def test_a_proxy_asking_the_checklist_model_for_an_unanswered_role_keeps_references(
    make_window, service, clock, started
):
    advance(service, clock, started, "sign_in")
    window = make_window()
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(window.case_screen.checklist.model)
    step = proxy.index(0, 0, proxy.index(0, 0))
    assert step.data(KEY_ROLE) == ("patient_in_room", None, None)
    before = none_references()
    for _ in range(1_000):
        assert proxy.data(step, Qt.ItemDataRole.DecorationRole) is None  # a role the model leaves unanswered
    assert before - none_references() <= LEAK_TOLERANCE


def test_using_the_checklist_never_asks_the_model_for_a_role_it_answers_with_none(
    qtbot, make_window, service, clock, started, monkeypatch
):
    """Independence from the defect where it is cheap: the hot path needs no None through the binding."""
    nones: list[int] = []
    answer = ChecklistModel.data

    def watched(self, index, role=Qt.ItemDataRole.DisplayRole):
        value = answer(self, index, role)
        if value is None:
            nones.append(int(role))
        return value

    monkeypatch.setattr(ChecklistModel, "data", watched)
    advance(service, clock, started, "cannula_placement")
    window = make_window()
    QApplication.processEvents()
    for key in (("patient_in_room", None, None), ("incision", "T12", None), ("cement_injection", "L1", "right")):
        select_row(qtbot, window, *key)  # selection, scrolling and the editor opening
        for _ in range(5):
            clock.advance(2)
            window.case_screen.tick()
            window.case_screen.checklist.tree.viewport().repaint()
    assert sorted(set(nones)) == []
