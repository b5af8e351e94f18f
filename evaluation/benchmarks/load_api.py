"""HTTP load test of the REST API against a real server process.

Usage (from the repository root)::

    python -m evaluation.benchmarks.load_api --quick          # ~1 minute
    python -m evaluation.benchmarks.load_api                  # 10^4 postings, more requests

What it does: makes a temporary data directory with a migrated SQLite database holding 10^4 postings
(realistic variants of the shipped demo corpus: sentences reshuffled and recombined within a field,
regions, budgets and prices varied, seeded), starts ``uvicorn`` on 127.0.0.1 (one worker, the index
is rebuilt at start), and drives it with ``wrk`` (Debian package; a Lua script caps every run by a
request count as well as by ``-d`` time) or, when wrk is missing, a Python asyncio + httpx generator.
Scenarios: health (the trivial baseline), listing needs, creating a need (with its index update) and
fetching suggestions. It reports throughput and p50/p99 latency, each as a ratio to health measured in
the same run, and checks that no response was an error and that no write was lost (needs in the
database after the run == needs before + 201 responses, and the index holds them too).
Exit status 1 when a check fails. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlmodel import Session, col, func, select

from api.auth import create_access_token
from data.db import create_db_engine
from data.demo import read_demo
from data.migrate import upgrade
from models import Achievement, IPType, Maturity, Need, Organization, OrgKind, Role, User
from services.config import Settings

SECRET = "load-test-secret-key-0123456789abcdef"
REGIONS = ("410100", "410200", "410300", "410700", "411000", "411700")


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    paths: list[str]
    token: str
    bodies: list[str] | None = None


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    seconds: float
    ok: int
    errors: int
    created: int
    p50_ms: float
    p99_ms: float
    created_ids: tuple[int, ...] = ()

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


# -- data ---------------------------------------------------------------------------------------


def _variants(rows: list[dict[str, Any]], n: int, text_key: str, rng: random.Random) -> list[dict[str, Any]]:
    """n postings made from the demo rows: each keeps a row's field and title stem, with its sentences
    reshuffled and one sentence borrowed from another posting of the same field."""
    by_field: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_field.setdefault(r["field_code"], []).append(r)
    out = []
    for i in range(n):
        base = rows[i % len(rows)]
        sentences = [s for s in base[text_key].split("。") if s]
        rng.shuffle(sentences)
        donor = rng.choice(by_field[base["field_code"]])
        sentences.append(rng.choice([s for s in donor[text_key].split("。") if s] or ["补充说明"]))
        title = (
            base["title"]
            if i < len(rows)
            else f"{base['title']}（{rng.choice(['二期', '扩产', '升级', '配套', '示范'])}{i}）"
        )
        out.append(
            {
                **base,
                "title": title[:200],
                text_key: "。".join(sentences) + "。",
                "region_code": rng.choice(REGIONS),
            }
        )
    return out


def _seed_parties(session: Session) -> dict[str, int]:
    """An enterprise (posts needs), a university (posts achievements), an admin; returns user ids."""
    orgs = {
        "ent": Organization(
            name="负载测试企业", kind=OrgKind.ENTERPRISE, uscc="91410100LOADTEST01", region_code="410100"
        ),
        "uni": Organization(
            name="负载测试大学", kind=OrgKind.UNIVERSITY, uscc="12410100LOADTEST02", region_code="410100"
        ),
        "center": Organization(
            name="负载测试中心", kind=OrgKind.TT_AGENCY, uscc="12410100LOADTEST03", region_code="410100"
        ),
    }
    session.add_all(orgs.values())
    session.flush()
    people = {
        "enterprise": ("ent", Role.ENTERPRISE),
        "institution": ("uni", Role.INSTITUTION),
        "admin": ("center", Role.ADMIN),
    }
    users = {
        k: User(username=k, display_name=k, role=r, org_id=orgs[o].id or 0, password_hash="!")
        for k, (o, r) in people.items()
    }
    session.add_all(users.values())
    session.flush()
    return {
        "org_ent": orgs["ent"].id or 0,
        "org_uni": orgs["uni"].id or 0,
        **{k: u.id or 0 for k, u in users.items()},
    }


def prepare(data_dir: Path, postings: int) -> dict[str, int]:
    """Migrate a fresh SQLite database and store the postings (the server indexes them at start)."""
    engine = create_db_engine(f"sqlite:///{data_dir / 'techmatch.db'}")
    upgrade(engine)
    rng = random.Random(20260301)
    with Session(engine) as session:
        ids = _seed_parties(session)
        for row in _variants(read_demo("needs"), postings // 2, "description", rng):
            session.add(
                Need(
                    org_id=ids["org_ent"],
                    title=row["title"],
                    description=row["description"],
                    field_code=row["field_code"],
                    keywords=row["keywords"][:20],
                    region_code=row["region_code"],
                    budget_max=Decimal(rng.randrange(10, 900) * 10_000),
                    modes=row["modes"],
                )
            )
        for row in _variants(read_demo("achievements"), postings - postings // 2, "abstract", rng):
            session.add(
                Achievement(
                    org_id=ids["org_uni"],
                    title=row["title"],
                    abstract=row["abstract"],
                    field_code=row["field_code"],
                    keywords=row["keywords"][:20],
                    region_code=row["region_code"],
                    maturity=Maturity(row["maturity"]),
                    ip_type=IPType(row["ip_type"]) if row.get("ip_type") else None,
                    asking_price=Decimal(rng.randrange(10, 900) * 10_000),
                    modes=row["modes"],
                )
            )
        session.commit()
    engine.dispose()
    return ids


def count_needs(data_dir: Path, ids: tuple[int, ...] = ()) -> tuple[int, int]:
    """All needs in the database, and how many of the given ids are among them."""
    engine = create_db_engine(f"sqlite:///{data_dir / 'techmatch.db'}")
    with Session(engine) as session:
        total = int(session.exec(select(func.count()).select_from(Need)).one())
        found = sum(
            int(
                session.exec(
                    select(func.count()).select_from(Need).where(col(Need.id).in_(ids[i : i + 500]))
                ).one()
            )
            for i in range(0, len(ids), 500)
        )
    engine.dispose()
    return total, found


# -- server -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path, port: int, encoder: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TECHMATCH_DATA_DIR": str(data_dir),
        "TECHMATCH_ENCODER": encoder,
        "TECHMATCH_SECRET_KEY": SECRET,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - the server process owns it
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(base: str, server: subprocess.Popen[bytes], timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited during start-up; see server.log")
        try:
            r = httpx.get(f"{base}/api/v1/health", timeout=2)
            if r.status_code == 200:
                return dict(r.json())
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"server not ready after {timeout} s")


# -- load generators ----------------------------------------------------------------------------

_LUA = r"""
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_usec; } timeval; int gettimeofday(timeval *tv, void *tz); ]]
local tv = ffi.new("timeval")
local function now_us() ffi.C.gettimeofday(tv, nil); return tonumber(tv.tv_sec) * 1000000 + tonumber(tv.tv_usec) end
local paths = {PATHS}
local bodies = {BODIES}
local method = "{METHOD}"
local limit = {LIMIT}
local budget_us = {BUDGET} * 1000000
local threads = {}
local next_id = 0
wrk.headers["Authorization"] = "Bearer {TOKEN}"
wrk.headers["Content-Type"] = "application/json"
function setup(thread) next_id = next_id + 1; thread:set("tid", next_id); table.insert(threads, thread) end
function init(args) n = 0; sent = 0; ok = 0; bad = 0; created = 0; first = 0; last = 0; ids = ""; filling = false end
-- Writes stop at the request cap or the time budget; cheap health "fillers" keep the connections busy
-- until every write sent has been answered, then the thread stops: no write is ever left in flight.
function request()
  if first == 0 then first = now_us() end
  if #bodies > 0 then
    filling = filling or sent >= limit or now_us() - first > budget_us
    if filling then return wrk.format("GET", "/api/v1/health") end
    sent = sent + 1
    local b = bodies[(sent + tid) % #bodies + 1]
    return wrk.format(method, paths[1], nil, b[1] .. tid .. "-" .. sent .. b[2])
  end
  sent = sent + 1
  return wrk.format(method, paths[(sent + tid * 7919) % #paths + 1])
end
function response(status, headers, body)
  if #bodies > 0 and status == 200 then  -- a filler's answer
    if n >= sent then wrk.thread:stop() end
    return
  end
  n = n + 1
  last = now_us()
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
  if status == 201 then created = created + 1; ids = ids .. (body:match('"id":%s*(%d+)') or "-1") .. "," end
  if n >= limit or (filling and n >= sent) then wrk.thread:stop() end
end
function done(summary, latency, requests)
  local o, b, c, t0, t1, all = 0, 0, 0, math.huge, 0, ""
  for _, t in ipairs(threads) do
    o = o + t:get("ok"); b = b + t:get("bad"); c = c + t:get("created"); all = all .. t:get("ids")
    t0 = math.min(t0, t:get("first")); t1 = math.max(t1, t:get("last"))
  end
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %d, "us": %.0f, "ok": %d, "bad": %d, "created": %d, "p50": %d, "p99": %d, "sock": %d, "ids": [%s0]}\n',
    summary.requests, t1 - t0, o, b, c, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, all))
