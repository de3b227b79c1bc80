"""Procedure-room checklist for kyphoplasty and vertebroplasty."""

__version__ = "0.1.0"
