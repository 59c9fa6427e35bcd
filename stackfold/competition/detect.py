"""Which challenge a path holds, so commands need no ``--challenge`` for the usual layouts."""

from pathlib import Path

from stackfold.competition.challenges import BUILT_IN, get_spec
from stackfold.competition.spec_file import find_spec


def detect(data: Path) -> str:
    """The challenge of data folder (or file) ``data``: its spec file (``challenge.toml``) when it holds one, else
    ``cdiscount`` for a ``.bson`` file or a folder holding one (its training file, or a sample such as
    ``train_example.bson``), else ``rakuten``."""
    data = Path(data)
    spec_file = find_spec(data)
    if spec_file is not None:
        return str(spec_file)
    is_cdiscount = data.suffix == ".bson" or (data.is_dir() and any(data.glob("*.bson")))
    return "cdiscount" if is_cdiscount else "rakuten"


def detect_from_header(truth: Path) -> str:
    """The built-in challenge whose submission header opens ``truth``; ``rakuten`` when none does (its check names
    the header)."""
    truth = Path(truth)
    if not truth.is_file():
        return "rakuten"
    with truth.open(encoding="utf-8", errors="replace") as f:
        first = f.readline().strip()
    return next((name for name in BUILT_IN if get_spec(name).submission_header == first), "rakuten")
