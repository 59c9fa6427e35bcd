"""Which built-in challenge a path holds, so commands need no ``--competition`` for the usual layouts."""

from pathlib import Path

from stackfold.competition.spec import SPECS


def detect(data: Path) -> str:
    """``cdiscount`` for a ``.bson`` file or a folder holding one (its training file, or a sample such as
    ``train_example.bson``), else ``rakuten``."""
    data = Path(data)
    is_cdiscount = data.suffix == ".bson" or (data.is_dir() and any(data.glob("*.bson")))
    return "cdiscount" if is_cdiscount else "rakuten"


def detect_from_header(truth: Path) -> str:
    """The challenge whose submission header opens ``truth``; ``rakuten`` when none does (its check names the header)."""
    truth = Path(truth)
    if not truth.is_file():
        return "rakuten"
    with truth.open(encoding="utf-8", errors="replace") as f:
        first = f.readline().strip()
    return next((name for name, spec in SPECS.items() if spec().submission_header == first), "rakuten")
