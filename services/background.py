"""What runs beside the requests of a process that holds an index: the change-feed follower and,
where configured, a job runner. The API's lifespan and `techmatch worker` start the same pair."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine

from services.changefeed import ChangeFollower
from services.config import Settings
from services.index import IndexService
from services.job_kinds import HANDLERS
from services.jobs import JobRunner

__all__ = ["Background", "start_background"]


@dataclass
class Background:
    follower: ChangeFollower | None
    runner: JobRunner | None

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.stop()
        if self.follower is not None:
            self.follower.stop()


def start_background(settings: Settings, db: Engine, index: IndexService, *, run_jobs: bool) -> Background:
    follower = None
    if settings.follow_changes:
        follower = ChangeFollower(db, index, poll_seconds=settings.change_poll_seconds)
        follower.start()
    runner = None
    if run_jobs:
        runner = JobRunner(
            db,
            HANDLERS,
            services={"index": index},
            lease=timedelta(seconds=settings.job_lease_seconds),
        )
        runner.start()
    return Background(follower, runner)
