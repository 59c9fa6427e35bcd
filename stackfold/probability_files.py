"""A model's saved probabilities: dense as ``<part>.parquet`` (a column per class, the products' index), or each
row's top k as ``<part>.npz`` (plain arrays: loading one never runs code). Only one of the two exists at a time."""

from pathlib import Path

import pandas as pd

from stackfold.core.topk import Probabilities, TopK
from stackfold.errors import RunFolderError
from stackfold.io import atomic_file


def write_probabilities(folder: Path, part: str, proba: Probabilities, index: pd.Index, columns: list[str]) -> None:
    """Write ``folder/<part>.parquet`` or ``.npz`` (by ``proba``'s form) atomically, removing the other form."""
    (folder / f"{part}.{'parquet' if isinstance(proba, TopK) else 'npz'}").unlink(missing_ok=True)
    if isinstance(proba, TopK):
        proba.save(folder / f"{part}.npz", index.to_numpy())
        return
    with atomic_file(folder / f"{part}.parquet") as f:
        pd.DataFrame(proba, index=index, columns=columns).to_parquet(f)


def read_probabilities(folder: Path, part: str, dense: bool = False) -> Probabilities:
    """What :func:`write_probabilities` wrote (dense as float64); one line if neither file exists, or if
    ``dense`` is asked of a top-k result (a boosted stacker or ``stackfold tune`` over many classes)."""
    if (folder / f"{part}.npz").is_file():
        if dense:
            raise RunFolderError(f"{folder / part}.npz: a top-k result (many classes): only the blends stack it")
        return TopK.load(folder / f"{part}.npz")
    if not (folder / f"{part}.parquet").is_file():
        raise RunFolderError(f"{folder / part}.parquet: no {'OOF' if part == 'oof' else part} probabilities of "
                             f"{folder.name!r}; run `stackfold run` again")
    return pd.read_parquet(folder / f"{part}.parquet").to_numpy()
