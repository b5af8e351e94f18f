"""Administration: rebuild the index in the background and follow its progress."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request, status
from pydantic import BaseModel

from api.deps import AdminDep, StateDep
from models.types import utc_now
from services.errors import ConflictError, NotFoundError

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/admin", tags=["admin"])

JobStatus = Literal["queued", "running", "done", "failed"]


class Job(BaseModel):
    id: str
    kind: str
    status: JobStatus = "queued"
    done: int = 0
    total: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None


class JobRegistry:
    """Background jobs of one running app, kept in memory (a restart forgets them)."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def create(self, kind: str) -> Job:
        with self._lock:
            if any(j.kind == kind and j.status in ("queued", "running") for j in self._jobs.values()):
                raise ConflictError(f"a {kind} job is already running", code="job_running")
            job = Job(id=uuid.uuid4().hex, kind=kind)
            self._jobs[job.id] = job
            return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise NotFoundError(f"job {job_id} not found")
            return job.model_copy()

    def update(self, job_id: str, **changes: object) -> None:
        with self._lock:
            job = self._jobs[job_id]
            self._jobs[job_id] = job.model_copy(update=changes)

    def advance(self, job_id: str, done: int, total: int) -> None:
        """`IndexService.rebuild` progress: (0, total) first, then (rows done, -1) per batch."""
        with self._lock:
            job = self._jobs[job_id]
            if total >= 0:
                job.total = total
            else:
                job.done += done


def get_jobs(request: Request) -> JobRegistry:
    jobs: JobRegistry = request.app.state.jobs
    return jobs


JobsDep = Annotated[JobRegistry, Depends(get_jobs)]


@router.post("/reindex", status_code=status.HTTP_202_ACCEPTED)
def reindex(_: AdminDep, state: StateDep, jobs: JobsDep) -> Job:
    """Start rebuilding the index from the database; poll `GET /admin/jobs/{id}` for progress."""
    job = jobs.create("reindex")

    def run() -> None:
        jobs.update(job.id, status="running", started_at=utc_now())
        try:
            total = state.index.rebuild(state.engine, lambda d, t: jobs.advance(job.id, d, t))
            jobs.update(job.id, status="done", done=total, total=total, finished_at=utc_now())
        except Exception as exc:
            logger.exception("reindex job %s failed", job.id)
            jobs.update(job.id, status="failed", error=type(exc).__name__, finished_at=utc_now())

    threading.Thread(target=run, name=f"reindex-{job.id[:8]}", daemon=True).start()
    return job


@router.get("/jobs/{job_id}")
def read_job(job_id: Annotated[str, Path(max_length=64)], _: AdminDep, jobs: JobsDep) -> Job:
    """A background job's status and progress."""
    return jobs.get(job_id)