end
"""


def _lua_list(items: list[str]) -> str:
    return "{" + ", ".join(json.dumps(i, ensure_ascii=False) for i in items) + "}"


def run_wrk(base: str, s: Scenario, requests: int, seconds: int, connections: int, workdir: Path) -> Result:
    threads = 2
    bodies = (
        "{"
        + ", ".join(
            f"{{{json.dumps(a, ensure_ascii=False)}, {json.dumps(b, ensure_ascii=False)}}}"
            for a, b in (x.split("@@", 1) for x in s.bodies or [])
        )
        + "}"
    )
    script = (
        _LUA.replace("{PATHS}", _lua_list(s.paths))
        .replace("{BODIES}", bodies)
        .replace("{METHOD}", s.method)
        .replace("{LIMIT}", str(max(requests // threads, 1)))
        .replace("{TOKEN}", s.token)
        .replace("{BUDGET}", str(seconds))
    )
    path = workdir / f"{s.name}.lua"
    path.write_text(script, encoding="utf-8")
    hard_stop = seconds + 30 if s.bodies else seconds  # writes drain within the margin
    cmd = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{hard_stop}s",
        "--timeout",
        "10s",
        "-s",
        str(path),
        base,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=hard_stop + 60, check=True).stdout
    raw = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
    return Result(
        s.name,
        raw["ok"] + raw["bad"],
        raw["us"] / 1e6,
        raw["ok"],
        raw["bad"] + raw["sock"],
        raw["created"],
        raw["p50"] / 1000,
        raw["p99"] / 1000,
        tuple(i for i in raw["ids"] if i != 0),
    )


async def _httpx_run(base: str, s: Scenario, requests: int, seconds: int, connections: int) -> Result:
    latencies: list[float] = []
    counts = {"ok": 0, "bad": 0, "created": 0}
    created_ids: list[int] = []
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {s.token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as client:

        async def worker(w: int) -> None:
            for i in range(w, requests, connections):
                if time.monotonic() > deadline:
                    return
                body = None
                if s.bodies:
                    a, b = s.bodies[i % len(s.bodies)].split("@@", 1)
                    body = f"{a}{w}-{i}{b}".encode()
                t0 = time.perf_counter()
                try:
                    r = await client.request(s.method, s.paths[i % len(s.paths)], content=body)
                    status = r.status_code
                except httpx.HTTPError:
                    status = 0
                latencies.append(time.perf_counter() - t0)
                counts["ok" if 200 <= status < 300 else "bad"] += 1
                if status == 201:
                    counts["created"] += 1
                    created_ids.append(int(r.json().get("id", -1)))

        start = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(connections)))
        elapsed = time.perf_counter() - start
    p50, p99 = np.percentile(np.array(latencies) * 1000, [50, 99]) if latencies else (0.0, 0.0)
    return Result(
        s.name,
        len(latencies),
        elapsed,
        counts["ok"],
        counts["bad"],
        counts["created"],
        float(p50),
        float(p99),
        tuple(created_ids),
    )


# -- the run ------------------------------------------------------------------------------------


def scenarios(ids: dict[str, int], settings: Settings, need_ids: list[int]) -> list[Scenario]:
    def token(who: str) -> str:
        return create_access_token(settings, ids[who])[0]

    demo = read_demo("needs")[:50]
    bodies = [
        json.dumps(
            {
                "title": f"{d['title'][:150]} #",
                "description": d["description"],
                "field_code": d["field_code"],
                "keywords": d["keywords"][:20],
                "modes": d["modes"],
            },
            ensure_ascii=False,
        ).replace(' #"', ' #@@"', 1)
        for d in demo
    ]
    return [
        Scenario("health", "GET", ["/api/v1/health"], token("admin")),
        Scenario(
            "list needs",
            "GET",
            [f"/api/v1/needs?limit=20&offset={o}&sort=-created_at" for o in range(0, 2000, 20)],
            token("enterprise"),
        ),
        Scenario("create need", "POST", ["/api/v1/needs"], token("enterprise"), bodies),
        Scenario(
            "suggestions", "GET", [f"/api/v1/needs/{i}/suggestions?k=10" for i in need_ids], token("admin")
        ),
    ]


def report(results: list[Result], tool: str, postings: int, checks: dict[str, bool]) -> bool:
    base = next(r for r in results if r.name == "health")
    print(f"\nload tool: {tool}; postings loaded: {postings}; server: uvicorn, 1 worker, 127.0.0.1\n")
    print(
        "| scenario | requests | req/s | p50 ms | p99 ms | errors | req/s ÷ health | p50 ÷ health | p99 ÷ health |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.name} | {r.requests} | {r.rps:.1f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors} | "
            f"{r.rps / base.rps:.2f} | {r.p50_ms / base.p50_ms:.1f} | {r.p99_ms / base.p99_ms:.1f} |"
        )
    checks = {"no error responses": sum(r.errors for r in results) == 0, **checks}
    print()
    for name, passed in checks.items():
        print(f"{'PASS' if passed else 'FAIL'}  {name}")
    return all(checks.values())


@dataclass(frozen=True)
class Plan:
    postings: int
    requests: int
    seconds: int
    connections: int
    encoder: str
    tool: str


def measure(plan: Plan, workdir: Path) -> bool:
    """Load the data, start the server, run every scenario, check writes; True when all checks pass."""
    t0 = time.perf_counter()
    ids = prepare(workdir, plan.postings)
    print(f"prepared {plan.postings} postings in {time.perf_counter() - t0:.1f} s; starting the server…")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(workdir, port, plan.encoder)
    try:
        t0 = time.perf_counter()
        health = wait_ready(base, server, timeout=600)
        print(
            f"server ready in {time.perf_counter() - t0:.1f} s (index built: {health['indexed_needs']} needs, "
            f"{health['indexed_achievements']} achievements, encoder {health['encoder']})"
        )
        before, _ = count_needs(workdir)
        results = []
        for s in scenarios(
            ids, Settings(data_dir=workdir, secret_key=SECRET), list(range(1, min(before, 500) + 1))
        ):
            if plan.tool == "wrk":
                results.append(run_wrk(base, s, plan.requests, plan.seconds, plan.connections, workdir))
            else:
                results.append(
                    asyncio.run(_httpx_run(base, s, plan.requests, plan.seconds, plan.connections))
                )
        acknowledged = tuple(i for r in results for i in r.created_ids)
        after, durable = count_needs(workdir, acknowledged)
        indexed = httpx.get(f"{base}/api/v1/health", timeout=10).json()["indexed_needs"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    return report(
        results,
        plan.tool,
        plan.postings,
        {
            f"no lost writes: new rows in the database ({after - before}) == 201 responses ({len(acknowledged)})": after
            - before
            == len(acknowledged),
            f"every acknowledged need id is stored ({durable}/{len(acknowledged)})": durable
            == len(acknowledged),
            f"the index holds every need ({indexed}/{after})": indexed == after,
        },
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer postings and requests (about a minute)")
    p.add_argument("--postings", type=int, default=None)
    p.add_argument("--requests", type=int, default=None, help="cap per scenario")
    p.add_argument("--seconds", type=int, default=None, help="time cap per scenario")
    p.add_argument("--connections", type=int, default=8)
    p.add_argument(
        "--encoder", default="hashing", help="hashing (default here) or the engine's default encoder name"
    )
    p.add_argument("--tool", choices=("auto", "wrk", "httpx"), default="auto")
    args = p.parse_args(argv)
    plan = Plan(
        postings=args.postings or (2_000 if args.quick else 10_000),
        requests=args.requests or (400 if args.quick else 3_000),
        seconds=args.seconds or (10 if args.quick else 30),
        connections=args.connections,
        encoder=args.encoder,
        tool="wrk"
        if args.tool == "wrk" or (args.tool == "auto" and shutil.which("wrk"))
        else "httpx (asyncio)",
    )
    workdir = Path(tempfile.mkdtemp(prefix="techmatch-load-"))
    try:
        return 0 if measure(plan, workdir) else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
