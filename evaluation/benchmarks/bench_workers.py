"""Suggestions throughput of `techmatch serve` with 1 and with 2 worker processes, in the same run.

    python -m evaluation.benchmarks.bench_workers [--postings 10000] [--requests 3000] [--seconds 60]

One SQLite database with the load test's postings (evaluation/benchmarks/load_api.py `prepare`), then
for each worker count a fresh `techmatch serve --workers N` on 127.0.0.1 (every worker rebuilds or
loads the index and follows the change feed) driven by wrk on GET /needs/{id}/suggestions. Prints
requests/s and p50/p99 for each, and the ratio 2 workers / 1 worker. On a 2-core machine the ceiling
is 2×, less whatever wrk itself and the other load take; print the load average beside it.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evaluation.benchmarks.load_api import (
    SECRET,
    free_port,
    prepare,
    run_wrk,
    scenarios,
    wait_ready,
)
from services.config import Settings


def _cpu() -> str:
    try:
        info = Path("/proc/cpuinfo").read_text()
        model = next(
            line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")
        )
        flags = next(line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags"))
        simd = " ".join(f for f in flags if f.startswith(("avx", "sse4", "fma", "amx")))
        return f"{model} ({simd})"
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def serve(workdir: Path, port: int, workers: int, encoder: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TECHMATCH_DATA_DIR": str(workdir),
        "TECHMATCH_ENCODER": encoder,
        "TECHMATCH_SECRET_KEY": SECRET,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TECHMATCH_LOG_LEVEL": "WARNING",
    }
    cmd = [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--workers", str(workers)]
    log = open(workdir / f"serve-{workers}.log", "wb")  # noqa: SIM115 - the server process owns it
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--encoder", default="hashing")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="tm-bench-workers-"))
    ids = prepare(workdir, args.postings)
    print(f"{_cpu()}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    print(f"{args.postings} postings, encoder {args.encoder}, wrk {args.connections} connections\n")
    print("| workers | suggestions req/s | p50 ms | p99 ms | errors | load avg before |")
    print("|---:|---:|---:|---:|---:|---:|")
    rates: dict[int, float] = {}
    for workers in (1, 2):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = serve(workdir, port, workers, args.encoder)
        try:
            wait_ready(base, server, timeout=900)
            time.sleep(2.0 * workers)  # let every worker finish loading before the clock starts
            suggestions = scenarios(ids, Settings(data_dir=workdir, secret_key=SECRET), list(range(1, 501)))[
                -1
            ]
            load = os.getloadavg()[0]
            result = run_wrk(base, suggestions, args.requests, args.seconds, args.connections, workdir)
        finally:
            server.terminate()
            server.wait(timeout=60)
        rates[workers] = result.rps
        print(
            f"| {workers} | {result.rps:.1f} | {result.p50_ms:.1f} | {result.p99_ms:.1f} | "
            f"{result.errors} | {load:.1f} |",
            flush=True,
        )
    print(f"\nratio 2 workers / 1 worker: {rates[2] / rates[1]:.2f}×")


if __name__ == "__main__":
    main()
