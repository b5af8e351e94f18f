"""Alembic environment: uses a connection handed in by `data.migrate` or the configured URL."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from data.db import create_db_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_db_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
