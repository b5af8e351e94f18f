"""The `techmatch` command. Sub-commands stay thin: they read settings once and call the services.

Errors become one readable line on stderr and a non-zero exit code (1 for a refused operation,
2 for bad input); no stack trace reaches the user.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError

from cli.common import EXIT_BAD_INPUT, EXIT_FAILED, open_engine, progress_bar, settings
from data.db import NotMigratedError
from services.config import InsecureSecretError
from services.errors import ServiceError

app = typer.Typer(
    help="TechMatch 技术转移撮合引擎: needs ↔ achievements, broker review, contracts, turnover statistics.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(
    help="Database schema: upgrade to the latest migration, show the current one.", no_args_is_help=True
)
demo_app = typer.Typer(
    help="Demo data: a deterministic Chinese corpus of organisations, needs and achievements.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest revision."""
    from data.migrate import current_revision, upgrade

    engine = open_engine(check_migrated=False)
    upgrade(engine)
    typer.echo(f"database at revision {current_revision(engine)} ({engine.dialect.name})")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the database."""
    from data.migrate import current_revision, head_revision

    engine = open_engine(check_migrated=False)
    typer.echo(f"current: {current_revision(engine)}  head: {head_revision()}")


@demo_app.command("load")
def demo_load(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="do nothing when organisations already exist")
    ] = False,
) -> None:
    """Load the demo organisations, users, brokers, needs, achievements, targets and policy rules."""
    from services.demo import load_demo

    summary = load_demo(open_engine(), if_empty=if_empty)
    typer.echo(summary)


@app.command()
def reindex(
    full: Annotated[bool, typer.Option("--full", help="rebuild from scratch instead of catching up")] = False,
) -> None:
    """Build or catch up the vector and lexical index from the database, with a progress bar."""
    from data.changes import announce_rebuild
    from services.index import IndexService

    engine = open_engine()
    index = IndexService.from_settings(settings())
    if full:  # running servers and job workers rebuild beside their live index too
        announce_rebuild(engine)
    with progress_bar("indexing") as advance:
        outcome = (
            f"rebuilt {index.rebuild(engine, advance)} postings" if full else index.start(engine, advance)
        )
    index.save()
    counts = index.counts()
    typer.echo(f"index {outcome}: {counts.get('need', 0)} needs, {counts.get('achievement', 0)} achievements")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default from TECHMATCH_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default from TECHMATCH_PORT)")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="worker processes (default from TECHMATCH_WORKERS); they agree through the change feed",
        ),
    ] = None,
) -> None:
    """Serve the API and the web console (http://127.0.0.1:8000, docs at /docs)."""
    import uvicorn

    from api.app import build_state, create_app

    config = settings()
    config.check_secret()
    bind = {"host": host or config.host, "port": port or config.port, "log_level": "info"}
    count = workers or config.workers
    if count > 1:  # each process builds its own app (and index) from the same TECHMATCH_* settings
        open_engine().dispose()  # refuse an un-migrated database here, in one readable line
        # a worker loads or rebuilds its index before it answers the supervisor's health pings
        uvicorn.run(
            "api.app:app_from_environment",
            factory=True,
            workers=count,
            timeout_worker_healthcheck=600,
            **bind,  # type: ignore[arg-type]
        )
        return
    state = build_state(config)
    uvicorn.run(create_app(state=state), **bind)  # type: ignore[arg-type]


def _register_extensions() -> None:
    """Sub-commands that live in their own modules."""
    from cli import extensions

    extensions.register(app)


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("TECHMATCH_LOG_LEVEL", "WARNING"), format="%(levelname)s %(name)s: %(message)s"
    )
    _register_extensions()
    try:
        app()
    except (NotMigratedError, InsecureSecretError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    except ServiceError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        sys.exit(EXIT_BAD_INPUT if exc.status in (400, 404, 422) else EXIT_FAILED)
    except OperationalError as exc:
        typer.echo(f"error: database unavailable: {exc.orig}", err=True)
        sys.exit(EXIT_FAILED)


if __name__ == "__main__":
    main()
