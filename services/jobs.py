"""Durable background jobs: a table in the database is the queue, the progress and the outcome.

Any process submits a job (`submit`); any runner (`JobRunner`: the `techmatch worker` command, or a
thread inside the API process for the one-process default) claims the oldest queued job of the kinds it
runs, marks it running under its name and keeps a heartbeat while the handler works. A handler reports
progress and an optional checkpoint (where to resume) into the row; its result or its error ends there.

A runner that dies stops its heartbeat; the first runner to look after `lease` seconds puts the job back
in the queue (it resumes from its checkpoint) or, after its last attempt, marks it failed with the
reason. A claim is one conditional UPDATE (``WHERE status = 'queued'``) and every later write names the
claimant and its attempt, so two runners never run one attempt and a stale runner cannot overwrite
its successor's outcome. Handlers are written to be idempotent (a retried chunk is stored once).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from data.db import session_scope
from models import Job
from models.types import utc_now
from services.errors import ConflictError, NotFoundError

__all__ = [
    "ACTIVE",
    "JobContext",
    "JobHandler",
    "JobRunner",
    "get_job",
    "list_jobs",
    "recover_lost",
    "submit",
]

logger = logging.getLogger(__name__)
ACTIVE = ("queued", "running")
DEFAULT_LEASE = timedelta(seconds=30)


def submit(
    db: Engine,
    kind: str,
    params: dict[str, Any] | None = None,
    *,
    created_by: int | None = None,
    max_attempts: int = 3,
    exclusive: bool = True,
) -> Job:
    """Queue a job; an ``exclusive`` kind refuses a second one while one is queued or running."""
    with session_scope(db) as session:
        if exclusive:
            running = session.exec(
                select(Job.id).where(Job.kind == kind, col(Job.status).in_(ACTIVE)).limit(1)
            ).first()
            if running is not None:
                raise ConflictError(f"已有一个 {kind} 任务在排队或运行（任务 {running}）", code="job_running")
        job = Job(kind=kind, params=params or {}, created_by=created_by, max_attempts=max_attempts)
        session.add(job)
        session.flush()
        session.refresh(job)
        return job


def get_job(db: Engine, job_id: int | str) -> Job:
    try:
        key = int(job_id)
    except (TypeError, ValueError):
        key = -1
    with Session(db) as session:
        job = session.get(Job, key) if key > 0 else None
        if job is None:
            raise NotFoundError(f"任务 {job_id} 不存在")
        return job


def list_jobs(db: Engine, *, limit: int = 50, kind: str | None = None) -> list[Job]:
    with Session(db) as session:
        query = select(Job).order_by(col(Job.id).desc()).limit(limit)
        if kind is not None:
            query = query.where(Job.kind == kind)
        return list(session.exec(query).all())


def recover_lost(db: Engine, lease: timedelta = DEFAULT_LEASE) -> int:
    """Jobs whose runner stopped beating: back to the queue, or failed after the last attempt."""
    cutoff = utc_now() - lease
    recovered = 0
    with session_scope(db) as session:
        lost = session.exec(select(Job).where(Job.status == "running", col(Job.heartbeat_at) < cutoff)).all()
        for job in lost:
            reason = f"执行进程 {job.worker} 中断（第 {job.attempts} 次尝试，心跳停于 {job.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC）"
            values: dict[str, Any]
            if job.attempts < job.max_attempts:
                values = {"status": "queued", "worker": None, "error": reason + "，已重新排队"}
            else:
                values = {
                    "status": "failed",
                    "error": reason + "，已达最大尝试次数",
                    "finished_at": utc_now(),
                }
            changed = session.execute(
                update(Job)
                .where(col(Job.id) == job.id, col(Job.status) == "running", col(Job.attempts) == job.attempts)
                .values(**values)
            )
            recovered += changed.rowcount  # type: ignore[attr-defined]
    if recovered:
        logger.warning("jobs: %d lost job(s) re-queued or failed", recovered)
    return recovered


@dataclass
class JobContext:
    """What a handler sees: its job's parameters and checkpoint, and a way to report progress."""

    db: Engine
    job_id: int
    attempt: int
    worker: str
    params: dict[str, Any]
    checkpoint: dict[str, Any]
    services: dict[str, Any] = field(default_factory=dict)

    def progress(self, done: int, total: int | None = None, checkpoint: dict[str, Any] | None = None) -> None:
        """Record progress (and where to resume); raises LeaseLostError if another runner took over."""
        values: dict[str, Any] = {"done": done, "heartbeat_at": utc_now()}
        if total is not None:
            values["total"] = total
        if checkpoint is not None:
            values["checkpoint"] = checkpoint
            self.checkpoint = checkpoint
        _owned_update(self.db, self.job_id, self.worker, self.attempt, values)


