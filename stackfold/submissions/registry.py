"""A run's history of written submissions, so a competitor knows which file came from what.

Every submission written is also kept under ``submissions/history/`` and gets one line in the
registry CSV: the file, its kept copy, the row it came from, that row's CV score, its sha256,
and keys of the data and of the configuration that produced it. Lines are only appended: the
registry is the history. A rewrite of identical bytes from the same row (a rerun that changed
nothing) is not a new submission and adds nothing.
"""

import hashlib
import shutil
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from stackfold.io import atomic_file, write_text_atomic

COLUMNS = ["written_at", "file", "history", "model", "level", "cv_score", "sha256", "data_key", "config_key"]


@dataclass(frozen=True)
class SubmissionRecord:
    """One written submission: ``model`` is its leaderboard row, ``cv_score`` that row's CV mean of the challenge metric."""

    file: Path
    model: str
    level: str
    cv_score: float
    data_key: str
    config_key: str


def register_submission(registry: Path, record: SubmissionRecord, history_copy: Path, when: datetime) -> bool:
    """Keep a copy of ``record.file`` at ``history_copy`` and append its line to ``registry``.

    Returns False (and writes nothing) when the same row's latest line already has these bytes.
    """
    registry = Path(registry)
    digest = hashlib.sha256(record.file.read_bytes()).hexdigest()
    lines = pd.DataFrame(columns=COLUMNS)
    if registry.is_file():  # a registry of an older layout gets the new columns, empty
        lines = pd.read_csv(registry, dtype=str, keep_default_na=False).reindex(columns=COLUMNS, fill_value="")
    same_row = lines[(lines["file"] == record.file.name) & (lines["model"] == record.model)]
    if len(same_row) and same_row["sha256"].iloc[-1] == digest:
        return False
    kept = _unregistered_copy(history_copy, set(lines["history"]), digest)
    if kept is None:
        with atomic_file(history_copy) as f, record.file.open("rb") as source:
            shutil.copyfileobj(source, f)
    line = {**asdict(record), "file": record.file.name, "history": (kept or history_copy).name, "sha256": digest,
            "cv_score": f"{record.cv_score:.6f}", "written_at": when.isoformat(timespec="seconds")}
    lines = pd.concat([lines, pd.DataFrame([line])[COLUMNS]], ignore_index=True)
    write_text_atomic(registry, lines.to_csv(index=False))
    return True


def _unregistered_copy(history_copy: Path, registered: set[str], digest: str) -> Path | None:
    """The copy of these bytes that a registration killed before its registry line left in the history, if any."""
    same_row = history_copy.parent.glob("*_" + history_copy.name.split("_", 1)[1])
    return next((p for p in sorted(same_row)
                 if p.name not in registered and hashlib.sha256(p.read_bytes()).hexdigest() == digest), None)
