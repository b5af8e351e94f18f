"""Dataset loading: BEIR layout, header detection, slices, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.datasets import DatasetError, load_dataset, load_qrels


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def beir_dir(tmp_path: Path) -> Path:
    write_jsonl(
        tmp_path / "queries.jsonl",
        [{"id": "q1", "text": "太阳能电池"}, {"id": 2, "text": "gear"}, {"id": "q3", "text": "unjudged"}],
    )
    write_jsonl(
        tmp_path / "corpus.jsonl",
        [{"id": "d1", "text": "光伏", "title": "太阳能"}, {"id": "d2", "text": "gears and bearings"}],
    )
    (tmp_path / "qrels.tsv").write_text(
        "query_id\tdoc_id\trelevance\nq1\td1\t1\n2\td2\t2\n", encoding="utf-8"
    )
    return tmp_path


def test_header_and_no_header_qrels_read_the_same(tmp_path: Path) -> None:
    (tmp_path / "h.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t0\n", encoding="utf-8")
    (tmp_path / "n.tsv").write_text("q1\td1\t1\nq1\td2\t0\n", encoding="utf-8")
    assert load_qrels(tmp_path / "h.tsv") == load_qrels(tmp_path / "n.tsv") == {"q1": {"d1": 1, "d2": 0}}


def test_trec_four_column_qrels(tmp_path: Path) -> None:
    (tmp_path / "t.tsv").write_text("q1\t0\td1\t2\n", encoding="utf-8")
    assert load_qrels(tmp_path / "t.tsv") == {"q1": {"d1": 2}}


def test_bad_qrels_line_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "b.tsv").write_text("q1\td1\t1\nq2\td2\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"b\.tsv:2"):
        load_qrels(tmp_path / "b.tsv")


def test_load_dataset_maps_ids_and_drops_unjudged(beir_dir: Path) -> None:
    ds = load_dataset(beir_dir)
    assert ds.name == beir_dir.name
    assert list(ds.queries) == ["q1", "2"]
    assert ds.dropped_queries == 1
    assert ds.doc_ids == ["d1", "d2"] and ds.doc_index == {"d1": 0, "d2": 1}
    assert ds.doc_texts[0] == "光伏"  # titles stay out unless asked for
    assert load_dataset(beir_dir, include_title=True).doc_texts[0] == "太阳能\n光伏"
    assert ds.qrels["2"] == {"d2": 2}


def test_slice_override(beir_dir: Path) -> None:
    write_jsonl(beir_dir / "queries_low.jsonl", [{"id": "s1", "text": "bearing"}])
    (beir_dir / "qrels_low.tsv").write_text("s1\td2\t1\n", encoding="utf-8")
    ds = load_dataset(beir_dir, queries="queries_low.jsonl", qrels=beir_dir / "qrels_low.tsv")
    assert ds.name == f"{beir_dir.name}/low" and list(ds.queries) == ["s1"]


def test_missing_files_and_bad_json(beir_dir: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        load_dataset(beir_dir / "nope")
    with pytest.raises(DatasetError, match=r"missing\.jsonl: file not found"):
        load_dataset(beir_dir, queries="missing.jsonl")
    (beir_dir / "corpus.jsonl").write_text('{"id": "d1", "text": "x"}\n{broken\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"corpus\.jsonl:2: invalid JSON"):
        load_dataset(beir_dir)
    write_jsonl(beir_dir / "corpus.jsonl", [{"id": "d1"}])
    with pytest.raises(DatasetError, match="'text'"):
        load_dataset(beir_dir)


def test_no_relevant_query_is_an_error(beir_dir: Path) -> None:
    (beir_dir / "qrels.tsv").write_text("q1\td1\t0\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="no query"):
        load_dataset(beir_dir)


def test_real_csl_slices_load_if_present() -> None:
    root = Path("../shared/data/csl_dev_zh")
    if not root.is_dir():
        pytest.skip("shared data not present")
    low = load_dataset(root, queries="queries_lowoverlap.jsonl", qrels="qrels_lowoverlap.tsv")
    n_lines = sum(1 for line in (root / "queries_lowoverlap.jsonl").open(encoding="utf-8") if line.strip())
    corpus_lines = sum(1 for line in (root / "corpus.jsonl").open(encoding="utf-8") if line.strip())
    assert len(low.queries) + low.dropped_queries == n_lines and low.n_documents == corpus_lines
    assert all(doc in low.doc_index for judged in low.qrels.values() for doc in judged)
