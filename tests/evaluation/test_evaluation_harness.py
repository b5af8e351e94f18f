"""Harness and CLI on a tiny dataset with the hashing encoder (fast, offline)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from evaluation.cli import app, evaluate_cli, parse_encoders
from evaluation.datasets import load_dataset
from evaluation.harness import HarnessConfig, plan_systems, run_evaluation
from evaluation.metrics import METRICS

DOCS = {
    "d-solar": "钙钛矿太阳能电池 光电转换效率 薄膜 沉积工艺",
    "d-battery": "锂离子电池 正极材料 循环寿命 快充",
    "d-gear": "gear bearing transmission for planetary rovers with low friction",
    "d-weld": "friction stir welding of aluminium alloy panels for aircraft",
    "d-water": "污水处理 膜生物反应器 脱氮除磷",
    "d-crop": "水稻 抗旱 基因编辑 育种",
    "d-sensor": "fiber optic strain sensor for structural health monitoring",
    "d-drone": "无人机 巡检 电力线路 图像识别",
}
QUERIES = {
    "q1": "太阳能电池 效率",
    "q2": "电池 快充 材料",
    "q3": "planetary gear bearing",
    "q4": "welding aluminium aircraft",
    "q5": "污水 脱氮",
    "q6": "抗旱 水稻",
    "q7": "strain sensor monitoring",
    "q8": "无人机 电力 巡检",
}
QRELS = {
    "q1": "d-solar",
    "q2": "d-battery",
    "q3": "d-gear",
    "q4": "d-weld",
    "q5": "d-water",
    "q6": "d-crop",
    "q7": "d-sensor",
    "q8": "d-drone",
}


def write_dataset(root: Path, qrels: dict[str, str], *, header: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "corpus.jsonl").write_text(
        "".join(json.dumps({"id": k, "text": v}, ensure_ascii=False) + "\n" for k, v in DOCS.items()), "utf-8"
    )
    (root / "queries.jsonl").write_text(
        "".join(json.dumps({"id": k, "text": v}, ensure_ascii=False) + "\n" for k, v in QUERIES.items()),
        "utf-8",
    )
    lines = (["query_id\tdoc_id\trelevance"] if header else []) + [f"{q}\t{d}\t1" for q, d in qrels.items()]
    (root / "qrels.tsv").write_text("\n".join(lines) + "\n", "utf-8")
    return root


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "tiny", QRELS)


def hashing_config(tmp_path: Path) -> HarnessConfig:
    return HarnessConfig(engine_encoder="hashing", dense_baselines=("hashing",), cache_dir=tmp_path / "cache")


def test_plan_puts_engine_default_first_then_bm25_then_encoders() -> None:
    specs = plan_systems(HarnessConfig(engine_encoder="hashing", dense_baselines=("hashing", "use-m3")))
    assert [s.name for s in specs] == ["techmatch", "bm25", "hashing", "use-m3"]
    assert specs[0].overrides == {}  # the engine's own defaults, untouched
    assert specs[1].overrides["dense_weight"] == 0.0 and specs[2].overrides["lexical_weight"] == 0.0
    with pytest.raises(ValueError, match="reserved"):
        plan_systems(HarnessConfig(dense_baselines=("bm25",)))


def test_run_scores_every_system_on_the_tiny_set(tiny: Path, tmp_path: Path) -> None:
    run = run_evaluation(load_dataset(tiny), hashing_config(tmp_path))
    assert list(run.systems) == ["techmatch", "bm25", "hashing"]
    bm25 = run.systems["bm25"].per_query.mean()
    assert bm25["Recall@1"] == pytest.approx(1.0)  # the queries share distinctive words with their doc
    for system in run.systems.values():
        assert set(system.rankings) == set(QUERIES)
        assert all(len(r) == len(set(r)) for r in system.rankings.values())


def test_shuffled_qrels_give_identical_rankings(tmp_path: Path) -> None:
    docs = list(QRELS.values())
    random.Random(5).shuffle(docs)
    shuffled = dict(zip(QRELS, docs, strict=True))
    assert shuffled != QRELS
    real = run_evaluation(load_dataset(write_dataset(tmp_path / "a", QRELS)), hashing_config(tmp_path))
    fake = run_evaluation(
        load_dataset(write_dataset(tmp_path / "b", shuffled, header=False)), hashing_config(tmp_path)
    )
    for name in real.systems:
        assert real.systems[name].rankings == fake.systems[name].rankings
    assert real.systems["bm25"].per_query.mean() != fake.systems["bm25"].per_query.mean()


def test_json_prints_exactly_one_object(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = evaluate_cli(
        tiny,
        encoder=["hashing"],
        format="json",
        engine_encoder="hashing",
        cache_dir=tmp_path / "cache",
        bootstrap=200,
    )
    captured = capsys.readouterr()
    assert code == 0
    summary = json.loads(captured.out)  # fails on any extra output
    assert captured.out.count("\n") == 1
    assert summary["dataset"] == "tiny" and summary["queries"] == 8 and summary["documents"] == 8
    assert set(summary["systems"]) == {"techmatch", "bm25", "hashing"}
    for values in summary["systems"].values():
        assert set(values) == set(METRICS) and all(isinstance(v, float) for v in values.values())
    assert set(summary["vs_bm25"]) == {"techmatch", "hashing"}


def test_table_and_out_files(tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert (
        evaluate_cli(
            tiny,
            encoder=["hashing"],
            format="table",
            out=out,
            engine_encoder="hashing",
            cache_dir=None,
            bootstrap=100,
        )
        == 0
    )
    table = capsys.readouterr().out
    assert "nDCG@10" in table and "bm25" in table and "techmatch" in table
    records = [json.loads(line) for line in (out / "per_query.jsonl").read_text("utf-8").splitlines()]
    assert len(records) == 8 * 3
    assert {"query_id", "system", "ranking", "metrics"} <= set(records[0]) and len(
        records[0]["ranking"]
    ) <= 10
    assert json.loads((out / "summary.json").read_text("utf-8"))["queries"] == 8
    assert (out / "summary.md").read_text("utf-8").startswith("| set | system |")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"dataset": Path("/nonexistent/set")}, "not found"),
        ({"encoder": ["no-such-encoder"]}, "unknown encoder"),
        ({"format": "xml"}, "unknown format"),
        ({"qrels": Path("missing.tsv")}, "missing.tsv"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tiny: Path, capsys: pytest.CaptureFixture[str], args: dict[str, object], message: str
) -> None:
    kwargs: dict[str, object] = {
        "dataset": tiny,
        "engine_encoder": "hashing",
        "encoder": ["hashing"],
        "cache_dir": None,
        **args,
    }
    assert evaluate_cli(**kwargs) == 2  # type: ignore[arg-type]
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err


def test_bad_qrels_line_exits_2(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tiny / "qrels.tsv").write_text("q1\td-solar\t1\nq2\td-battery\n", "utf-8")
    assert evaluate_cli(tiny, engine_encoder="hashing", encoder=["none"], cache_dir=None) == 2
    assert "qrels.tsv:2" in capsys.readouterr().err


def test_parse_encoders() -> None:
    assert parse_encoders(None) is None
    assert parse_encoders(["a,b", "a"]) == ("a", "b")
    assert parse_encoders(["none"]) == ()


def test_typer_app_mounts_as_a_subcommand(tiny: Path, tmp_path: Path) -> None:
    root = typer.Typer()

    @root.command()
    def version() -> None:
        """A second command, so that the root is a group as in the real CLI."""

    root.add_typer(app, name="evaluate")
    result = CliRunner().invoke(
        root,
        [
            "evaluate",
            "--dataset",
            str(tiny),
            "--engine-encoder",
            "hashing",
            "--encoder",
            "none",
            "--format",
            "json",
            "--no-cache",
        ],
    )
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)["systems"]) == {"techmatch", "bm25"}
    bad = CliRunner().invoke(root, ["evaluate", "--dataset", str(tmp_path / "missing"), "--no-cache"])
    assert bad.exit_code == 2 and "not found" in bad.stderr
