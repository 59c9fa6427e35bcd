"""A run's list of written submissions, so a competitor knows which file came from what."""

import hashlib
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from stackfold.io import write_text_atomic

COLUMNS = ["file", "model", "level", "cv_score", "sha256", "written_at"]


def register_submission(registry: Path, path: Path, model: str, level: str, cv_score: float) -> None:
    """Add or replace the row of ``path`` in the registry CSV (``cv_score``: the model's CV mean of the challenge metric)."""
    registry = Path(registry)
    rows = pd.read_csv(registry) if registry.is_file() else pd.DataFrame(columns=COLUMNS)
    rows = rows.rename(columns={"cv_wf1": "cv_score"})  # its name until the metric became the challenge's
    row = {
        "file": Path(path).name,
        "model": model,
        "level": level,
        "cv_score": round(cv_score, 6),
        "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
        "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    rows = pd.concat([rows[rows["file"] != row["file"]], pd.DataFrame([row])], ignore_index=True)
    write_text_atomic(registry, rows.to_csv(index=False))
