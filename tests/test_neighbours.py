"""Neighbour votes: a near-duplicate listing outvotes loose matches; no class is ever certain."""

import numpy as np
import scipy.sparse as sp

from stackfold.models.neighbours import NeighbourVotes


def _rows(*rows: list[float]) -> sp.csr_matrix:
    return sp.csr_matrix(np.array(rows, dtype=np.float32))


def test_a_near_duplicate_outvotes_several_loose_matches():
    train = _rows([1, 0, 0], [0.6, 0.8, 0], [0.6, 0.8, 0], [0.6, 0.8, 0])
    votes = NeighbourVotes(n_neighbors=4, temperature=0.05).fit(train, np.array([3, 7, 7, 7]))
    proba = votes.predict_proba(_rows([0.99, 0.1, 0]))
    assert votes.classes_.tolist() == [3, 7] and proba[0, 0] > 0.9
    flat = NeighbourVotes(n_neighbors=4, temperature=10.0).fit(train, np.array([3, 7, 7, 7]))
    assert flat.predict_proba(_rows([0.99, 0.1, 0]))[0, 1] > 0.5  # a high temperature counts heads instead


def test_votes_are_smoothed_and_a_row_matching_nothing_is_flat():
    train = _rows([1, 0], [0, 1], [0, 1])
    votes = NeighbourVotes(n_neighbors=2, smoothing=0.01).fit(train, np.array([0, 1, 2]))
    proba = votes.predict_proba(_rows([1, 0], [0, 0]))
    assert np.allclose(proba.sum(axis=1), 1) and np.all(proba > 0)
    assert np.allclose(proba[1], 1 / 3, atol=1e-6)  # no term in common: every neighbour is far, smoothing decides


def test_fewer_rows_than_neighbours():
    votes = NeighbourVotes(n_neighbors=10).fit(_rows([1, 0], [0, 1]), np.array([0, 1]))
    assert votes.predict_proba(_rows([1, 0])).argmax() == 0
