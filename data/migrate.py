"""Alembic, driven from code: `upgrade`, `current_revision`, and the start-up guard."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from data.db import NotMigratedError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations on the given engine's database."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def ensure_migrated(engine: Engine) -> None:
    """Refuse to run on a database whose schema is not at the code's head revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        state = "not initialised" if current is None else f"at revision {current}, code expects {head}"
        raise NotMigratedError(f"database is {state}: run `techmatch db upgrade`")
