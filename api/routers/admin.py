"""Administration: durable background jobs (reindex, matching run, assignment) and their progress.

Jobs live in the database (services/jobs.py): any API worker can start or report on one, and it is
run by a job runner (`techmatch worker`, or the API process itself by default)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict

from api.deps import AdminDep, DbDep
from api.routers.matching import MatchingRequest
from models import Job
from services import jobs
from services.job_kinds import max_attempts

router = APIRouter(prefix="/admin", tags=["admin"])

JobStatus = Literal["queued", "running", "done", "failed"]


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    status: JobStatus
    done: int
    total: int | None
    attempts: int
    max_attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    result: dict[str, Any] | None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls.model_validate({**job.model_dump(), "id": str(job.id)})


def _start(db: DbDep, admin: AdminDep, kind: str, params: dict[str, Any] | None = None) -> JobOut:
    job = jobs.submit(db, kind, params, created_by=admin.user_id, max_attempts=max_attempts(kind))
    return JobOut.of(job)


@router.post("/reindex", status_code=status.HTTP_202_ACCEPTED)
def reindex(admin: AdminDep, db: DbDep) -> JobOut:
    """Queue a rebuild of the index from the database (every worker rebuilds beside its live index and
    swaps); poll `GET /admin/jobs/{id}` for progress."""
    return _start(db, admin, "reindex")


@router.post("/jobs/matching", status_code=status.HTTP_202_ACCEPTED)
def start_matching(data: MatchingRequest, admin: AdminDep, db: DbDep) -> JobOut:
    """Queue a matching run (the same as `POST /matching/run`, stored chunk by chunk, resumable)."""
    return _start(db, admin, "matching", data.model_dump())


@router.post("/jobs/assign", status_code=status.HTTP_202_ACCEPTED)
def start_assignment(admin: AdminDep, db: DbDep) -> JobOut:
    """Queue an assignment of suggested matches to brokers."""
    return _start(db, admin, "assign")


@router.get("/jobs")
def list_jobs(
    _: AdminDep,
    db: DbDep,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[JobOut]:
    """The most recent jobs, newest first."""
    return [JobOut.of(j) for j in jobs.list_jobs(db, limit=limit, kind=kind)]


@router.get("/jobs/{job_id}")
def read_job(job_id: Annotated[str, Path(max_length=64)], _: AdminDep, db: DbDep) -> JobOut:
    """A background job's status, progress, result or error (read from the database)."""
    return JobOut.of(jobs.get_job(db, job_id))
