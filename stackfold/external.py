"""Models trained outside stackfold (a fine-tuned CamemBERT on a GPU, another framework): their out-of-fold and test
probabilities, made on the run's own ``folds.csv``, enter the stack as base models.

``[external.NAME]`` in ``run.toml`` names the two files (or ``stackfold add-oof RUN NAME --oof F --test F``). Each is
CSV or Parquet: the row id as the challenge's files give it, then one column per class, named as the challenge
names its classes. Every training id (the OOF file) or test id (the test file) exactly once; no NaN or negative
value; each row summing to 1 within ``ROW_SUM_TOLERANCE`` (then divided by its sum; further off: refused).

The run cannot check that the other tool kept to the folds. :func:`leak_suspect` flags the symptom of a model that
did not: an OOF accuracy above every built-in model's, with OOF rows predicted far more confidently than test rows.

Parameters:
    oof: the model's out-of-fold probabilities of every training row (made on the run's ``stackfold folds``).
    test: its probabilities of every test row.
"""

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.competition.spec import CompetitionSpec
from stackfold.competition.tables import is_parquet
from stackfold.core.cv import CVResult, fold_scores
from stackfold.core.topk import predicted_positions
from stackfold.errors import ConfigError, SubmissionError
from stackfold.submissions.validate import ROW_SUM_TOLERANCE, check_index, parse_probabilities, read_text

FILES = ("oof", "test")
"""The keys of ``[external.NAME]``: the OOF file (training rows) and the test file."""
LEAK_MARGIN = 0.05
"""How far above every built-in model's OOF accuracy an external model's must be to be suspected."""
CONFIDENCE_GAP = 0.10
"""How much surer of its OOF rows than of its test rows (mean top probability) a suspected model must be."""

__all__ = ["FILES", "ROW_SUM_TOLERANCE", "check_definition", "external_result", "file_digest", "leak_suspect",
           "read_external"]


def check_definition(name: str, definition: object) -> None:
    """One line unless ``[external.NAME]`` names exactly an ``oof`` and a ``test`` file."""
    where = f"[external.{name}]"
    if not isinstance(definition, dict) or set(definition) != set(FILES):
        raise ConfigError(f"{where}: give oof = 'oof.csv' and test = 'test.csv' (the model's probabilities of the "
                          "training rows, out of fold, and of the test rows), and nothing else")
    for key in FILES:
        if not isinstance(definition[key], str):
            raise ConfigError(f"{where} {key} must be the path of a CSV or Parquet file, got {definition[key]!r}")


def read_external(path: Path, spec: CompetitionSpec, ids: pd.Index, against: str) -> np.ndarray:
    """The probabilities in ``path`` of exactly the rows ``ids`` (named ``against`` in errors), in their order, each
    row divided by its sum."""
    path = Path(path)
    if is_parquet(path):
        try:
            frame = pd.read_parquet(path)
        except (OSError, ValueError) as e:
            raise SubmissionError(f"{path}: not a readable Parquet file ({e}); write it again") from e
        if isinstance(frame.index, pd.RangeIndex) and frame.index.name is None:  # no index saved: the first column
            frame = frame.set_index(frame.columns[0])
        text = frame.to_csv()  # floats written in full: read back to the same bits
    else:
        text = read_text(path, "probability")
    proba = parse_probabilities(text, spec, str(path), any_header=True)
    check_index(proba, ids, str(path), against)
    values = proba.loc[ids].to_numpy(dtype=np.float64)
    return values / values.sum(axis=1, keepdims=True)


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes: a changed file is a changed model (its content key)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def external_result(name: str, oof: np.ndarray, test: np.ndarray, y: np.ndarray, folds: np.ndarray,
                    classes: np.ndarray, metric: str) -> CVResult:
    """The CV result of probabilities made elsewhere: each fold scored on its held-out rows, as a built-in's are
    (no fit or predict time here)."""
    rows = []
    for fold in range(int(folds.max()) + 1):
        valid = np.flatnonzero(folds == fold)
        rows.append({"fold": fold, **fold_scores(y[valid], oof[valid], classes, metric), "fit_s": 0.0,
                     "predict_s": 0.0})
    return CVResult(name, oof, test, pd.DataFrame(rows))


def leak_suspect(external: CVResult, built_in: list[CVResult], y_positions: np.ndarray) -> bool:
    """Whether ``external``'s OOF score looks leaked: its OOF accuracy above every built-in model's by
    ``LEAK_MARGIN``, and its OOF rows predicted with more confidence than its test rows by ``CONFIDENCE_GAP``.

    Out of fold and on the test set a model predicts rows it never saw, drawn alike: an honest model is about as
    sure of both (on the real Rakuten sample, a TF-IDF logistic regression's mean top probability: 0.242 OOF,
    0.250 test). A model that saw its OOF rows' labels is sure of them and not of the test rows (the same model
    fitted on every row: 0.699 OOF, 0.250 test).
    """
    if not built_in:
        return False
    best = max(float(np.mean(predicted_positions(r.oof) == y_positions)) for r in built_in)
    claimed = float(np.mean(predicted_positions(external.oof) == y_positions))
    gap = float(np.max(external.oof, axis=1).mean() - np.max(external.test, axis=1).mean())
    return claimed > best + LEAK_MARGIN and gap > CONFIDENCE_GAP
