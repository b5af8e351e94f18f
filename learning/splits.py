"""The held-back split: decided by a hash of each document id, so it never depends on order or seed.

Splitting by document (not by query) keeps every query of a held-back document out of training, whatever
query file asks for it: a title, a keyword list and a low-overlap rewording of the same paper fall on
the same side. A query is held back when all its relevant documents are, trained on when none is, and
left out of both when it straddles the line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from evaluation.datasets import Dataset

DEFAULT_HELD_BACK = 0.2


def is_held_back(set_name: str, doc_id: str, share: float = DEFAULT_HELD_BACK) -> bool:
    """True for about ``share`` of the documents of a set, the same ones on every machine."""
    digest = hashlib.sha256(f"{set_name}\x00{doc_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


@dataclass(frozen=True)
class Split:
    """Query ids to train on and to hold back, and the held-back documents."""

    train: list[str]
    held_back: list[str]
    held_back_docs: frozenset[str]


def split_queries(dataset: Dataset, set_name: str, share: float = DEFAULT_HELD_BACK) -> Split:
    """Split the queries of ``dataset`` by whether their relevant documents are held back."""
    held_docs = frozenset(d for d in dataset.doc_ids if is_held_back(set_name, d, share))
    train: list[str] = []
    held: list[str] = []
    for query_id in dataset.queries:
        relevant = {d for d, rel in dataset.qrels.get(query_id, {}).items() if rel > 0}
        if relevant and relevant <= held_docs:
            held.append(query_id)
        elif not relevant & held_docs:
            train.append(query_id)
    return Split(train=train, held_back=held, held_back_docs=held_docs)


def subset(dataset: Dataset, query_ids: list[str], suffix: str) -> Dataset:
    """The same corpus with only the given queries (and their judgements)."""
    wanted = set(query_ids)
    return Dataset(
        name=f"{dataset.name} ({suffix})",
        queries={q: t for q, t in dataset.queries.items() if q in wanted},
        doc_ids=dataset.doc_ids,
        doc_texts=dataset.doc_texts,
        qrels={q: j for q, j in dataset.qrels.items() if q in wanted},
        doc_index=dataset.doc_index,
    )


def held_back_subset(dataset: Dataset, set_name: str, share: float = DEFAULT_HELD_BACK) -> Dataset:
    """Only the held-back queries of ``dataset`` (any query file of the set)."""
    return subset(dataset, split_queries(dataset, set_name, share).held_back, "held back")
