"""`techmatch learn ...`: train models from pairs and decisions; promote or roll back by measurement.

techmatch learn encoder --pairs DIR [--pairs DIR2] [--base e5-small-st] --out DIR
techmatch learn evaluate --model DIR [--register NAME]   # base vs adapted on every shared set
techmatch learn promote NAME | rollback [--kind encoder] | models
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.common import EXIT_BAD_INPUT, EXIT_FAILED
from evaluation.cache import DEFAULT_CACHE_DIR

if TYPE_CHECKING:
    from learning.registry import ModelRegistry

learn_app = typer.Typer(
    help="Learn from pairs and broker decisions: encoder, re-ranker, model registry.", no_args_is_help=True
)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


@learn_app.command("encoder")
def learn_encoder(
    pairs: Annotated[list[Path], typer.Option("--pairs", help="BEIR-layout directory (repeatable).")],
    out: Annotated[
        Path, typer.Option("--out", help="Directory for the adapted model (replaced atomically).")
    ],
    base: Annotated[
        str, typer.Option(help="Encoder to adapt: e5-small-st or st:<tuned e5 dir>.")
    ] = "e5-small-st",
    epochs: Annotated[int, typer.Option(min=1, max=20)] = 1,
    batch_size: Annotated[int, typer.Option(min=2, max=256)] = 16,
    learning_rate: Annotated[float, typer.Option(min=1e-7, max=1e-2)] = 2e-5,
    max_seq_length: Annotated[int, typer.Option(min=16, max=512, help="Truncation while training.")] = 128,
    train_layers: Annotated[int, typer.Option(min=1, max=24, help="Train only the top N layers.")] = 6,
    held_back: Annotated[float, typer.Option(min=0.05, max=0.9, help="Share of documents held back.")] = 0.2,
    max_pairs: Annotated[int | None, typer.Option(min=2, help="Train on at most this many rows.")] = None,
    seed: Annotated[int, typer.Option()] = 0,
    evaluate: Annotated[bool, typer.Option(help="Measure base vs adapted on the held-back split.")] = True,
    cache_dir: Annotated[Path, typer.Option(help="Embedding cache directory.")] = DEFAULT_CACHE_DIR,
    workers: Annotated[int, typer.Option(min=1, max=8)] = 2,
) -> None:
    """Fine-tune the encoder on BEIR-layout pairs (in-batch + mined hard negatives), evaluate, save."""
    from evaluation.cli import stdout_to_stderr
    from evaluation.datasets import DatasetError
    from learning.encoder import EVALUATION_FILE, EncoderTrainingParams, train_encoder
    from matcher.encoders import EncoderError

    for directory in pairs:
        if not (directory / "queries.jsonl").is_file() or not (directory / "qrels.tsv").is_file():
            _fail(f"{directory} is not a BEIR-layout set (queries.jsonl, corpus.jsonl, qrels.tsv)")
    params = EncoderTrainingParams(
        base=base,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        max_seq_length=max_seq_length,
        train_layers=train_layers,
        held_back=held_back,
        seed=seed,
        max_pairs=max_pairs,
    )
    try:
        with stdout_to_stderr():
            manifest = train_encoder(
                pairs, out, params, cache_dir=cache_dir, workers=workers, evaluate=evaluate
            )
    except (DatasetError, EncoderError) as exc:
        _fail(str(exc))
    typer.echo(f"model {manifest['model_id']} saved to {out} (load it as st:{out})")
    typer.echo(f"wall time: {json.dumps(manifest['wall_seconds'])}")
    sys.stdout.write((out / EVALUATION_FILE).read_text(encoding="utf-8"))


def _registry(registry: Path | None) -> ModelRegistry:
    from cli.common import settings
    from learning.registry import ModelRegistry, default_registry_dir

    return ModelRegistry(registry or default_registry_dir(settings().cache_dir))


RegistryOption = Annotated[Path | None, typer.Option(help="Registry directory (default: <cache>/registry).")]


@learn_app.command("evaluate")
def learn_evaluate(
    model: Annotated[Path, typer.Option("--model", help="Directory written by `learn encoder`.")],
    data_dir: Annotated[Path, typer.Option(help="Directory of the shared BEIR sets.")] = Path(
        "../shared/data"
    ),
    only: Annotated[list[str] | None, typer.Option(help="Only these set directories (repeatable).")] = None,
    against: Annotated[
        str | None,
        typer.Option(help="Encoder to compare with (default: the current default of the registry)."),
    ] = None,
    register_as: Annotated[
        str | None, typer.Option("--register", help="Register the model under this name.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Also write the markdown table here.")] = None,
    registry: RegistryOption = None,
    cache_dir: Annotated[Path, typer.Option(help="Embedding cache directory.")] = DEFAULT_CACHE_DIR,
    workers: Annotated[int, typer.Option(min=1, max=8)] = 2,
) -> None:
    """Base (or the current default) against the model on every shared set, slice and held-back split."""
    from evaluation.cli import stdout_to_stderr
    from evaluation.datasets import DatasetError
    from learning.compare import markdown_table
    from learning.encoder import evaluate_model
    from learning.registry import RegistryError
    from matcher.encoders import EncoderError
    from matcher.encoders.e5_st import read_finetune_manifest

    reg = _registry(registry)
    try:
        base = against or reg.resolve_encoder("default")
        with stdout_to_stderr():
            rows = evaluate_model(
                model, data_dir, base=base, only=only or (), cache_dir=cache_dir, workers=workers
            )
        table = markdown_table(rows, base=base, candidate=model.name)
        if out is not None:
            out.write_text(table, encoding="utf-8")
        if register_as:
            info = read_finetune_manifest(model) or {}
            reg.register(
                register_as,
                "encoder",
                model,
                base=reg.default_name("encoder") if against is None else against,
                evaluation=rows,
                info={k: info.get(k) for k in ("model_id", "training_data_sha256", "params", "wall_seconds")},
            )
    except (DatasetError, EncoderError, RegistryError) as exc:
        _fail(str(exc))
    sys.stdout.write(table)


@learn_app.command("promote")
def learn_promote(
    name: Annotated[str, typer.Argument(help="A registered version.")], registry: RegistryOption = None
) -> None:
    """Make a version the default, only if its table beats the current default without a significant loss."""
    from learning.registry import RegistryError

    reg = _registry(registry)
    try:
        verdict = reg.promote(name)
    except RegistryError as exc:
        _fail(str(exc))
    if not verdict.promote:
        typer.echo("refused: " + "; ".join(verdict.reasons), err=True)
        raise typer.Exit(EXIT_FAILED)
    typer.echo(f"{name} is now the default {reg.get(name)['kind']}")


@learn_app.command("rollback")
def learn_rollback(
    kind: Annotated[str, typer.Option(help="encoder or ranker")] = "encoder", registry: RegistryOption = None
) -> None:
    """Return to the previous default of a kind."""
    from learning.registry import RegistryError

    try:
        now = _registry(registry).rollback(kind)
    except RegistryError as exc:
        _fail(str(exc))
    typer.echo(f"default {kind} is now {now}")


@learn_app.command("models")
def learn_models(registry: RegistryOption = None) -> None:
    """List registered versions; the defaults are marked with *."""
    reg = _registry(registry)
    defaults = {reg.current("encoder"), reg.current("ranker")}
    for name, record in reg.versions().items():
        mark = "*" if name in defaults else " "
        typer.echo(f"{mark} {name}\t{record['kind']}\t{record['path']}\t(vs {record['base']})")


def register(app: typer.Typer) -> None:
    app.add_typer(learn_app, name="learn")


@learn_app.command("export-pairs")
def learn_export_pairs(
    out: Annotated[Path, typer.Option("--out", help="Directory for the BEIR-layout set (replaced).")],
) -> None:
    """Export the decision log as labelled pairs in the BEIR layout (confidential postings left out)."""
    from cli.common import open_engine
    from learning.decisions import export_pairs

    counts = export_pairs(open_engine(), out)
    typer.echo(f"{out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@learn_app.command("ranker")
def learn_ranker(
    out: Annotated[
        Path, typer.Option("--out", help="Directory for the ranker (model.pkl, evaluation.json).")
    ],
    demo: Annotated[
        bool, typer.Option("--demo", help="Use the demo with its simulated decision log, not the database.")
    ] = False,
    depth: Annotated[int, typer.Option(min=5, max=100, help="Re-rank the fused top N.")] = 20,
    train_share: Annotated[
        float, typer.Option(min=0.3, max=0.9, help="Older share of needs to train on.")
    ] = 0.7,
) -> None:
    """Train the re-ranker on broker decisions; measure it on a time split (older → newer) first."""
    from dataclasses import asdict

    from cli.common import open_engine, settings
    from evaluation.cli import stdout_to_stderr
    from learning.demo_run import demo_run, simulated_decisions
    from learning.ranker import fit_on_log, time_split_evaluation
    from matcher.config import DEFAULT_ENCODER

    if not demo:
        from learning.ranker_log import database_log

        with stdout_to_stderr():
            log = database_log(open_engine(), settings(), depth)
        if log is None:
            _fail("决策记录太少：至少需要 20 条已决定的推荐（含接受与拒绝）才能训练排序模型")
    with stdout_to_stderr():
        if demo:
            with demo_run(DEFAULT_ENCODER, None, depth) as run:
                decisions = simulated_decisions(run)
                parts = (run.needs, run.candidates, decisions, run.achievements, run.need_postings)
                result = time_split_evaluation(*parts, train_share=train_share)
                ranker = fit_on_log(*parts[1:])
        else:
            assert log is not None
            result = time_split_evaluation(*log, train_share=train_share)
            ranker = fit_on_log(*log[1:])
    out.mkdir(parents=True, exist_ok=True)
    ranker.save(out / "model.pkl")
    (out / "evaluation.json").write_text(json.dumps(asdict(result), indent=2), encoding="utf-8")
    typer.echo(
        f"time split: fused nDCG@10 {result.fused:.4f}, learned {result.learned:.4f}, "
        f"Δ {result.delta:+.4f} [{result.delta_ci[0]:+.4f}, {result.delta_ci[1]:+.4f}] on {result.test_needs} newer needs"
    )
