"""Text cleaning shared by the text models: HTML decoded and stripped, title and description joined."""

import html
import re
import warnings

import numpy as np
import pandas as pd
from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

from stackfold.progress import track

_MARKUP = re.compile(r"[<&]")
_SPACES = re.compile(r"\s+")


def strip_html(text: str) -> str:
    """Plain text of ``text``: tags removed, entities decoded, whitespace collapsed.

    Only strings that can hold markup go through BeautifulSoup, which keeps clean
    text (most rows) fast.
    """
    if _MARKUP.search(text):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
            text = BeautifulSoup(text, "html.parser").get_text(" ")
        text = html.unescape(text)
    return _SPACES.sub(" ", text).strip()


def title_descr(
    frame: pd.DataFrame, columns: tuple[str, ...] = ("designation", "description"), description: str = "cleaning text"
) -> np.ndarray:
    """One cleaned string per product: the text columns joined, missing parts as empty strings."""
    parts = frame[list(columns)].fillna("").astype(str).itertuples(index=False, name=None)
    joined = [" ".join(row) for row in parts]  # (DataFrame.agg on no rows gives one value per column)
    return np.array([strip_html(text) for text in track(joined, description)], dtype=object)
