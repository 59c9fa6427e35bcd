"""N-gram counts of texts: learning the vocabulary of a run's texts, and counting new texts over it.

``CountVectorizer.fit_transform`` stores each row's terms in the order the terms first occurred in the whole
corpus, then renumbers them alphabetically without re-sorting. The vocabulary is therefore kept in that
first-occurrence order: counting new texts over it and renumbering the same way stores their rows exactly as
the run's counting stored its own, so the TF-IDF sums built on them agree bit for bit (``stackfold predict``
reproduces a run's test probabilities).
"""

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer


def count_terms(texts: np.ndarray, options: dict[str, Any], min_df: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """Counts of the n-grams in at least ``min_df`` of ``texts`` (``CountVectorizer`` ``options``), columns in
    alphabetical order, and those n-grams in the order they first occur; no n-gram that often: no column."""
    vectorizer = CountVectorizer(**options, min_df=min_df)
    try:
        counts = vectorizer.fit_transform(texts)
    except ValueError as e:  # scikit-learn's "empty vocabulary": no n-gram is in min_df texts
        if "empty vocabulary" not in str(e):
            raise
        return sp.csr_matrix((len(texts), 0), dtype=options.get("dtype", np.float64)), np.array([], dtype=str)
    terms = vectorizer.get_feature_names_out().astype(str)
    _, first = np.unique(counts.indices, return_index=True)  # every column occurs: its df reaches min_df >= 1
    return counts, terms[np.argsort(first, kind="stable")]


def count_over(terms: np.ndarray, texts: np.ndarray, options: dict[str, Any]) -> sp.csr_matrix:
    """Counts of ``terms`` (in first-occurrence order, from :func:`count_terms`) in ``texts``: columns in
    alphabetical order, each row stored as ``count_terms`` stores its rows."""
    if not len(terms):
        return sp.csr_matrix((len(texts), 0), dtype=options.get("dtype", np.float64))
    counts = CountVectorizer(**options, vocabulary=dict(zip(terms, range(len(terms))))).transform(texts)
    alphabetical = np.empty(len(terms), dtype=counts.indices.dtype)
    alphabetical[sorted(range(len(terms)), key=terms.__getitem__)] = np.arange(len(terms))
    counts.indices = alphabetical[counts.indices]
    counts.has_sorted_indices = False
    return counts
