"""The held-back split is deterministic, disjoint from training, and the same for every query file."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.datasets import load_dataset
from learning.splits import is_held_back, split_queries

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def test_is_held_back_is_stable_and_near_its_share() -> None:
    ids = [f"doc-{i}" for i in range(5000)]
    first = [is_held_back("s", d) for d in ids]
    assert first == [is_held_back("s", d) for d in ids]
    assert 0.17 < sum(first) / len(ids) < 0.23
    assert first != [is_held_back("other", d) for d in ids]


def test_split_is_disjoint_and_consistent_across_slices() -> None:
    root = SHARED / "csl_dev_zh"
    if not root.is_dir():
        pytest.skip("shared data not present")
    titles = load_dataset(root)
    keywords = load_dataset(root, queries="queries_keywords.jsonl", qrels="qrels_keywords.tsv")
    a, b = split_queries(titles, "csl_dev_zh"), split_queries(keywords, "csl_dev_zh")
    assert not set(a.train) & set(a.held_back)
    assert len(a.train) + len(a.held_back) == len(titles.queries)
    held_docs_titles = {d for q in a.held_back for d in titles.qrels[q]}
    held_docs_keywords = {d for q in b.held_back for d in keywords.qrels[q]}
    assert held_docs_titles == held_docs_keywords  # the same papers, whichever query file asks
    trained_docs = {d for q in a.train for d in titles.qrels[q]}
    assert not trained_docs & a.held_back_docs
