"""Sections about the models: leaderboard with intervals, per-class F1, confusion, diversity, calibration."""

import numpy as np
import pandas as pd

from stackfold.competition.metric import metric_info
from stackfold.report import analysis, charts
from stackfold.report.blocks import Cell, Choice, Section, Table, frame_table, labels, number, text
from stackfold.report.contents import RunContents
from stackfold.run_folder import Level

MAX_CLASS_ROWS = 200
"""The per-class table of a challenge with more classes keeps the classes with the most rows."""


def leaderboard_section(run: RunContents) -> Section:
    board = run.leaderboard
    metric = run.spec.metric
    higher = metric_info(metric).higher_is_better
    section = Section("leaderboard", "Leaderboard")
    direction, gap = ("", "top row minus this row") if higher else (
        ", lower is better", "this row minus top row (positive: worse)")
    section.note(f"Rows ranked by the CV mean of the challenge metric ({metric}{direction}) over {run.config.folds} "
                 "folds; the top row is submitted as best.csv. OOF: the metric of the pooled out-of-fold predictions, "
                 "with its 95% stratified bootstrap interval (1,000 resamples). Gap: the paired bootstrap interval "
                 f"of {gap} on the same resamples; '=' marks rows whose gap interval holds 0, "
                 "i.e. not significantly worse than the top row.")
    loss_column = "log_loss" in board.columns  # a log-loss challenge's run: its CV mean fold log loss
    rows = []
    for rank, r in enumerate(board.to_dict("records"), start=1):
        rows.append([
            number(rank, 0), text(r["model"]), text(r["level"]),
            Cell(f"{r['oof_score']:.4f}", repr(r["oof_score"])),
            Cell(f"[{r['ci_low']:.4f}, {r['ci_high']:.4f}]", repr(r["ci_low"]), "interval"),
            Cell(f"[{r['gap_low']:+.4f}, {r['gap_high']:+.4f}]", repr(r["gap_low"]), "interval"),
            Cell("=" if r["tied"] else "", "1" if r["tied"] else "0", "tied" if r["tied"] else ""),
            Cell(f"{r['wf1_mean']:.4f} ± {r['wf1_std']:.4f}", repr(r["wf1_mean"])),
            number(r["accuracy"]), number(r["macro_f1"]), *([number(r["log_loss"])] if loss_column else []),
            number(r["fit_s"], 1), number(r["predict_s"], 1),
            number(r["blank_images"], 0), Cell("*" if r["submitted"] else "", "1" if r["submitted"] else "0"),
        ])
    section.blocks.append(Table(
        ["#", "model", "level", f"OOF {metric}", "95% interval", "gap to top (95%)", "tied", "wF1 fold mean ± std",
         "accuracy", "macro F1", *(["log loss fold mean"] if loss_column else []), "fit s", "predict s",
         "blank images", "submitted"], rows, id="leaderboard-table"))
    suspects = board["model"][board["leak_suspect"]] if "leak_suspect" in board.columns else []
    if len(suspects):
        section.note(f"Leak suspect: {', '.join(suspects)}, trained outside stackfold, scores above every built-in "
                     "model out of fold, and is far surer of its out-of-fold rows than of the test rows: check that it was "
                     "trained on the folds of folds.csv.")
    label = f"OOF {metric} (95% bootstrap interval{direction}); blue: tied with the top row"
    section.chart(charts.intervals(board["model"], board["oof_score"], board["ci_low"], board["ci_high"],
                                   board["tied"], label),
                  "OOF score and 95% bootstrap interval of every row")
    section.chart(charts.times(board["model"], board["fit_s"], board["predict_s"]),
                  "Fit and predict seconds over all folds (stackers: with their refit on all rows)")
    return section


def per_class_section(run: RunContents) -> Section:
    section = Section("per-class", "Per-class F1")
    predictions = run.predictions
    frame = analysis.per_class_f1(run.y, predictions, run.spec.classes, run.spec.class_names)
    if len(frame) > MAX_CLASS_ROWS:
        present = frame[frame["support"] > 0]
        shown = min(MAX_CLASS_ROWS, len(present))
        section.note(f"{len(frame)} classes, {len(present)} with training rows: the {shown} with the most rows are "
                     "shown.")
        frame = present.nlargest(MAX_CLASS_ROWS, "support", keep="first").sort_index()
    section.note("F1 of every class on the OOF rows, for every model and stacker (columns in leaderboard order); "
                 "the best of each class is highlighted. Click a header to sort.")
    models = list(predictions)
    table = frame_table(frame, id="per-class-table")
    f1 = frame[models].to_numpy()
    first = len(frame.columns) - len(models)
    for row, values in zip(table.rows, f1):
        for k in np.flatnonzero((values == values.max()) & (values > 0)):
            row[first + k] = Cell(row[first + k].text, row[first + k].sort, "best")
    section.blocks.append(table)
    return section


