"""Ensemble selection (Caruana et al. 2004): greedy forward selection of base models, with replacement.

Each step adds to the ensemble the base model whose addition maximises the challenge metric of the
averaged probabilities' argmax on the training rows (a log-loss challenge: minimises the log loss of the
averaged probabilities); a model may be added again, so the final weights ``counts / rounds`` are
multiples of ``1 / rounds``. It optimises the metric itself rather than log loss (where ``weighted_mean``
and ``log_pool`` fit theirs), as AutoGluon's ``WeightedEnsemble`` does, and its few discrete weights
overfit few rows little. It predicts as :class:`WeightedBlend`, over a dense or a
top-k stack (:class:`~stackfold.core.topk.Pool`: every row's candidates, the union of the models' top k).

On the 1,795 real products (text only, 5-fold CV on fold seeds 0-2) it scored as ``mean`` (+0.0007 weighted F1)
and below ``log_pool`` (-0.0091, 13 of 15 folds): opt-in. Its picks there include ``prior`` (3-9 of 25): a
constant block of class frequencies, added as a bias toward large classes, which weighted F1 pays for.
"""

from collections.abc import Sequence

import numpy as np

from stackfold.competition.metric import LOG_LOSS_CLIP, METRICS, metric_info, score_from_counts
from stackfold.core.params import Param, count
from stackfold.core.topk import Pool, TopKStack
from stackfold.ensembles.blend import EPS, POOLED_FIT_ROWS, WeightedBlend, covered_blocks, truth_probabilities
from stackfold.progress import Cost


class EnsembleSelection(WeightedBlend):
    """Weights of the base models picked greedily, with replacement, for the challenge metric on the training rows.

    ``rounds`` models are added in all: first the ``init`` best single models (Caruana's sorted
    initialisation: each once; at most ``rounds``), then one at a time the model whose addition scores best.
    A tie in the metric (common once the ensemble holds many picks) goes to the lower log loss of the averaged
    probabilities, then to the earlier model: never at random. ``metric`` is what the steps optimise (the
    configuration sets it to the challenge's): a label metric is maximised; log loss, the log loss of the
    ensemble's averaged probabilities (clipped as Kaggle's), is minimised.

    Parameters:
        rounds: picks in all, with replacement; a model's weight is its picks / ``rounds``.
        init: the best single models picked once each before the greedy steps (Caruana's sorted initialisation).
        metric: what each pick maximises (a label metric) or minimises (log loss); a run sets it to the challenge's.
    """

    name = "selection"
    cost = Cost(22.0)  # its 5-fold CV took 1.4-2x log_pool's on bench/stackers.py's 85k x 11-model stack
    parameters = {"rounds": count(25), "init": count(1), "metric": Param("weighted_f1", choices=tuple(METRICS))}

    def _fit(self, X: np.ndarray | TopKStack, y: np.ndarray) -> None:
        if isinstance(X, TopKStack) and len(y) > POOLED_FIT_ROWS:
            # as log_pool: a seeded sample bounds the (rows, models, candidates) floats
            rows = np.sort(np.random.default_rng(self.seed).choice(len(y), POOLED_FIT_ROWS, replace=False))
            X, y = X.take(rows), y[rows]
        truth = truth_probabilities(X, y, len(self.classes))
        if metric_info(self.params["metric"]).needs_probabilities:
            self.counts_ = self._select_by_loss(truth.astype(np.float64))
        else:
            if isinstance(X, TopKStack):
                pool = Pool.of(X.parts)
                blocks = np.where(pool.valid[:, None, :], pool.filled()[0], -np.inf)  # a repeated candidate never wins
                candidates = pool.candidates
            else:
                blocks, candidates = covered_blocks(X, len(self.classes)), None
            by_model = np.ascontiguousarray(blocks.transpose(1, 0, 2), dtype=np.float32)  # (models, rows, columns)
            score = _Scorer(y, len(self.classes), self.params["metric"], candidates)
            self.counts_ = self._select(by_model, truth, score)
        self.weights_ = self.counts_ / self.counts_.sum()

    def _select(self, by_model: np.ndarray, truth: np.ndarray, score: "_Scorer") -> np.ndarray:
        """How often each model is picked, from its probabilities ``by_model[m]`` ``(rows, columns)`` and of the
        true class ``truth[:, m]``: a tie in the metric goes to the lower log loss, then to the earlier model."""
        n_models = len(by_model)
        singles = [score(block) for block in by_model]
        n_first = min(self.params["init"], self.params["rounds"], n_models)
        first = _ranked(singles, _log_loss(truth, 0.0))[:n_first]
        counts = np.bincount(first, minlength=n_models)
        total, truth_total = by_model[first].sum(axis=0), truth[:, first].sum(axis=1)
        mixed = np.empty_like(total)
        for _ in range(self.params["rounds"] - n_first):
            scores = [score(np.add(total, by_model[m], out=mixed)) for m in range(n_models)]
            best = _ranked(scores, _log_loss(truth, truth_total))[0]
            counts[best] += 1
            total += by_model[best]
            truth_total += truth[:, best]
        return counts

    def _select_by_loss(self, truth: np.ndarray) -> np.ndarray:
        """How often each model is picked for the lowest log loss of the averaged probabilities, from each model's
        probability of the true class ``truth`` ``(rows, models)``: the same steps and ties as :meth:`_select`."""
        n_models = truth.shape[1]
        n_first = min(self.params["init"], self.params["rounds"], n_models)
        singles = _averaged_log_loss(truth, 0.0, 0)
        first = _ranked(-singles, singles)[:n_first]
        counts = np.bincount(first, minlength=n_models)
        truth_total = truth[:, first].sum(axis=1)
        for _ in range(self.params["rounds"] - n_first):
            losses = _averaged_log_loss(truth, truth_total, int(counts.sum()))
            best = _ranked(-losses, losses)[0]
            counts[best] += 1
            truth_total += truth[:, best]
        return counts


