"""Fixtures for the note tests: finished cases built through the real service, and their notes."""

from __future__ import annotations

import pytest

from checklist_app.note import note_content, render_pdf
from tests.note.note_cases import build_kyphoplasty, build_vertebroplasty


@pytest.fixture
def kypho(service, clock):
    """(state, content) of the amended two-level kyphoplasty."""
    case_id = build_kyphoplasty(service, clock)
    state = service.state(case_id)
    return state, note_content(state)


@pytest.fixture
def vertebro(service, clock):
    """(state, content) of the signed two-level vertebroplasty."""
    case_id = build_vertebroplasty(service, clock)
    state = service.state(case_id)
    return state, note_content(state)


@pytest.fixture
def kypho_pdf(kypho):
    state, content = kypho
    return state, content, render_pdf(content)
