"""Stable automation names: every interactive control gets an objectName and an accessibleName.

Step controls embed the step id, level and side, e.g. ``step.cannula_placement.T12.left.done``,
so tests, screen readers and automation tools find the same control in every version.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def step_name(step: str, level: str | None, side: str | None, part: str) -> str:
    """'step.<step id>.<level or case>.<side or all>.<part>'."""
    return f"step.{step}.{level or 'case'}.{side or 'all'}.{part}"


def field_name(step: str, level: str | None, side: str | None, field: str) -> str:
    return step_name(step, level, side, f"field.{field}")


def name(widget: QWidget, object_name: str, accessible: str) -> QWidget:
    """Give a control its stable objectName and the words a screen reader says for it."""
    widget.setObjectName(object_name)
    widget.setAccessibleName(accessible)
    return widget
