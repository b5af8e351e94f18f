"""Results of one evaluation run and their renderings: summary JSON, aligned table, markdown, jsonl.

Kept apart from the harness so that reports and tests can build and render results without an engine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.metrics import METRICS, PerQuery, bootstrap_ci, paired_bootstrap

ENGINE_SYSTEM = "techmatch"
BM25_SYSTEM = "bm25"


@dataclass(frozen=True)
class SystemRun:
    """One system's rankings and per-query metrics, with how long indexing and querying took."""

    name: str
    rankings: dict[str, list[str]]
    per_query: PerQuery
    index_seconds: float
    query_seconds: float
    description: str = ""


@dataclass(frozen=True)
class EvaluationRun:
    """Every system of one run over the same queries and documents."""

    dataset: str
    n_queries: int
    n_documents: int
    systems: dict[str, SystemRun]
    settings: dict[str, Any] = field(default_factory=dict)

    def summary(self, *, seed: int = 0, n_resamples: int = 1000) -> dict[str, Any]:
        """JSON-ready summary: plain float means under "systems"; intervals and paired
        differences against BM25 under "intervals" and "vs_bm25" (seeded, so reproducible)."""
        rng = np.random.default_rng(seed)
        systems = {name: run.per_query.mean() for name, run in self.systems.items()}
        intervals: dict[str, dict[str, list[float]]] = {}
        differences: dict[str, dict[str, dict[str, float | bool]]] = {}
        baseline = self.systems.get(BM25_SYSTEM)
        for name, run in self.systems.items():
            intervals[name] = {
                metric: list(bootstrap_ci(run.per_query.values[metric], rng=rng, n_resamples=n_resamples))
                for metric in METRICS
            }
            if baseline is not None and name != BM25_SYSTEM:
                differences[name] = _differences(run.per_query, baseline.per_query, rng, n_resamples)
        return {
            "dataset": self.dataset,
            "queries": self.n_queries,
            "documents": self.n_documents,
            "systems": systems,
            "intervals": intervals,
            "vs_bm25": differences,
            "timings": {name: _timing(run, self.n_queries) for name, run in self.systems.items()},
            "settings": self.settings,
        }


def _differences(
    system: PerQuery, baseline: PerQuery, rng: np.random.Generator, n_resamples: int
) -> dict[str, dict[str, float | bool]]:
    out: dict[str, dict[str, float | bool]] = {}
    for metric in METRICS:
        diff = paired_bootstrap(
            system.values[metric], baseline.values[metric], rng=rng, n_resamples=n_resamples
        )
        out[metric] = {"mean": diff.mean, "low": diff.low, "high": diff.high, "significant": diff.significant}
    return out


def _timing(run: SystemRun, n_queries: int) -> dict[str, float]:
    qps = n_queries / run.query_seconds if run.query_seconds > 0 else 0.0
    return {
        "index_seconds": round(run.index_seconds, 3),
        "query_seconds": round(run.query_seconds, 3),
        "queries_per_second": round(qps, 1),
    }


def format_table(summary: dict[str, Any]) -> str:
    """Aligned plain-text table of the summary (one row per system), with the BM25 difference."""
    header = ["system", *METRICS, "ΔnDCG@10 vs bm25 [95% CI]", "query s"]
    rows = [header]
    for name, values in summary["systems"].items():
        rows.append(
            [
                name,
                *(f"{values[m]:.3f}" for m in METRICS),
                _delta_cell(summary, name),
                f"{summary['timings'][name]['query_seconds']:.1f}",
            ]
        )
    widths = [max(_width(row[i]) for row in rows) for i in range(len(header))]
    lines = [f"{summary['dataset']}: {summary['queries']} queries, {summary['documents']} documents"]
    for n, row in enumerate(rows):
        lines.append("  ".join(_pad(cell, widths[i], left=i == 0) for i, cell in enumerate(row)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _delta_cell(summary: dict[str, Any], name: str) -> str:
    diff = summary["vs_bm25"].get(name, {}).get("nDCG@10")
    if diff is None:
        return "—"
    return f"{diff['mean']:+.3f} [{diff['low']:+.3f}, {diff['high']:+.3f}]"


def _width(cell: str) -> int:
    """Display width: CJK and other wide characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in cell)


def _pad(cell: str, width: int, *, left: bool) -> str:
    fill = " " * (width - _width(cell))
    return cell + fill if left else fill + cell


def markdown_rows(
    summary: dict[str, Any], label: str | None = None, systems: Sequence[str] | None = None
) -> Iterator[str]:
    """Markdown table rows (no header) for the chosen systems of one summary."""
    label = label or summary["dataset"]
    for name in systems or list(summary["systems"]):
        values = summary["systems"].get(name)
        if values is None:
            continue
        cells = [label, name, *(f"{values[m]:.3f}" for m in METRICS), _delta_cell(summary, name)]
        yield "| " + " | ".join(cells) + " |"


MARKDOWN_HEADER = (
    "| set | system | " + " | ".join(METRICS) + " | ΔnDCG@10 vs BM25 [95% CI] |\n"
    "|---|---|" + "---:|" * len(METRICS) + "---|"
)


def format_markdown(summary: dict[str, Any]) -> str:
    """A markdown table of one run."""
    return "\n".join([MARKDOWN_HEADER, *markdown_rows(summary)]) + "\n"


def per_query_records(run: EvaluationRun, top: int = 10) -> Iterator[dict[str, Any]]:
    """One record per (query, system): the top results and that query's metrics."""
    for name, system in run.systems.items():
        for row, query_id in enumerate(system.per_query.query_ids):
            yield {
                "query_id": query_id,
                "system": name,
                "ranking": system.rankings.get(query_id, [])[:top],
                "metrics": {m: float(system.per_query.values[m][row]) for m in METRICS},
            }


def write_outputs(run: EvaluationRun, summary: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write per_query.jsonl, summary.json and summary.md into ``out_dir``; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    per_query = out_dir / "per_query.jsonl"
    with per_query.open("w", encoding="utf-8") as handle:
        for record in per_query_records(run):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    summary_json = out_dir / "summary.json"
    summary_json.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    summary_md = out_dir / "summary.md"
    summary_md.write_text(format_markdown(summary), encoding="utf-8")
    return [per_query, summary_json, summary_md]
