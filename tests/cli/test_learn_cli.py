"""`techmatch learn`: refusals are one readable line with an exit code, nothing half-written."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli import extensions
from cli.main import app
from learning.compare import FUSED, ComparisonRow
from learning.registry import ModelRegistry


def _row(label: str, delta: float) -> ComparisonRow:
    return ComparisonRow(
        label, FUSED, 50, 0.8, (0.7, 0.9), 0.8 + delta, (0.7, 0.9), delta, (delta - 0.01, delta + 0.01)
    )


def test_promote_refuses_worse_and_rollback_needs_history(tmp_path: Path) -> None:
    extensions.register(app)
    runner = CliRunner()
    registry = ModelRegistry(tmp_path / "reg")
    registry.register(
        "worse",
        "encoder",
        tmp_path,
        base="e5-small-st",
        evaluation=[_row("csl held back", -0.02), _row("nasa", 0.0)],
        info={},
    )
    refused = runner.invoke(app, ["learn", "promote", "worse", "--registry", str(tmp_path / "reg")])
    assert refused.exit_code == 1 and "refused" in refused.output and registry.current("encoder") is None
    unknown = runner.invoke(app, ["learn", "promote", "nope", "--registry", str(tmp_path / "reg")])
    assert unknown.exit_code == 2 and "未登记" in unknown.output
    nothing = runner.invoke(app, ["learn", "rollback", "--registry", str(tmp_path / "reg")])
    assert nothing.exit_code == 2 and "没有可回退" in nothing.output
    listed = runner.invoke(app, ["learn", "models", "--registry", str(tmp_path / "reg")])
    assert listed.exit_code == 0 and "worse" in listed.output


def test_learn_encoder_refuses_a_directory_that_is_not_a_set(tmp_path: Path) -> None:
    extensions.register(app)
    result = CliRunner().invoke(
        app, ["learn", "encoder", "--pairs", str(tmp_path), "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 2 and "not a BEIR-layout set" in result.output
    assert not (tmp_path / "m").exists()
