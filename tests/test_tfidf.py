"""Fold-local TF-IDF from shared counts equals a TfidfVectorizer fitted on the fold's texts."""

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from stackfold.features.tfidf import FoldTfidf

TEXTS = np.array([
    "piscine filtre pompe chlore", "filtre sable piscine", "livre roman auteur", "roman policier livre poche",
    "console manette jeu", "jeu video console portable", "chlore choc piscine", "auteur livre ancien",
    "manette sans fil", "pompe piscine hors sol", "", "jeu de société",
])


@pytest.mark.parametrize(("analyzer", "ngrams", "max_features"), [
    ("word", (1, 2), None), ("word", (1, 2), 2), ("char_wb", (2, 5), None), ("char_wb", (2, 5), 6),
    ("char_wb", (2, 5), 15),
])
def test_matches_tfidf_vectorizer_fitted_in_the_fold(analyzer, ngrams, max_features):
    """The same terms and the same values as sklearn, with and without a ``max_features`` cut."""
    train, valid = np.arange(8), np.arange(8, 12)
    options = dict(analyzer=analyzer, ngram_range=ngrams)
    vectorizer = CountVectorizer(min_df=2, dtype=np.float32, **options)
    counts = vectorizer.fit_transform(TEXTS)  # pre-pruned over all rows
    ours = FoldTfidf(min_df=2, max_features=max_features).fit(counts[train])
    reference = TfidfVectorizer(min_df=2, max_features=max_features, sublinear_tf=True, **options).fit(TEXTS[train])
    if max_features is not None:  # the cut drops terms, between two frequencies: no tie for sklearn to break its way
        in_fold = CountVectorizer(min_df=2, **options).fit_transform(TEXTS[train])
        frequencies = np.sort(np.asarray(in_fold.sum(axis=0)).ravel())[::-1]
        assert len(frequencies) > max_features and frequencies[max_features - 1] > frequencies[max_features]
    assert list(vectorizer.get_feature_names_out()[ours.columns_]) == list(reference.get_feature_names_out())
    for rows in (train, valid):
        expected = reference.transform(TEXTS[rows]).toarray()
        assert np.allclose(ours.transform(counts[rows]).toarray(), expected, atol=1e-6)


def test_terms_unseen_in_the_fold_are_dropped():
    counts = CountVectorizer(dtype=np.float32).fit_transform(["aaa bbb", "aaa ccc", "ccc ddd", "ddd aaa"])
    model = FoldTfidf(min_df=2).fit(counts[:2])  # only "aaa" is in two training rows
    assert model.transform(counts).shape == (4, 1)
