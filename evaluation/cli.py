"""`techmatch evaluate`: run the harness on one dataset and print a table or one JSON object.

Mount with ``cli_app.add_typer(evaluation.cli.app, name="evaluate")`` or
``cli_app.command("evaluate")(evaluation.cli.evaluate_command)``; ``python -m evaluation.cli`` also works.
Exit codes: 0 ok, 2 bad input (one readable line on stderr).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from evaluation.cache import DEFAULT_CACHE_DIR
from evaluation.datasets import DatasetError, load_dataset
from matcher.encoders import EncoderError, available_encoders

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_BAD_INPUT = 2


class OutputFormat(StrEnum):
    """How the summary is printed."""

    TABLE = "table"
    JSON = "json"


class BadInputError(ValueError):
    """Input the user can fix (unknown encoder, bad option); reported as one line, exit 2."""


def parse_encoders(values: Sequence[str] | None) -> tuple[str, ...] | None:
    """``--encoder a --encoder b,c`` -> ("a", "b", "c"); ``none`` -> no dense baseline; nothing -> default."""
    if not values:
        return None
    names = tuple(dict.fromkeys(n.strip() for v in values for n in v.split(",") if n.strip()))
    return () if names == ("none",) else names


def check_encoder_names(names: Sequence[str]) -> None:
    """Fail before any work when a name is neither a registered encoder nor a known prefix."""
    known = available_encoders()
    prefixes = [k.removesuffix("<path>") for k in known if k.endswith("<path>")]
    for name in names:
        if name not in known and not any(name.startswith(p) and len(name) > len(p) for p in prefixes):
            raise BadInputError(f"unknown encoder {name!r}; known: {', '.join(known)}")


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send anything printed during a run (by us or by a model library) to stderr, so that stdout
    carries only the result. Also redirects file descriptor 1 for C-level writes when it is real."""
    saved_fd: int | None = None
    with contextlib.suppress(AttributeError, OSError, ValueError):
        sys.stdout.flush()
        if sys.stdout.fileno() == 1:
            saved_fd = os.dup(1)
            os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        if saved_fd is not None:
            sys.stderr.flush()
            os.dup2(saved_fd, 1)
            os.close(saved_fd)


def evaluate_cli(
    dataset: Path,
    queries: Path | None = None,
    qrels: Path | None = None,
    encoder: Sequence[str] | None = None,
    format: OutputFormat | str = OutputFormat.TABLE,
    out: Path | None = None,
    *,
    engine_encoder: str | None = None,
    cache_dir: Path | None = DEFAULT_CACHE_DIR,
    include_title: bool = False,
    threads: int = 1,
    workers: int = 2,
    seed: int = 0,
    bootstrap: int = 1000,
) -> int:
    """Evaluate the engine (default configuration) beside BM25 and dense-only baselines; return an exit code."""
    try:
        output = _output_format(format)
        baselines = parse_encoders(encoder)
        check_encoder_names([*(baselines or ()), *([engine_encoder] if engine_encoder else [])])
        with stdout_to_stderr():
            summary = _run(
                dataset,
                queries,
                qrels,
                baselines,
                out,
                engine_encoder=engine_encoder,
                cache_dir=cache_dir,
                include_title=include_title,
                threads=threads,
                workers=workers,
                seed=seed,
                bootstrap=bootstrap,
            )
    except (DatasetError, BadInputError, EncoderError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    if output is OutputFormat.JSON:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False, default=str) + "\n")
    else:
        from evaluation.results import format_table

        sys.stdout.write(format_table(summary) + "\n")
    sys.stdout.flush()
    return EXIT_OK


def _output_format(value: OutputFormat | str) -> OutputFormat:
    try:
        return OutputFormat(value)
    except ValueError:
        raise BadInputError(f"unknown format {value!r}; use table or json") from None


def _run(
    dataset: Path,
    queries: Path | None,
    qrels: Path | None,
    baselines: tuple[str, ...] | None,
    out: Path | None,
    *,
    engine_encoder: str | None,
    cache_dir: Path | None,
    include_title: bool,
    threads: int,
    workers: int,
    seed: int,
    bootstrap: int,
) -> dict[str, object]:
    """Load, run, summarise and (optionally) write the output files."""
    from evaluation.harness import HarnessConfig, run_evaluation
    from evaluation.results import write_outputs

    data = load_dataset(dataset, queries=queries, qrels=qrels, include_title=include_title)
    config = HarnessConfig(
        engine_encoder=engine_encoder,
        dense_baselines=baselines,
        cache_dir=cache_dir,
        threads=threads,
        workers=workers,
    )
    run = run_evaluation(data, config)
    summary = run.summary(seed=seed, n_resamples=bootstrap)
    if out is not None:
        for path in write_outputs(run, summary, out):
            logger.info("wrote %s", path)
    return summary


def evaluate_command(
    dataset: Annotated[Path, typer.Option("--dataset", help="BEIR-layout directory.")],
    queries: Annotated[
        Path | None, typer.Option(help="Queries file (name inside the dataset or a path).")
    ] = None,
    qrels: Annotated[
        Path | None, typer.Option(help="Qrels file (name inside the dataset or a path).")
    ] = None,
    encoder: Annotated[
        list[str] | None,
        typer.Option(
            help="Dense encoder(s) to measure alone (repeat or comma-separate; 'none' for no dense baseline)."
        ),
    ] = None,
    format: Annotated[OutputFormat, typer.Option("--format", help="table or json.")] = OutputFormat.TABLE,
    out: Annotated[
        Path | None, typer.Option(help="Directory for per-query jsonl, summary json and markdown.")
    ] = None,
    engine_encoder: Annotated[
        str | None,
        typer.Option(
            help="Run the engine with another encoder (its default config); for tests and experiments."
        ),
    ] = None,
    cache_dir: Annotated[Path, typer.Option(help="Embedding cache directory.")] = DEFAULT_CACHE_DIR,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not read or write the embedding cache.")
    ] = False,
    include_title: Annotated[bool, typer.Option(help="Prepend corpus titles to document text.")] = False,
    threads: Annotated[int, typer.Option(help="BLAS threads per encoder (1 is fastest here).")] = 1,
    workers: Annotated[int, typer.Option(help="Processes that embed uncached texts.")] = 2,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
) -> None:
    """Evaluate the matching engine on a BEIR-style dataset, next to BM25 and dense-only baselines."""
    code = evaluate_cli(
        dataset,
        queries,
        qrels,
        encoder,
        format,
        out,
        engine_encoder=engine_encoder,
        cache_dir=None if no_cache else cache_dir,
        include_title=include_title,
        threads=threads,
        workers=workers,
        seed=seed,
    )
    raise typer.Exit(code)


app = typer.Typer(add_completion=False, help="Offline evaluation of the matching engine.")
app.callback(invoke_without_command=True)(evaluate_command)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    app()
