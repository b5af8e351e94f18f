"""Registers the sub-commands that live in their own modules (workflow, evaluation)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach optional command groups; each module exposes a `register(app)` or a typer app."""
    from cli import workflow

    workflow.register(app)
