"""The two sides of a model trained elsewhere: the run's fold assignment handed out (``stackfold folds``), and the
model's probabilities taken in and stacked (``stackfold add-oof``)."""

import json
from collections.abc import Sequence
from dataclasses import fields, replace
from pathlib import Path

import pandas as pd

from stackfold.competition.challenges import get_spec
from stackfold.config import RunConfig, load_config, validate_config
from stackfold.errors import RunFolderError
from stackfold.pipeline import FinalStep, RunSummary, run_pipeline
from stackfold.run_folder import RunFolder


def fold_table(run_dir: Path) -> pd.DataFrame:
    """Each training row's fold: indexed by the row id as the challenge's files give it (named as their id column),
    one ``fold`` column (0..folds-1). A model trained elsewhere holds out, in fold k, exactly the rows of fold k."""
    run = RunFolder(Path(run_dir))
    config = load_config(run.require(run.config, "finished run (config.toml)"))
    folds = pd.read_csv(run.require(run.folds, "fold assignment (folds.csv)"), index_col="index")
    spec = get_spec(config.challenge)
    folds.index.name = spec.id_column or None
    return folds[["fold"]]


def add_external(run_dir: Path, name: str, oof: Path, test: Path, data: Path | None = None,
                 finish: Sequence[FinalStep] = ()) -> RunSummary:
    """Add the model ``name`` trained elsewhere to the finished run: its files are checked against the run's rows,
    then the run goes on as ``[external.NAME]`` in its configuration would have it (every unchanged result
    reused, the stackers refitted over the wider stack). ``data``: the run's data folder, by default the one it
    was made from."""
    run = RunFolder(Path(run_dir))
    config = load_config(run.require(run.config, "finished run (config.toml)"))
    files = {"oof": str(Path(oof).resolve()), "test": str(Path(test).resolve())}
    config = validate_config(replace(config, external={**config.external, name: files}),
                             given=frozenset(f.name for f in fields(RunConfig)))
    data_dir = Path(data) if data is not None else _data_dir(run)
    return run_pipeline(data_dir, run.root, config, finish=finish)


def _data_dir(run: RunFolder) -> Path:
    origin = json.loads(run.require(run.origin, "origin (origin.json)").read_text(encoding="utf-8"))
    data_dir = Path(origin.get("data_dir", ""))
    if not data_dir.is_dir():
        raise RunFolderError(f"{run.origin}: the run's data folder {data_dir} is not there; give it with --data DIR")
    return data_dir
