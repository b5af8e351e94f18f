"""Load retrieval test sets in the BEIR layout.

A dataset directory holds ``queries.jsonl`` (``{"id", "text"}``), ``corpus.jsonl``
(``{"id", "text", "title"?}``) and ``qrels.tsv`` (``query<TAB>doc<TAB>relevance``, an optional header
line). Other query/qrels files of the same directory (slices such as ``queries_lowoverlap.jsonl``) are
chosen with ``queries=`` / ``qrels=``. Document ids are strings in the files; the engine wants ints,
so each document gets its position in ``corpus.jsonl`` as its int id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

Qrels = dict[str, dict[str, int]]
"""query id -> document id -> graded relevance (0 = judged not relevant)."""


class DatasetError(ValueError):
    """A dataset file is missing or malformed; the message names the file and line."""


@dataclass(frozen=True)
class Dataset:
    """Queries, documents and judgements of one evaluation run.

    ``queries`` keeps only queries with at least one relevant document (as BEIR does); ``doc_ids[i]``
    is the string id of the document whose engine id is ``i``.
    """

    name: str
    queries: dict[str, str]
    doc_ids: list[str]
    doc_texts: list[str]
    qrels: Qrels
    doc_index: dict[str, int] = field(repr=False)
    dropped_queries: int = 0

    @property
    def n_documents(self) -> int:
        """Number of documents in the corpus."""
        return len(self.doc_ids)


def resolve_file(directory: Path, name: str | Path | None, default: str) -> Path:
    """Find a dataset file: an explicit path as given, else a name inside ``directory``."""
    if name is None:
        return directory / default
    candidate = Path(name).expanduser()
    if candidate.is_absolute() or candidate.exists():
        return candidate
    return directory / candidate


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; fail with the line number on bad JSON."""
    if not path.is_file():
        raise DatasetError(f"{path}: file not found")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{number}: invalid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict):
                raise DatasetError(f"{path}:{number}: expected a JSON object")
            yield number, obj


def _required_str(obj: Mapping[str, Any], key: str, path: Path, number: int) -> str:
    """Return ``obj[key]`` as a string (ids may be numbers in some sets); fail clearly when absent."""
    value = obj.get(key)
    if value is None or isinstance(value, (dict, list)):
        raise DatasetError(f"{path}:{number}: missing or non-scalar field {key!r}")
    return str(value)


def load_queries(path: Path) -> dict[str, str]:
    """Read ``{"id", "text"}`` lines into an ordered id -> text map; duplicate ids are an error."""
    queries: dict[str, str] = {}
    for number, obj in _read_jsonl(path):
        query_id = _required_str(obj, "id", path, number)
        if query_id in queries:
            raise DatasetError(f"{path}:{number}: duplicate query id {query_id!r}")
        queries[query_id] = _required_str(obj, "text", path, number)
    return queries


def load_corpus(path: Path, *, include_title: bool = False) -> tuple[list[str], list[str]]:
    """Read documents as (ids, texts). Titles are prepended only when asked (they may leak answers)."""
    ids: list[str] = []
    texts: list[str] = []
    seen: set[str] = set()
    for number, obj in _read_jsonl(path):
        doc_id = _required_str(obj, "id", path, number)
        if doc_id in seen:
            raise DatasetError(f"{path}:{number}: duplicate document id {doc_id!r}")
        seen.add(doc_id)
        text = _required_str(obj, "text", path, number)
        title = obj.get("title")
        if include_title and isinstance(title, str) and title.strip():
            text = f"{title.strip()}\n{text}"
        ids.append(doc_id)
        texts.append(text)
    return ids, texts


def _parse_qrels_line(parts: list[str]) -> tuple[str, str, int]:
    """Split a 3-column (BEIR) or 4-column (TREC: query 0 doc relevance) qrels row."""
    if len(parts) == 3:
        query_id, doc_id, relevance = parts
    elif len(parts) == 4:
        query_id, _, doc_id, relevance = parts
    else:
        raise ValueError(f"expected 3 tab-separated columns, got {len(parts)}")
    return query_id.strip(), doc_id.strip(), int(relevance)


def load_qrels(path: Path) -> Qrels:
    """Read judgements; the first line is taken as a header when its relevance column is not an int."""
    if not path.is_file():
        raise DatasetError(f"{path}: file not found")
    qrels: Qrels = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            parts = line.rstrip("\r\n").split("\t")
            try:
                query_id, doc_id, relevance = _parse_qrels_line(parts)
            except ValueError as exc:
                if number == 1:
                    continue  # header line such as "query_id<TAB>doc_id<TAB>relevance"
                raise DatasetError(f"{path}:{number}: bad qrels line ({exc})") from exc
            qrels.setdefault(query_id, {})[doc_id] = relevance
    return qrels


def load_dataset(
    directory: str | Path,
    *,
    queries: str | Path | None = None,
    qrels: str | Path | None = None,
    include_title: bool = False,
) -> Dataset:
    """Load a BEIR-layout directory, optionally with another queries/qrels pair (a slice)."""
    root = Path(directory).expanduser()
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset directory not found")
    query_path = resolve_file(root, queries, "queries.jsonl")
    qrels_path = resolve_file(root, qrels, "qrels.tsv")
    all_queries = load_queries(query_path)
    judgements = load_qrels(qrels_path)
    doc_ids, doc_texts = load_corpus(root / "corpus.jsonl", include_title=include_title)
    doc_index = {doc_id: i for i, doc_id in enumerate(doc_ids)}
    kept = {qid: text for qid, text in all_queries.items() if _has_relevant(judgements.get(qid))}
    _warn_about_gaps(judgements, all_queries, doc_index, qrels_path)
    if not kept:
        raise DatasetError(f"{qrels_path}: no query of {query_path.name} has a relevant document")
    if not doc_ids:
        raise DatasetError(f"{root / 'corpus.jsonl'}: corpus is empty")
    return Dataset(
        name=_slice_name(root, query_path),
        queries=kept,
        doc_ids=doc_ids,
        doc_texts=doc_texts,
        qrels={qid: judgements[qid] for qid in kept},
        doc_index=doc_index,
        dropped_queries=len(all_queries) - len(kept),
    )


def _has_relevant(judged: Mapping[str, int] | None) -> bool:
    return judged is not None and any(rel > 0 for rel in judged.values())


def _slice_name(root: Path, query_path: Path) -> str:
    """``csl_dev_zh`` for the main queries, ``csl_dev_zh/lowoverlap`` for ``queries_lowoverlap.jsonl``."""
    stem = query_path.stem
    if stem == "queries":
        return root.name
    return f"{root.name}/{stem.removeprefix('queries_').removeprefix('queries')}"


def _warn_about_gaps(
    judgements: Qrels, queries: Mapping[str, str], doc_index: Mapping[str, int], qrels_path: Path
) -> None:
    """Log (not fail on) judgements that point at unknown queries or documents."""
    unknown_queries = sum(1 for qid in judgements if qid not in queries)
    unknown_docs = sum(1 for judged in judgements.values() for doc in judged if doc not in doc_index)
    if unknown_queries:
        logger.warning("%s: %d judged queries are not in the queries file", qrels_path, unknown_queries)
    if unknown_docs:
        logger.warning("%s: %d judged documents are not in the corpus", qrels_path, unknown_docs)
