"""The report's train/test shift section: each view's AUC, what separates, the most test-like training rows, and
each leaderboard row's OOF score beside that score weighted toward test-like rows."""

import numpy as np
import pandas as pd

from stackfold.competition.metric import LABEL_METRICS, metric_info
from stackfold.report import charts
from stackfold.report.blocks import Cell, Section, Table, number, text
from stackfold.report.contents import RunContents
from stackfold.shift.result import WEIGHT, ShiftResult


def shift_section(run: RunContents) -> Section:
    section = Section("shift", "Train/test shift")
    result = run.folder.load_shift()
    if result is None:
        section.note(f"No shift check: set shift = true in the run's configuration, or run `stackfold shift DATA "
                     f"--out {run.folder.root}` (it reuses the run's cached views), then `stackfold report` again.")
        return section
    if result.data != run.origin.get("data"):
        section.note(f"The shift check in {run.folder.shift} was made on other data than this run's; run "
                     f"`stackfold shift DATA --out {run.folder.root}` again.")
        return section
    section.note(f"Per feature view, a classifier cross-validated ({result.folds} folds, stratified, seed "
                 f"{result.seed}) to tell the {result.n_test} test rows from the {result.n_train} training rows; "
                 "the AUC of its out-of-fold test-probabilities, with a 95% stratified bootstrap interval "
                 "(1,000 resamples). 0.5: the test rows look like the training rows; near 1: they differ, and the "
                 f"separators below say how. Checked in {result.seconds:.0f} s."
                 + (f" Not checked: {'; '.join(f'{v} ({why})' for v, why in result.skipped.items())}."
                    if result.skipped else ""))
    views = [view.view for view in result.views]
    figure = charts.intervals(views, [v.auc.value for v in result.views], [v.auc.low for v in result.views],
                              [v.auc.high for v in result.views], [v.auc.low > 0.5 for v in result.views],
                              "AUC of train against test (95% bootstrap interval); blue: above 0.5")
    figure.axes[0].axvline(0.5, color="black", linewidth=0.8)
    section.chart(figure, "AUC per view: how well a classifier tells test rows from training rows")
    section.blocks.append(Table(["view", "AUC", "95% interval", "seconds", "toward test", "toward train"], [
        [text(v.view), number(v.auc.value, 3), Cell(f"[{v.auc.low:.3f}, {v.auc.high:.3f}]", repr(v.auc.low)),
         number(v.seconds, 1), *(text(", ".join(s.feature for s in v.separators if s.side == side))
                                 for side in ("test", "train"))]
        for v in result.views], id="shift-table"))
    _separators(section, result)
    _weighted_scores(section, run, result)
    titled = any(row.title for row in result.test_like)  # a challenge without text has none
    section.blocks.append(Table(["id", "P(test)", *(["title"] if titled else [])], [
        [text(row.id), number(row.p_test, 3), *([text(row.title)] if titled else [])] for row in result.test_like],
        id="test-like-table"))
    return section


def _separators(section: Section, result: ShiftResult) -> None:
    rows = [[text(v.view), text(s.feature), text(s.side), number(s.strength, 3), number(s.train, 3),
             number(s.test, 3)] for v in result.views for s in v.separators]
    if not rows:
        return
    strengths = "; ".join(f"{v.view}: {v.strength}" for v in result.views if v.separators)
    section.note(f"What separates most, per view. Terms: the share of each side's rows holding the term; features: "
                 f"each side's mean. Strength: {strengths}.")
    section.blocks.append(Table(["view", "term or feature", "toward", "strength", "train", "test"], rows,
                                id="separators-table"))


def _weighted_scores(section: Section, run: RunContents, result: ShiftResult) -> None:
    """Each row's OOF score, unweighted and weighted by its training rows' test-likeness odds, side by side."""
    weights = pd.Series(result.rows[WEIGHT].to_numpy(), index=result.rows.index.astype(str))
    weights = weights.reindex(run.assignment.index.astype(str)).to_numpy()
    if np.isnan(weights).any():
        section.note("The shift check's training rows are not this run's: no weighted score.")
        return
    metric = run.spec.metric
    info = metric_info(metric)
    board = run.leaderboard
    weighted = np.array([_weighted(run, name, weights) for name in board["model"]])
    ranks = pd.Series(weighted * info.sign()).rank(ascending=False, method="min").astype(int).to_numpy()
    direction = "" if info.higher_is_better else ", lower is better"
    section.note(f"Validation weighted toward test-like rows: each training row counts its test-likeness odds "
                 f"p / (1 - p) (scaled to a mean of 1; effective rows {result.effective_rows:,.0f} of "
                 f"{result.n_train}). OOF {metric}{direction}, unweighted and weighted, side by side; best.csv stays "
                 f"the leaderboard's top row ({run.best})"
                 + ("." if ranks[0] == 1 else f"; weighted, {board['model'].iloc[int(np.argmin(ranks))]} ranks first "
                    f"(`stackfold predict {run.folder.root} DATA --row NAME` writes any row's submission)."))
    section.blocks.append(Table(["#", "model", f"OOF {metric}", f"test-weighted OOF {metric}", "weighted - OOF",
                                 "weighted rank"], [
        [number(rank, 0), text(name), number(score), number(value), number(value - score), number(weighted_rank, 0)]
        for rank, (name, score, value, weighted_rank)
        in enumerate(zip(board["model"], board["oof_score"], weighted, ranks), start=1)], id="weighted-table"))


def _weighted(run: RunContents, name: str, weights: np.ndarray) -> float:
    """Row ``name``'s OOF score with each training row counted ``weights`` times (rows no fold covered: left out)."""
    if name in run.losses:
        losses = run.losses[name]
        covered = ~np.isnan(losses)
        return float(np.average(losses[covered], weights=weights[covered]))
    predicted = run.predictions[name]
    covered = predicted >= 0
    return LABEL_METRICS[run.spec.metric](run.y[covered], predicted[covered], sample_weight=weights[covered])
