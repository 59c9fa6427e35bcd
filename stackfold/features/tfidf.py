"""TF-IDF fitted inside a fold, from a count matrix computed once for all rows.

Counting n-grams is the slow part of TF-IDF and learns nothing from the data; document
frequencies, the vocabulary cut (``min_df``, ``max_features``) and IDF weights are what a
vectorizer learns. :class:`FoldTfidf` learns exactly those from the rows it is fitted on,
so ``FoldTfidf().fit(counts[train])`` gives the same matrix as a ``TfidfVectorizer``
fitted on the training texts of the fold, while every model and fold shares one counting pass.
The shared count matrix may be pre-pruned to terms seen in at least ``min_df`` texts overall:
a term that reaches ``min_df`` in a fold's training rows reaches it overall, so nothing is lost.
"""

from typing import Self

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import normalize

from stackfold.core.blocks import Views


class FoldTfidf(TransformerMixin, BaseEstimator):
    """Column selection by document frequency, sublinear TF and smoothed IDF, l2-normalised rows."""

    def __init__(self, min_df: int = 2, max_features: int | None = None, sublinear_tf: bool = True):
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf

    def fit(self, counts: sp.spmatrix, y: object = None) -> Self:
        counts = sp.csr_matrix(counts)
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        columns = np.flatnonzero(df >= self.min_df)
        if self.max_features is not None and len(columns) > self.max_features:
            term_counts = np.asarray(counts.sum(axis=0)).ravel()[columns]
            best = np.argsort(-term_counts, kind="stable")[: self.max_features]
            columns = np.sort(columns[best])
        self.columns_ = columns
        self.idf_ = (np.log((1 + counts.shape[0]) / (1 + df[columns])) + 1).astype(np.float32)
        return self

    def transform(self, counts: sp.spmatrix) -> sp.csr_matrix:
        tf = sp.csr_matrix(counts)[:, self.columns_].astype(np.float32)
        if self.sublinear_tf:
            np.log(tf.data, out=tf.data)
            tf.data += 1
        weighted = tf @ sp.diags(self.idf_)
        if weighted.shape[1] == 0:  # no term reached min_df in the rows fitted on: no column to normalise
            return weighted.tocsr()
        return normalize(weighted, norm="l2", copy=False).tocsr()


class ViewsTfidf:
    """Fold-fitted TF-IDF of several count views side by side, each block l2-normalised on its own.

    The same as a ``FeatureUnion`` of one ``TfidfVectorizer`` per view, fitted on the fold's rows.
    """

    def __init__(self, blocks: dict[str, int | None], min_df: int = 2, sublinear_tf: bool = True):
        self.blocks = blocks
        self.min_df = min_df
        self.sublinear_tf = sublinear_tf

    def fit(self, X: Views) -> Self:
        self.fitted_ = {
            name: FoldTfidf(self.min_df, max_features, self.sublinear_tf).fit(X[name])
            for name, max_features in self.blocks.items()
        }
        return self

    def transform(self, X: Views) -> sp.csr_matrix:
        return sp.hstack([tfidf.transform(X[name]) for name, tfidf in self.fitted_.items()], format="csr")

    def fit_transform(self, X: Views) -> sp.csr_matrix:
        return self.fit(X).transform(X)
