"""Quality report and scale-set builder on tiny data (hashing encoder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.datasets import load_dataset
from evaluation.harness import HarnessConfig
from evaluation.report import Slice, evaluate_slices, main, render_markdown
from evaluation.results import format_table
from evaluation.scale import build_scale_set, split_in_two


def make_set(root: Path) -> Path:
    docs = {
        "a": "太阳能电池。光电转换效率很高。",
        "b": "gear bearing for rovers. Low friction.",
        "c": "污水处理。脱氮除磷。",
    }
    queries = {"1": "太阳能电池", "2": "gear bearing", "3": "污水 脱氮"}
    root.mkdir(parents=True)
    (root / "corpus.jsonl").write_text(
        "".join(json.dumps({"id": k, "text": v}, ensure_ascii=False) + "\n" for k, v in docs.items()), "utf-8"
    )
    for suffix in ("", "_kw"):
        (root / f"queries{suffix}.jsonl").write_text(
            "".join(json.dumps({"id": k, "text": v}, ensure_ascii=False) + "\n" for k, v in queries.items()),
            "utf-8",
        )
        (root / f"qrels{suffix}.tsv").write_text(
            "query_id\tdoc_id\trelevance\n1\ta\t1\n2\tb\t1\n3\tc\t2\n", "utf-8"
        )
    return root


def test_report_covers_present_slices_and_skips_missing(tmp_path: Path) -> None:
    make_set(tmp_path / "data" / "tiny")
    slices = (
        Slice("tiny", "tiny"),
        Slice("tiny kw", "tiny", "queries_kw.jsonl", "qrels_kw.tsv"),
        Slice("absent", "absent"),
    )
    config = HarnessConfig(engine_encoder="hashing", dense_baselines=(), cache_dir=None)
    results = evaluate_slices(tmp_path / "data", config, slices)
    assert [item.label for item, _ in results] == ["tiny", "tiny kw"]
    markdown = render_markdown(results, ["techmatch", "bm25"])
    rows = [line for line in markdown.splitlines() if line.startswith("| tiny")]
    assert len(rows) == 4 and all(row.count("|") == 9 for row in rows)
    assert "encoder `hashing`" in markdown
    assert render_markdown([], ["techmatch"]).startswith("No evaluation set")
    table = format_table(results[0][1])
    lines = table.splitlines()
    assert len({len(line.rstrip()) for line in lines[1:3]}) == 1  # header and rule line up


def test_split_in_two_prefers_a_sentence_boundary() -> None:
    assert split_in_two("First one. Second one. Third.") == ("First one.", "Second one. Third.")
    assert split_in_two("甲乙丙。丁戊己。") == ("甲乙丙。", "丁戊己。")
    assert split_in_two("x") == ("x", "x")


def test_scale_set_has_two_relevant_passages_per_document(tmp_path: Path) -> None:
    data = tmp_path / "data"
    make_set(data / "csl_dev_zh")
    out = build_scale_set(data, tmp_path / "scale", n_docs=100, n_queries=100)
    dataset = load_dataset(out)
    assert dataset.n_documents == 6 and len(dataset.queries) == 3
    assert all(len(judged) == 2 for judged in dataset.qrels.values())


@pytest.mark.slow
def test_bm25_through_the_engine_reproduces_the_published_csl_figure() -> None:
    root = Path("../shared/data/csl_dev_zh")
    if not root.is_dir():
        pytest.skip("shared data not present")
    config = HarnessConfig(engine_encoder="hashing", dense_baselines=(), cache_dir=None)
    results = evaluate_slices(root.parent, config, (Slice("csl titles", "csl_dev_zh"),))
    bm25 = results[0][1]["systems"]["bm25"]
    assert bm25["Recall@1"] > 0.95  # shared/data/README.md: BM25 R@1 ~ 0.97 on csl_dev_zh titles
    assert bm25["Recall@100"] >= bm25["Recall@10"] >= bm25["Recall@1"]


def test_report_main_writes_the_markdown_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_set(tmp_path / "data" / "csl_dev_zh")
    out = tmp_path / "results" / "quality.md"
    args = ["--data-dir", str(tmp_path / "data"), "--out", str(out), "--engine-encoder", "hashing"]
    assert main([*args, "--only", "csl_dev_zh", "--cache-dir", str(tmp_path / "cache")]) == 0
    written = out.read_text("utf-8")
    assert written == capsys.readouterr().out
    assert "| csl_dev_zh titles (3 q / 3 docs) | bm25 |" in written
