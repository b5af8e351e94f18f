"""The `techmatch` command as a user meets it: help everywhere, one readable line on refusal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli import extensions
from cli.main import app

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TECHMATCH_DATA_DIR": str(data_dir), "TECHMATCH_ENCODER": "hashing"}
    env.pop("TECHMATCH_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _commands(group: typer.Typer, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for command in group.registered_commands:
        found.append(
            (
                *prefix,
                command.name or (command.callback.__name__.replace("_", "-") if command.callback else ""),
            )
        )
    for sub in group.registered_groups:
        if sub.typer_instance is not None and sub.name:
            found.extend(_commands(sub.typer_instance, (*prefix, sub.name)))
    return found


def test_every_command_has_help() -> None:
    extensions.register(app)
    runner = CliRunner()
    commands = _commands(app)
    assert ("db", "upgrade") in commands and ("demo", "load") in commands and ("reindex",) in commands
    for path in commands:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output


def test_unmigrated_database_is_refused_with_one_line(tmp_path: Path) -> None:
    result = _run("reindex", data_dir=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: database is not initialised: run `techmatch db upgrade`"


@pytest.mark.slow
def test_upgrade_demo_and_reindex(tmp_path: Path) -> None:
    assert _run("db", "upgrade", data_dir=tmp_path).stdout.startswith("database at revision")
    loaded = _run("demo", "load", "--if-empty", data_dir=tmp_path)
    assert "200 needs, 300 achievements" in loaded.stdout, loaded.stderr
    again = _run("demo", "load", "--if-empty", data_dir=tmp_path)
    assert again.returncode == 0 and "not loaded" in again.stdout
    indexed = _run("reindex", data_dir=tmp_path)
    assert "210 needs, 308 achievements" in indexed.stdout, indexed.stderr  # with 10 scenes, 8 solutions
