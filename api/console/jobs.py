"""Long tasks started from the console (rebuild the index, import postings) and their progress.

They run in a thread and report into the app's `JobRegistry` (api/routers/admin.py), the same one the
REST API's POST /api/v1/admin/reindex uses, so a reindex started in either place blocks a second one
and both can follow it. The page polls GET /console/admin/jobs/{id}.json."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import JSONResponse

from api.console.web import ConsoleRoute, ConsoleUser, CsrfUserDep, app_state, require
from api.routers.admin import Job, JobRegistry
from api.state import AppState
from models.types import utc_now
from services.actor import Actor
from services.errors import InvalidInputError
from services.imports import import_postings

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/admin/jobs", route_class=ConsoleRoute)
AdminDep = Annotated[ConsoleUser, Depends(require())]
MAX_IMPORT_BYTES = 5_000_000
JOB_STATUS = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}
JOB_KIND = {"reindex": "重建索引", "import": "批量导入"}


def registry(request: Request) -> JobRegistry:
    jobs = getattr(request.app.state, "jobs", None)
    if jobs is None:  # an app built without the admin router still gets one
        jobs = request.app.state.jobs = JobRegistry()
    return jobs


def _run(jobs: JobRegistry, job: Job, work: Callable[[], str]) -> None:
    """Run ``work`` in a thread; it returns the summary shown when the job is done."""

    def target() -> None:
        jobs.update(job.id, status="running", started_at=utc_now())
        try:
            summary = work()
            _summaries[job.id] = summary
            jobs.update(job.id, status="done", error=None, finished_at=utc_now())
        except Exception as exc:
            logger.exception("console job %s (%s) failed", job.id, job.kind)
            jobs.update(job.id, status="failed", error=type(exc).__name__, finished_at=utc_now())

    threading.Thread(target=target, name=f"console-{job.kind}-{job.id[:8]}", daemon=True).start()


_summaries: dict[str, str] = {}
"""Chinese one-line outcomes of finished console jobs, by job id (the registry's Job has no such field)."""


def job_view(job: Job) -> dict[str, object]:
    percent = None
    if job.total:
        percent = min(100, round(job.done * 100 / job.total))
    elif job.status == "done":
        percent = 100
    return {
        "id": job.id,
        "kind": JOB_KIND.get(job.kind, job.kind),
        "status": job.status,
        "status_text": JOB_STATUS.get(job.status, job.status),
        "done": job.done,
        "total": job.total,
        "percent": percent,
        "summary": _summaries.get(job.id, ""),
        "error": job.error,
        "finished": job.status in ("done", "failed"),
    }


@router.post("/reindex")
def start_reindex(request: Request, user: CsrfUserDep) -> JSONResponse:
    """Rebuild the vector index from the database in the background."""
    user.actor.require()
    state, jobs = app_state(request), registry(request)
    job = jobs.create("reindex")

    def work() -> str:
        total = state.index.rebuild(state.engine, lambda d, t: jobs.advance(job.id, d, t))
        jobs.update(job.id, done=total, total=total)
        return f"已重建索引，共 {total} 条发布信息。"

    _run(jobs, job, work)
    return JSONResponse(job_view(jobs.get(job.id)), status_code=202)


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
    state, jobs, actor = app_state(request), registry(request), user.actor
    job = jobs.create("import")
    _run(jobs, job, lambda: _import(state, actor, kind, payload, fmt, org_id, jobs, job))
    return JSONResponse(job_view(jobs.get(job.id)), status_code=202)


def _import(
    state: AppState,
    actor: Actor,
    kind: Literal["need", "achievement"],
    payload: bytes,
    fmt: Literal["jsonl", "csv"],
    org_id: int,
    jobs: JobRegistry,
    job: Job,
) -> str:
    result = import_postings(state.engine, state.index, actor, kind, payload, fmt, org_id=org_id)
    jobs.update(job.id, done=result.received, total=result.received)
    return f"共 {result.received} 行：新增 {result.created}，重复跳过 {result.skipped_duplicate}，无效 {result.invalid}。"


@router.get("/{job_id}.json")
def job_status(request: Request, _: AdminDep, job_id: Annotated[str, Path(max_length=64)]) -> JSONResponse:
    return JSONResponse(job_view(registry(request).get(job_id)), headers={"Cache-Control": "no-store"})
