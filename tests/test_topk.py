"""Top-k probabilities: the same results as dense ones when k is every class, bounded memory when it is not."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from stackfold.competition.folds import make_folds
from stackfold.core.cv import cross_validate
from stackfold.core.estimator import BaseModel
from stackfold.core.stack import stack_matrix
from stackfold.core.topk import TopK, TopKStack, average
from stackfold.ensembles.blend import LogPool, MeanBlend, WeightedBlend
from stackfold.ensembles.selection import EnsembleSelection

N_CLASSES = 12
CLASSES = list(range(100, 100 + N_CLASSES))


class _LogisticModel(BaseModel):
    """A base model over a dense matrix, enough to exercise the OOF loop."""

    name = "logistic"

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        self.model_ = LogisticRegression(max_iter=200, C=0.3).fit(X, y)

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        proba = np.zeros((len(X), len(self.classes)))
        proba[:, self.model_.classes_] = self.model_.predict_proba(X)
        return proba


def _problem(seed: int, n: int = 600, noise: float = 2.5) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, N_CLASSES, n)
    centres = rng.normal(size=(N_CLASSES, 6))
    X = centres[y] + noise * rng.normal(size=(n, 6))
    X_test = centres[rng.integers(0, N_CLASSES, 150)] + noise * rng.normal(size=(150, 6))
    return X, np.asarray(CLASSES)[y], X_test, make_folds(np.asarray(CLASSES)[y], 3, seed)


def _base_results(top_k: int | None):
    results = []
    for seed in range(3):
        X, y, X_test, folds = _problem(0)
        noisy = X + np.random.default_rng(seed + 10).normal(scale=1.0 + seed, size=X.shape)
        results.append(cross_validate(lambda s=seed: _LogisticModel(CLASSES, seed=s), noisy, y, X_test, folds,
                                      name=f"m{seed}", quiet=True, top_k=top_k))
    return results, y, folds


def test_from_dense_keeps_the_best_k_best_first_with_argmax_ties_and_the_rest():
    proba = np.array([[0.1, 0.4, 0.4, 0.1], [0.7, 0.1, 0.1, 0.1], [np.nan] * 4])
    top = TopK.from_dense(proba, 2)
    assert top.classes[:2].tolist() == [[1, 2], [0, 1]]
    assert top.rest[:2] == pytest.approx([0.2, 0.2], abs=1e-3)  # what the float16 listed values leave
    assert top.predicted().tolist() == [1, 0, -1]
    dense = top.to_dense()
    assert dense[0] == pytest.approx([0.1, 0.4, 0.4, 0.1], abs=1e-3) and np.isnan(dense[2]).all()
    looked_up = top.probability_of(np.array([[3, 1], [0, 2], [0, 0]]))
    np.testing.assert_allclose(looked_up[:2], [[0.1, 0.4], [0.7, 0.1]], atol=1e-3)  # class 3, 2: the rest's share


def test_top_k_of_every_class_gives_the_dense_oof_and_test():
    dense, y, _ = _base_results(None)
    top, _, _ = _base_results(N_CLASSES)
    for d, t in zip(dense, top):
        assert isinstance(t.oof, TopK) and isinstance(t.test, TopK)
        np.testing.assert_allclose(t.oof.to_dense(), d.oof, atol=1e-3)
        np.testing.assert_allclose(t.test.to_dense(), d.test, atol=1e-3)
        assert (t.oof.predicted() == d.oof.argmax(axis=1)).mean() > 0.99
        assert t.summary()["accuracy"] == pytest.approx(d.summary()["accuracy"], abs=0.01)


@pytest.mark.parametrize("stacker", [MeanBlend, WeightedBlend, LogPool, EnsembleSelection])
def test_blends_over_top_k_of_every_class_equal_the_dense_blends(stacker):
    dense, y, folds = _base_results(None)
    top, _, _ = _base_results(N_CLASSES)
    dense_X, dense_test = stack_matrix(dense, "oof"), stack_matrix(dense, "test")
    top_X, top_test = TopKStack(tuple(r.oof for r in top)), TopKStack(tuple(r.test for r in top))
    on_dense = cross_validate(lambda: stacker(CLASSES), dense_X, y, dense_test, folds, name="s", quiet=True,
                              refit=True)
    on_top = cross_validate(lambda: stacker(CLASSES), top_X, y, top_test, folds, name="s", quiet=True, refit=True,
                            top_k=N_CLASSES)
    np.testing.assert_allclose(on_top.oof.to_dense(), on_dense.oof, atol=2e-3)
    np.testing.assert_allclose(on_top.test.to_dense(), on_dense.test, atol=2e-3)
    assert on_top.summary()["accuracy"] == pytest.approx(on_dense.summary()["accuracy"], abs=0.01)


@pytest.mark.parametrize("stacker", [MeanBlend, WeightedBlend, LogPool, EnsembleSelection])
def test_blends_over_a_small_top_k_stay_close_to_dense(stacker):
    dense, y, folds = _base_results(None)
    top, _, _ = _base_results(4)
    on_dense = cross_validate(lambda: stacker(CLASSES), stack_matrix(dense, "oof"), y, None, folds, name="s",
                              quiet=True)
    on_top = cross_validate(lambda: stacker(CLASSES), TopKStack(tuple(r.oof for r in top)), y, None, folds,
                            name="s", quiet=True, top_k=4)
    assert on_top.oof.k == 4 and on_top.oof.classes.dtype == np.int16
    assert on_top.summary()["accuracy"] == pytest.approx(on_dense.summary()["accuracy"], abs=0.03)


def test_average_of_fold_predictions_is_the_mean_of_their_probabilities():
    rng = np.random.default_rng(0)
    parts = [rng.dirichlet(np.ones(N_CLASSES), 40) for _ in range(3)]
    mean = average([TopK.from_dense(p, N_CLASSES) for p in parts], N_CLASSES, rows_per_chunk=7)
    np.testing.assert_allclose(mean.to_dense(), np.mean(parts, axis=0), atol=2e-3)


def test_top_k_rows_are_84_bytes_at_k_20():
    top = TopK.from_dense(np.random.default_rng(0).dirichlet(np.ones(5270), 50), 20)
    assert top.nbytes / len(top) == 84


def test_top_k_folds_resume_from_checkpoints_with_the_same_result(tmp_path):
    X, y, X_test, folds = _problem(1)
    calls = []

    def make_model() -> BaseModel:
        calls.append(1)
        return _LogisticModel(CLASSES)

    first = cross_validate(make_model, X, y, X_test, folds, name="m", quiet=True, top_k=3, checkpoint_dir=tmp_path)
    again = cross_validate(make_model, X, y, X_test, folds, name="m", quiet=True, top_k=3, checkpoint_dir=tmp_path)
    assert len(calls) == 3  # every fold of the second call came from its checkpoint
    for part in ("oof", "test"):
        a, b = getattr(first, part), getattr(again, part)
        assert all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("classes", "proba", "rest"))


def test_top_k_files_round_trip_and_hold_no_pickle(tmp_path):
    top = TopK.from_dense(np.random.default_rng(0).dirichlet(np.ones(N_CLASSES), 30), 5)
    top.save(tmp_path / "oof.npz", np.arange(30))
    back = TopK.load(tmp_path / "oof.npz")
    assert back.n_classes == N_CLASSES and np.array_equal(back.proba, top.proba)
    with np.load(tmp_path / "oof.npz", allow_pickle=False) as saved:
        assert all(saved[name].dtype != object for name in saved.files)


def test_a_cluster_task_returns_top_k_folds_that_its_checkpoint_keeps(tmp_path):
    """What a Dask worker runs (``cluster.tasks``) and the client saves: the same top-k fold as a local run."""
    from stackfold.cluster import tasks
    from stackfold.core.cv import fit_fold, load_checkpoint, save_checkpoint

    X, y, X_test, folds = _problem(2)
    train, valid = np.flatnonzero(folds != 0), np.flatnonzero(folds == 0)
    remote = tasks.fit_fold(lambda: _LogisticModel(CLASSES), X, y, X_test, train, valid, 1, 4)
    local = fit_fold(_LogisticModel(CLASSES), X, y, X_test, train, valid, 4)
    assert set(remote.pop("model_files")) == {"model.pkl", "format.json"}  # the client writes them apart
    save_checkpoint(tmp_path / "fold_0.npz", remote)
    saved = load_checkpoint(tmp_path / "fold_0.npz")
    for part in ("valid", "test"):
        assert isinstance(saved[part], TopK) and saved[part].k == 4
        assert np.array_equal(saved[part].classes, local[part].classes)
        assert np.array_equal(saved[part].proba, local[part].proba)
    assert float(saved["accuracy"]) == float(local["accuracy"])
