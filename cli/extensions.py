"""Registers the sub-commands that live in their own modules (workflow, evaluation)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach optional command groups; each module exposes a `register(app)` or a typer app."""
    from cli import jobs, learn, workflow
    from evaluation.cli import evaluate_command

    workflow.register(app)
    learn.register(app)
    jobs.register(app)
    if not any(c.name == "evaluate" for c in app.registered_commands):
        app.command(
            "evaluate",
            help="Evaluate the engine's default configuration against BM25 and each dense encoder on a BEIR-layout set.",
        )(evaluate_command)
