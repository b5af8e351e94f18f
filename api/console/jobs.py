"""Long tasks started from the console (rebuild the index, import postings) and their progress.

They are durable jobs in the database (services/jobs.py), the same ones the REST API's
POST /api/v1/admin/reindex queues, so a reindex started in either place blocks a second one and both
can follow it from any worker. The page polls GET /console/admin/jobs/{id}.json."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.console.web import ConsoleRoute, ConsoleUser, CsrfUserDep, app_state, require
from models import Job
from services import jobs
from services.errors import InvalidInputError
from services.job_kinds import KIND_LABELS, import_params, max_attempts

router = APIRouter(prefix="/admin/jobs", route_class=ConsoleRoute)
AdminDep = Annotated[ConsoleUser, Depends(require())]
MAX_IMPORT_BYTES = 5_000_000
JOB_STATUS = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}


def job_view(job: Job) -> dict[str, object]:
    percent = None
    if job.total:
        percent = min(100, round(job.done * 100 / job.total))
    elif job.status == "done":
        percent = 100
    return {
        "id": str(job.id),
        "kind": KIND_LABELS.get(job.kind, job.kind),
        "status": job.status,
        "status_text": JOB_STATUS.get(job.status, job.status),
        "done": job.done,
        "total": job.total,
        "percent": percent,
        "summary": (job.result or {}).get("summary", "") if job.status == "done" else "",
        "error": job.error,
        "finished": job.status in ("done", "failed"),
    }


@router.post("/reindex")
def start_reindex(request: Request, user: CsrfUserDep) -> JSONResponse:
    """Rebuild the vector index from the database in the background."""
    user.actor.require()
    job = jobs.submit(app_state(request).engine, "reindex", created_by=user.actor.user_id)
    return JSONResponse(job_view(job), status_code=202)


@router.post("/import")
async def start_import(
    request: Request,
    user: CsrfUserDep,
    kind: Annotated[Literal["need", "achievement"], Form()],
    org_id: Annotated[int, Form(ge=1)],
    upload: Annotated[UploadFile, File()],
) -> JSONResponse:
    """Import needs or achievements (JSONL or CSV) for an organisation, in the background."""
    user.actor.require()
    name = (upload.filename or "").lower()
    fmt: Literal["jsonl", "csv"] = "csv" if name.endswith(".csv") else "jsonl"
    payload = await upload.read(MAX_IMPORT_BYTES + 1)
    if len(payload) > MAX_IMPORT_BYTES:
        raise InvalidInputError("file too large", code="payload_too_large")
    params = import_params(user.actor, kind, fmt, payload, org_id)
    job = await run_in_threadpool(
        jobs.submit,
        app_state(request).engine,
        "import",
        params,
        created_by=user.actor.user_id,
        max_attempts=max_attempts("import"),
    )
    return JSONResponse(job_view(job), status_code=202)


@router.get("/{job_id}.json")
def job_status(request: Request, _: AdminDep, job_id: Annotated[str, Path(max_length=64)]) -> JSONResponse:
    return JSONResponse(
        job_view(jobs.get_job(app_state(request).engine, job_id)), headers={"Cache-Control": "no-store"}
    )
