"""Training a run's external models: reading their probability files into results, as base models of the run."""

from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.external import external_result, file_digest, leak_suspect, read_external
from stackfold.hashing import content_key
from stackfold.pipeline.context import RunContext, Trained
from stackfold.progress import console
from stackfold.run_folder import Level
from stackfold.version import __version__


def external_key(ctx: RunContext, name: str) -> str:
    """Content key of an external model's result: its files' bytes, the folds and classes they answer."""
    files = ctx.config.external[name]
    return content_key(__version__, Level.BASE, "external", name, file_digest(Path(files["oof"])),
                       file_digest(Path(files["test"])), ctx.fold_key, ctx.dataset.spec.classes,
                       ctx.dataset.spec.metric)


def train_external(ctx: RunContext, name: str, key: str, built_in: list[Trained]) -> Trained:
    """The external model ``name``'s result (reused when its key is unchanged), flagged when its OOF score looks
    leaked (:func:`stackfold.external.leak_suspect`, against the ``built_in`` base models)."""
    cached = ctx.run.load_result(Level.BASE, name, key)
    if cached is not None:
        console.print(f"[dim]{name}: unchanged, reusing saved OOF (key {key})[/dim]")
        return Trained(cached, Level.BASE, key, leak_suspect=ctx.run.manifest(Level.BASE, name)["leak_suspect"],
                       reused=True)
    files, spec = ctx.config.external[name], ctx.dataset.spec
    console.print(f"[bold]{name}[/bold]: probabilities made outside stackfold ({files['oof']})")
    oof = read_external(Path(files["oof"]), spec, ctx.dataset.train.index, "the training file")
    test = read_external(Path(files["test"]), spec, ctx.dataset.test.index, "the test file")
    result = external_result(name, oof, test, ctx.dataset.y, ctx.folds, np.asarray(spec.classes), spec.metric)
    positions = pd.Index(spec.classes).get_indexer(ctx.dataset.y)
    suspect = leak_suspect(result, [t.result for t in built_in], positions)
    if suspect:
        console.print(f"[bold red]{name}[/bold red]: leak suspect: above every built-in model out of fold, and far "
                      "surer of those rows than of the test rows; were its folds those of folds.csv?", soft_wrap=True)
    info = {"external": dict(files), "leak_suspect": suspect, "folds_key": ctx.fold_key, "fitted_models": False}
    ctx.run.save_result(Level.BASE, result, key, list(spec.classes), ctx.dataset.train.index, ctx.dataset.test.index,
                        info)
    return Trained(result, Level.BASE, key, leak_suspect=suspect)
