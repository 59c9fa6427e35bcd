"""The 27 Rakuten product type codes, their training counts and confusable groups.

Codes and counts are the challenge spec's package data (``competition/data/rakuten_categories.csv``); the
groups are the families the real classes are confused within (books, toys, gaming,
furniture, baby, ...). Everything the generator makes that should be hard to tell apart
is shared inside a group.
"""

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import numpy as np
import pandas as pd

GROUPS: dict[str, tuple[int, ...]] = {
    "books": (10, 2280, 2403, 2705),
    "toys": (1280, 1281, 1300, 1302),
    "gaming": (40, 50, 60, 2462, 2905),
    "furniture": (1560, 2582),
    "baby": (1320, 1301),
    "collectibles": (1140, 1160, 1180),
    "home": (1920, 2060, 1940),
    "garden": (2583, 2585),
    "pets": (2220,),
    "stationery": (2522,),
}

# Share of products without a description, by class, shaped like the real data
# (old books, magazines and lots almost never have one; furniture nearly always does).
# Weighted by the real class counts this averages about 35 %.
EMPTY_DESCRIPTION: dict[int, float] = {
    10: 0.95, 2280: 0.85, 2403: 0.9, 2705: 0.3,
    40: 0.6, 50: 0.35, 60: 0.1, 2462: 0.85, 2905: 0.05,
    1280: 0.35, 1281: 0.35, 1300: 0.25, 1302: 0.15,
    1320: 0.3, 1301: 0.1,
    1140: 0.5, 1160: 0.85, 1180: 0.8,
    1560: 0.05, 2582: 0.1, 1920: 0.1, 2060: 0.1, 1940: 0.1,
    2583: 0.1, 2585: 0.2, 2220: 0.1, 2522: 0.25,
}

# Share of texts not in French, by group (old books and collectibles are often foreign).
FOREIGN_SHARE: dict[str, float] = {"books": 0.32, "collectibles": 0.3, "gaming": 0.22}
DEFAULT_FOREIGN_SHARE = 0.15


@dataclass(frozen=True)
class Catalogue:
    """Class codes (sorted), their sampling probabilities, names and group of each."""

    codes: tuple[int, ...]
    probabilities: np.ndarray
    names: tuple[str, ...]
    group_of: dict[int, str]

    def siblings(self, code: int) -> tuple[int, ...]:
        """The other classes of ``code``'s group (empty for a class alone in its group)."""
        return tuple(c for c in GROUPS[self.group_of[code]] if c != code)


@cache
def load_catalogue() -> Catalogue:
    """Read the packaged category table and attach the confusable groups."""
    path = files("stackfold.competition") / "data" / "rakuten_categories.csv"
    with path.open(encoding="utf-8") as handle:
        table = pd.read_csv(handle).sort_values("prdtypecode")
    codes = tuple(int(c) for c in table["prdtypecode"])
    group_of = {code: name for name, members in GROUPS.items() for code in members}
    missing = sorted(set(codes) - set(group_of))
    if missing:
        raise ValueError(f"rakuten_categories.csv has codes without a synthetic group: {missing}")
    counts = table["n_train"].to_numpy(dtype=float)
    return Catalogue(
        codes=codes,
        probabilities=counts / counts.sum(),
        names=tuple(table["label_fr_guess"]),
        group_of=group_of,
    )
