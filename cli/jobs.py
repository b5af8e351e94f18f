"""`techmatch worker`: a job-runner process (durable jobs from the database), and `techmatch jobs`."""

from __future__ import annotations

import json
import signal
from datetime import timedelta
from typing import Annotated, Any

import typer

from cli.common import open_engine, settings

jobs_app = typer.Typer(help="Durable background jobs: list them, follow one.", no_args_is_help=True)


def worker(
    kinds: Annotated[
        list[str] | None, typer.Option("--kind", help="run only these job kinds (repeatable; default: all)")
    ] = None,
) -> None:
    """Run durable jobs (reindex, import, matching, assign, ...) until stopped (Ctrl-C / SIGTERM).

    The process loads the index like an API worker and follows the change feed, so the jobs it runs
    see every posting written anywhere; start as many as you like, on any machine."""
    from services.background import start_background
    from services.index import IndexService
    from services.job_kinds import HANDLERS
    from services.jobs import JobRunner

    config = settings()
    engine = open_engine()
    unknown = sorted(set(kinds or ()) - set(HANDLERS))
    if unknown:
        raise typer.BadParameter(f"unknown job kind(s): {', '.join(unknown)}; known: {', '.join(HANDLERS)}")
    index = IndexService.from_settings(config)
    index.start(engine)
    background = start_background(config, engine, index, run_jobs=False)
    handlers = {k: h for k, h in HANDLERS.items() if not kinds or k in kinds}
    runner = JobRunner(
        engine, handlers, services={"index": index}, lease=timedelta(seconds=config.job_lease_seconds)
    )
    signal.signal(signal.SIGTERM, lambda *_: runner.stop())
    typer.echo(f"worker {runner.name}: running {', '.join(handlers)}", err=True)
    try:
        runner.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        background.stop()
        index.close()


@jobs_app.command("list")
def list_command(
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
) -> None:
    """The most recent jobs, newest first (one JSON object a line)."""
    from services.jobs import list_jobs

    for job in list_jobs(open_engine(), limit=limit):
        row: dict[str, Any] = job.model_dump(exclude={"params", "checkpoint"})
        typer.echo(json.dumps(row, ensure_ascii=False, default=str))


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.add_typer(jobs_app, name="jobs")
