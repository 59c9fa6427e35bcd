"""Nearest-neighbour votes: the listings most like a product, and their classes.

The challenge holds many near-identical listings (a seller's series, the same item in another
colour). A linear model spreads that evidence over every term; a neighbour vote uses it whole,
and errs in other ways than the linear models, which is what a stack needs.
"""

from typing import Self

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.neighbors import NearestNeighbors

from stackfold.core.params import count, positive
from stackfold.models.text_linear import TfidfModel
from stackfold.progress import Cost


class NeighbourVotes(ClassifierMixin, BaseEstimator):
    """Votes of the ``n_neighbors`` training rows nearest by cosine distance ``d``, each ``exp(-d / temperature)``.

    A small ``temperature`` lets a near-duplicate (``d`` close to 0) outvote many loose matches.
    ``smoothing`` is added to every class's votes, so no class gets a probability of exactly 0.
    A row without any feature (an empty title) is at distance 1 from all: its vote is (almost) flat.
    """

    def __init__(self, n_neighbors: int = 10, temperature: float = 0.05, smoothing: float = 0.01,
                 n_jobs: int | None = None):
        self.n_neighbors = n_neighbors
        self.temperature = temperature
        self.smoothing = smoothing
        self.n_jobs = n_jobs

    def fit(self, X: object, y: np.ndarray) -> Self:
        self.classes_, self.codes_ = np.unique(y, return_inverse=True)
        self.index_ = NearestNeighbors(n_neighbors=min(self.n_neighbors, len(y)), metric="cosine", algorithm="brute",
                                       n_jobs=self.n_jobs).fit(X)
        return self

    def predict_proba(self, X: object) -> np.ndarray:
        distances, neighbours = self.index_.kneighbors(X)
        votes = np.full((distances.shape[0], len(self.classes_)), self.smoothing)
        rows = np.repeat(np.arange(distances.shape[0]), distances.shape[1])
        np.add.at(votes, (rows, self.codes_[neighbours].ravel()), np.exp(-distances / self.temperature).ravel())
        return votes / votes.sum(axis=1, keepdims=True)


class TitleKNN(TfidfModel):
    """Neighbour votes (:class:`NeighbourVotes`) on the fold-fitted word 1-2-gram TF-IDF of the title alone.

    Titles name the item; descriptions (often empty, often boilerplate) blur the match: offline, on the
    real rows, the title's neighbours raised the ``log_pool`` stack by 0.4 points and the whole text's by 0.1.
    Opt-in: in a run on the real rows (5-fold CV, fold seeds 0-2) it scores 0.53 alone and raised
    ``log_pool`` by 0.14 points, by 0.06 once ``linear_svc`` and ``logreg`` read the title blocks: noise. On the
    challenge's 68,000 training rows a fold there are more near-duplicates to find; that is not measured.

    Parameters:
        title_word_max_features: the title's vocabulary keeps at most this many terms, the most frequent in the fold.
        n_neighbors: training listings that vote for each row, the nearest by cosine distance.
        temperature: a neighbour at cosine distance d votes ``exp(-d / temperature)``: smaller, and a near-duplicate
            outvotes loose matches.
        smoothing: a vote every class gets, so no probability is 0.
    """

    name = "title_knn"
    cost = Cost(200.0)
    views = ("title_counts",)
    parameters = {"min_df": count(2), "title_word_max_features": count(200_000), "n_neighbors": count(10),
                  "temperature": positive(0.05), "smoothing": positive(0.01)}

    def _estimator(self, y: np.ndarray) -> NeighbourVotes:
        p = self.params
        return NeighbourVotes(p["n_neighbors"], p["temperature"], p["smoothing"], self.n_jobs)
