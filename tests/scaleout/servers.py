"""Real `techmatch` processes for the scale-out tests: API servers and job workers on free ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

SECRET = "test-secret-key-for-scale-out-tests-0123456789"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TECHMATCH_DATABASE_URL=database_url,
        TECHMATCH_DATA_DIR=str(data_dir),
        TECHMATCH_ENCODER="hashing",
        TECHMATCH_INDEX_BACKEND="faiss-flat",
        TECHMATCH_SECRET_KEY=SECRET,
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    env.update(extra)
    return env


def start(args: Sequence[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", *args], env=env, stdout=out, stderr=subprocess.STDOUT
    )


def wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"server at {base} not healthy in {timeout} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def servers(workers: Sequence[int], env: dict[str, str], logs: Path) -> Iterator[list[str]]:
    """One `techmatch serve --workers N` process per entry, each on a free port; yields their URLs."""
    started: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []
    try:
        for n, count in enumerate(workers):
            port = free_port()
            log = logs / f"serve-{n}.log"
            process = start(["serve", "--port", str(port), "--workers", str(count)], env, log)
            started.append(process)
            bases.append(f"http://127.0.0.1:{port}")
            wait_healthy(bases[-1], process, log)
        yield bases
    finally:
        for process in started:
            stop(process)
