"""What the running application holds: settings, the database engine and the index service."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from services.config import Settings
from services.index import IndexService


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    index: IndexService