JobHandler = Callable[[JobContext], dict[str, Any]]
"""Runs one job; returns its JSON result (a Chinese ``summary`` line is shown in the console)."""


class LeaseLostError(RuntimeError):
    """This runner's claim on a job was taken over (its heartbeat was too late)."""


def _owned_update(db: Engine, job_id: int, worker: str, attempt: int, values: dict[str, Any]) -> None:
    with session_scope(db) as session:
        changed = session.execute(
            update(Job)
            .where(
                col(Job.id) == job_id,
                col(Job.status) == "running",
                col(Job.worker) == worker,
                col(Job.attempts) == attempt,
            )
            .values(**values)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise LeaseLostError(f"job {job_id} attempt {attempt} is no longer held by {worker}")


def _claim(db: Engine, worker: str, kinds: Iterable[str]) -> Job | None:
    """Take the oldest queued job of the given kinds, or None. One conditional UPDATE decides."""
    kinds = list(kinds)
    with session_scope(db) as session:
        candidates = session.exec(
            select(Job.id)
            .where(Job.status == "queued", col(Job.kind).in_(kinds))
            .order_by(col(Job.id))
            .limit(5)
        ).all()
        for job_id in candidates:
            now = utc_now()
            claimed = session.execute(
                update(Job)
                .where(col(Job.id) == job_id, col(Job.status) == "queued")
                .values(
                    status="running",
                    worker=worker,
                    attempts=Job.attempts + 1,
                    started_at=now,
                    heartbeat_at=now,
                )
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                session.flush()
                job = session.get(Job, job_id, populate_existing=True)
                assert job is not None
                return job
    return None


class JobRunner:
    """Claims and runs jobs of the registered kinds until stopped; one job at a time."""

    def __init__(
        self,
        db: Engine,
        handlers: dict[str, JobHandler],
        *,
        services: dict[str, Any] | None = None,
        name: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        idle_seconds: float = 0.5,
    ) -> None:
        self.db = db
        self.handlers = handlers
        self.services = services or {}
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease = lease
        self.idle = idle_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> bool:
        """Recover lost jobs, then claim and run one; False when there was nothing to do."""
        recover_lost(self.db, self.lease)
        job = _claim(self.db, self.name, self.handlers)
        if job is None or job.id is None:
            return False
        context = JobContext(
            self.db, job.id, job.attempts, self.name, dict(job.params), dict(job.checkpoint), self.services
        )
        beating = threading.Event()
        heart = threading.Thread(target=self._beat, args=(context, beating), daemon=True)
        heart.start()
        try:
            result = self.handlers[job.kind](context)
            outcome: dict[str, Any] = {"status": "done", "result": result}  # error: why it was retried
        except LeaseLostError:
            logger.warning("job %s: lease lost; its successor owns the outcome", job.id)
            return True
        except Exception as exc:
            logger.exception("job %s (%s) failed", job.id, job.kind)
            outcome = {"status": "failed", "error": _reason(exc)}
        finally:
            beating.set()
            heart.join()
        outcome["finished_at"] = utc_now()
        try:
            _owned_update(self.db, job.id, self.name, job.attempts, outcome)
        except LeaseLostError:
            logger.warning("job %s: finished after its lease was lost; outcome dropped", job.id)
        return True

    def _beat(self, context: JobContext, stop: threading.Event) -> None:
        while not stop.wait(self.lease.total_seconds() / 4):
            try:
                _owned_update(
                    self.db, context.job_id, self.name, context.attempt, {"heartbeat_at": utc_now()}
                )
            except LeaseLostError:
                return
            except Exception:
                logger.exception("job %s: heartbeat failed", context.job_id)

    def serve_forever(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:
                logger.exception("job runner: database unavailable; retrying")
                busy = False
            if not busy:
                self._stop.wait(self.idle)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="job-runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def _reason(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return f"{type(exc).__name__}: {message}"[:2000]