def _averaged_log_loss(truth: np.ndarray, truth_total: np.ndarray | float, picks: int) -> np.ndarray:
    """Each model's log loss, ``(models,)``, of the ensemble of ``picks`` models (their true-class probabilities
    summing to ``truth_total``) with it added: the averaged probabilities clipped at 1e-15 as Kaggle's (their rows
    already sum to 1, so renormalising after the clip moves nothing measurable)."""
    averaged = (truth + np.asarray(truth_total).reshape(-1, 1)) / (picks + 1)
    return -np.log(np.clip(averaged, LOG_LOSS_CLIP, 1 - LOG_LOSS_CLIP)).mean(axis=0)


def _log_loss(truth: np.ndarray, truth_total: np.ndarray | float) -> np.ndarray:
    """Each model's log loss, ``(models,)``, of the ensemble's probabilities (up to their scale) with it added."""
    return -np.log(truth + np.asarray(truth_total).reshape(-1, 1) + EPS).mean(axis=0)


def _ranked(scores: Sequence[float], losses: np.ndarray) -> np.ndarray:
    """Models best first: by the metric, then by the lower log loss, then the earlier model."""
    return np.lexsort((np.arange(len(scores)), losses, -np.asarray(scores)))


class _Scorer:
    """The metric of the argmax of summed probabilities over the training rows, from per-class counts; the
    columns are every class, or each row's ``candidates`` (class positions) of a top-k stack."""

    def __init__(self, y: np.ndarray, n_classes: int, metric: str, candidates: np.ndarray | None):
        self.y, self.n_classes, self.metric, self.candidates = y, n_classes, metric, candidates
        self.support = np.bincount(y, minlength=n_classes)

    def __call__(self, mixed: np.ndarray) -> float:
        predicted = mixed.argmax(axis=1)  # equals: the lowest class, as the candidates are sorted
        if self.candidates is not None:
            predicted = np.take_along_axis(self.candidates, predicted[:, None], axis=1)[:, 0]
        true_positives = np.bincount(self.y[predicted == self.y], minlength=self.n_classes)
        predicted_counts = np.bincount(predicted, minlength=self.n_classes)
        return float(score_from_counts(self.metric, true_positives, predicted_counts, self.support))
