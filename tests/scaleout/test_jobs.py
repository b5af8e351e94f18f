"""Durable jobs: the table is the queue and the record; a runner that dies loses its job to the next
runner (which resumes from the checkpoint) or, after the last attempt, the job fails with the reason."""

from __future__ import annotations

import json
import signal
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import Job, Match
from services import jobs
from services.accounts import actor_for_user
from services.imports import import_postings
from services.jobs import JobContext, JobRunner, LeaseLostError
from tests.api.conftest import World, seed_people, test_index
from tests.scaleout.servers import SECRET, environment, start, stop

LEASE = timedelta(seconds=2)


def _runner(engine: Engine, handlers: dict[str, Any], name: str) -> JobRunner:
    return JobRunner(engine, handlers, name=name, lease=LEASE)


def test_a_job_runs_once_and_records_progress_and_result(engine: Engine) -> None:
    seen: list[int] = []

    def count(ctx: JobContext) -> dict[str, Any]:
        for n in range(1, 4):
            ctx.progress(n, 3, checkpoint={"at": n})
        seen.append(ctx.job_id)
        return {"summary": "完成", "n": 3}

    job = jobs.submit(engine, "count", {"x": 1})
    with pytest.raises(Exception) as refused:
        jobs.submit(engine, "count")
    assert getattr(refused.value, "code", None) == "job_running"
    runner = _runner(engine, {"count": count}, "r1")
    assert runner.run_once() and not runner.run_once()
    done = jobs.get_job(engine, job.id or 0)
    assert (done.status, done.done, done.total, done.attempts) == ("done", 3, 3, 1)
    assert done.result == {"summary": "完成", "n": 3} and done.checkpoint == {"at": 3}
    assert seen == [job.id]


def test_a_failing_handler_records_its_reason(engine: Engine) -> None:
    def broken(ctx: JobContext) -> dict[str, Any]:
        raise ValueError("文件第 3 行格式错误")

    job = jobs.submit(engine, "broken")
    _runner(engine, {"broken": broken}, "r1").run_once()
    failed = jobs.get_job(engine, job.id or 0)
    assert failed.status == "failed" and failed.error == "ValueError: 文件第 3 行格式错误"
    assert failed.finished_at is not None


def test_a_lost_job_is_requeued_then_failed_after_its_last_attempt(engine: Engine) -> None:
    job = jobs.submit(engine, "slow", max_attempts=2)
    for attempt in (1, 2):
        claimed = jobs._claim(engine, f"dead-{attempt}", ["slow"])
        assert claimed is not None and claimed.attempts == attempt and claimed.heartbeat_at is not None
        with Session(engine) as s:  # the runner died: its heartbeat stopped long ago
            s.execute(update(Job).values(heartbeat_at=claimed.heartbeat_at - 2 * LEASE))
            s.commit()
        # the dead runner's late write is refused, not applied
        ctx = JobContext(engine, job.id or 0, attempt, f"dead-{attempt}", {}, {})
        assert jobs.recover_lost(engine, LEASE) == 1
        with pytest.raises(LeaseLostError):
            ctx.progress(99)
    final = jobs.get_job(engine, job.id or 0)
    assert final.status == "failed" and final.done == 0
    assert final.error is not None and "dead-2" in final.error and "最大尝试次数" in final.error


def test_unknown_jobs_are_not_found(engine: Engine) -> None:
    for job_id in ("nope", "0", "123456"):
        with pytest.raises(Exception) as missing:
            jobs.get_job(engine, job_id)
        assert getattr(missing.value, "code", None) == "not_found"


# -- a real worker process killed in the middle of a matching run --------------------------------


def _postings(world: World, kind: str, count: int, owner: str) -> None:
    lines = []
    for n in range(count):
        topic = ("锂电池正极材料", "盾构机刀盘耐磨", "玉米秸秆饲料化", "工业废水脱氮")[n % 4]
        body = "description" if kind == "need" else "abstract"
        lines.append(
            json.dumps(
                {
                    "title": f"{topic}技术{n}",
                    body: f"关于{topic}的第{n}项内容，涉及工艺改进。",
                    "field_code": "F02",
                },
                ensure_ascii=False,
            )
        )
    actor = actor_for_user(world.engine, world.user[owner])
    assert actor is not None
    result = import_postings(world.engine, world.index, actor, kind, "\n".join(lines).encode(), "jsonl")  # type: ignore[arg-type]
    assert result.created == count


def _wait(engine: Engine, job_id: int, done: Any, timeout: float = 300) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = jobs.get_job(engine, job_id)
        if done(job):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not get there: {jobs.get_job(engine, job_id)}")


@pytest.mark.postgres
def test_killing_the_worker_mid_run_resumes_without_storing_a_match_twice(
    postgres_engine: Engine, postgres_schema_url: str, tmp_path: Path
) -> None:
    from services.config import Settings

    settings = Settings(
        data_dir=tmp_path, database_url=postgres_schema_url, encoder="hashing", secret_key=SECRET
    )
    world = World(settings=settings, engine=postgres_engine, index=test_index())
    seed_people(postgres_engine, world)
    _postings(world, "need", 150, "enterprise")
    _postings(world, "achievement", 40, "institution")
    env = environment(postgres_schema_url, tmp_path / "data", TECHMATCH_JOB_LEASE_SECONDS="3")
    job = jobs.submit(postgres_engine, "matching", {"k": 5})
    assert job.id is not None

    first = start(["worker"], env, tmp_path / "worker-1.log")
    try:
        running = _wait(postgres_engine, job.id, lambda j: j.status == "running" and j.done >= 50)
        first.send_signal(signal.SIGKILL)  # no goodbye: the heartbeat just stops
        first.wait()
    finally:
        stop(first)
    killed_at = jobs.get_job(postgres_engine, job.id)
    assert killed_at.status == "running" and killed_at.attempts == 1
    assert killed_at.checkpoint["needs_done"] >= 50

    second = start(["worker"], env, tmp_path / "worker-2.log")
    try:
        finished = _wait(postgres_engine, job.id, lambda j: j.status in ("done", "failed"))
    finally:
        stop(second)
    assert finished.status == "done", finished.error
    assert finished.attempts == 2 and finished.error is not None and "中断" in finished.error
    assert finished.result is not None
    assert finished.result["resumed_from"] == killed_at.checkpoint["needs_done"] >= running.done
    with Session(postgres_engine) as s:
        pairs = s.exec(select(func.count()).select_from(Match)).one()
        distinct = s.exec(
            select(func.count()).select_from(
                select(Match.need_id, Match.achievement_id).distinct().subquery()
            )
        ).one()
        needs_matched = s.exec(select(func.count(func.distinct(Match.need_id)))).one()
    assert pairs == distinct  # no pair stored twice
    assert needs_matched == 150  # and every need's run happened, before or after the kill