def confusion_section(run: RunContents) -> Section:
    section = Section("confusion", "Confusion")
    section.note("Row-normalised confusion matrix on the OOF rows: each true class's row shows where its products "
                 "went. Choose a row of the leaderboard; the top row is shown first.")
    names = labels(run.spec.classes, run.spec.class_names)
    models = list(run.leaderboard["model"])
    section.blocks.append(Choice("confusion", "leaderboard row", models))
    figure, drawn = None, None
    for name in models:
        counts = analysis.confusion_counts(run.y, run.predictions[name], run.spec.n_classes)
        shown = analysis.shown_classes(counts)
        title = name if len(shown) == len(counts) else f"{name}: the {len(shown)} classes with the most errors"
        matrix = analysis.row_normalised(counts)[np.ix_(shown, shown)]
        if drawn is not None and np.array_equal(drawn, shown):
            figure = charts.redraw_heatmap(figure, matrix, title)
        else:
            labels_shown = [names[i] for i in shown]
            figure = charts.heatmap(matrix, labels_shown, labels_shown, title, "share of the true class's rows")
        drawn = shown
        section.chart(figure, f"{name}: rows true class, columns predicted class", group="confusion", key=name)
        pairs = analysis.top_confused_pairs(counts, names)
        section.blocks.append(frame_table(pairs, group="confusion", key=name, sortable=False))
    return section


def diversity_section(run: RunContents) -> Section:
    section = Section("diversity", "Diversity of the base models")
    base = [m for m in run.leaderboard["model"] if run.level(m) == Level.BASE]
    if len(base) < 2:
        section.note("One base model: nothing to compare.")
    else:
        correlation = analysis.error_correlation(run.y, {m: run.predictions[m] for m in base})
        section.note("Correlation of the base models' OOF errors (1 = wrong, 0 = right): models that fail on the "
                     "same rows (high correlation) add little to each other in a stack.")
        section.chart(charts.heatmap(correlation.to_numpy(), base, base, "correlation of OOF errors",
                                     "Pearson correlation", vmin=-1, vmax=1, cmap="RdBu_r",
                                     annotate=len(base) <= 20), "Error correlation between base models")
    if "lgbm" not in run.predictions:
        section.note("SHAP shares: the run has no lgbm stacker to explain.")
        return section
    shares = run.folder.load_shares(run.folder.manifest(Level.STACK, "lgbm").get("key"))
    if shares is None:
        section.note(f"SHAP shares: none saved for this run's lgbm stacker; run `stackfold explain {run.folder.root}`.")
    else:
        section.chart(charts.shares(shares.sort_values(ascending=False), "share of mean |SHAP| in the lgbm stacker"),
                      "How much the LightGBM stacker leans on each base model (stackfold explain)")
    return section


def calibration_section(run: RunContents) -> Section:
    section = Section("calibration", "Calibration")
    bins, ece = analysis.reliability(run.best_oof, run.y)
    section.note(f"Reliability of the top row ({run.best}): in each confidence bin, how often its prediction is "
                 "right. Below the diagonal: over-confident; above: under-confident.")
    section.chart(charts.reliability(bins, ece, run.best), f"Reliability diagram of {run.best}")
    section.blocks.append(frame_table(bins, sortable=False))
    return section


def class_distribution(run: RunContents, submitted: pd.Series | None = None) -> pd.DataFrame:
    """Share of each class among training rows (and among a submission's predictions), indexed by class code.

    A challenge with more than :data:`~stackfold.report.analysis.MAX_SHOWN_CLASSES` classes
    keeps the most frequent ones in training and sums the rest as ``other``.
    """
    frame = pd.DataFrame({"train": analysis.class_shares(run.assignment.labels, run.spec.classes)},
                         index=[str(c) for c in run.spec.classes])
    if submitted is not None:
        frame["best.csv"] = analysis.class_shares(submitted, run.spec.classes)
    if len(frame) <= analysis.MAX_SHOWN_CLASSES:
        return frame
    frame = frame[(frame > 0).any(axis=1)]
    top = frame.nlargest(analysis.MAX_SHOWN_CLASSES - 1, "train", keep="first")
    return pd.concat([top, frame.drop(top.index).sum().to_frame("other").T])
