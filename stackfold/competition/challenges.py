"""The challenges a run can name: the built-in ones (spec files shipped in the package) and any spec file."""

from dataclasses import replace
from functools import cache
from importlib.resources import files
from pathlib import Path

from stackfold.competition.spec import CompetitionSpec
from stackfold.competition.spec_file import read_spec
from stackfold.errors import ConfigError

BUILT_IN = ("cdiscount", "rakuten")
"""The challenges whose spec files ship in the package (``competition/data/<name>.toml``)."""


def built_in_path(name: str) -> Path:
    """Where the spec file of built-in challenge ``name`` lies inside the package."""
    return Path(str(files("stackfold.competition") / "data" / f"{name}.toml"))


@cache
def _built_in(name: str) -> CompetitionSpec:
    return replace(read_spec(built_in_path(name)), source="")


def get_spec(challenge: str, data: Path | None = None) -> CompetitionSpec:
    """The spec of ``challenge``: a built-in name (``rakuten``, ``cdiscount``) or the path of a spec file.

    ``data``: the data folder a spec file's classes are read from when it lists none (by default the spec
    file's own folder).
    """
    if challenge in BUILT_IN:
        return _built_in(challenge)
    if challenge.endswith(".toml") or Path(challenge).is_file():
        return read_spec(Path(challenge), data)
    raise ConfigError(f"unknown challenge {challenge!r}; give a spec file (challenge.toml, see `stackfold init`) or "
                      f"one of: {', '.join(BUILT_IN)}")


def rakuten() -> CompetitionSpec:
    """The Rakuten France Multimodal Product Data Classification challenge (ENS challenge 35)."""
    return get_spec("rakuten")


def cdiscount() -> CompetitionSpec:
    """Cdiscount's Image Classification Challenge (Kaggle, 2017): images only, 5,270 categories."""
    return get_spec("cdiscount")
