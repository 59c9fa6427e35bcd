"""Sections about the run around the models: tuning studies, the data, the submissions."""

import json
import warnings
from pathlib import Path

import optuna
import pandas as pd
from optuna.trial import TrialState

from stackfold.competition.load import image_coverage, load_competition
from stackfold.competition.metric import metric_info
from stackfold.errors import StackfoldError
from stackfold.features.language import detect_languages
from stackfold.report import charts
from stackfold.report.blocks import Section, frame_table
from stackfold.report.contents import RunContents
from stackfold.report.model_sections import class_distribution
from stackfold.studies import open_storage, quiet_optuna

LANGUAGE_SAMPLE = 1000
"""Texts whose language is detected for the data section (a seeded sample: langid takes ~1 ms a text)."""


def tuning_section(run: RunContents) -> Section:
    section = Section("tuning", "Tuning")
    results = sorted(run.folder.tuning.glob("*.json")) if run.folder.tuning.is_dir() else []
    for path in results:
        _study(section, run, path.stem, json.loads(path.read_text(encoding="utf-8")))
    if not results:
        section.note(f"No study: `stackfold tune {run.folder.root} --stacker lgbm` tunes a stacker; the next run "
                     "uses its best parameters.")
    return section


def _direction(metric: str) -> str:
    """``" (lower is better)"`` for a metric where it is (log loss), else nothing."""
    return "" if metric_info(metric).higher_is_better else " (lower is better)"


def _study(section: Section, run: RunContents, stacker: str, saved: dict) -> None:
    """History, parameter importances and trial states of the study behind ``tuning/<stacker>.json``."""
    default = run.folder.tuning / f"{stacker}.db"
    url = f"sqlite:///{default.resolve()}" if default.is_file() else saved.get("storage", "")
    try:
        with quiet_optuna():
            study = optuna.load_study(study_name=saved["study"], storage=open_storage(url))
    except (StackfoldError, KeyError, ValueError) as e:
        section.note(f"{stacker}: best CV {run.spec.metric} {saved.get('value', float('nan')):.4f}"
                     f"{_direction(run.spec.metric)} after {saved.get('trials')} trials; "
                     f"its study ({saved.get('storage')}) cannot be read here: {e}")
        return
    trials = study.get_trials(deepcopy=False)
    states = pd.Series([t.state.name.lower() for t in trials]).value_counts()
    section.note(f"{stacker}: study {study.study_name!r}, {len(trials)} trials ("
                 + ", ".join(f"{n} {state}" for state, n in states.items())
                 + f"); best CV {run.spec.metric} {saved['value']:.4f} (trial {saved['best_trial']}) against "
                 f"{saved['default_value']:.4f} untuned{_direction(run.spec.metric)}.")
    complete = pd.DataFrame([(t.number, t.value) for t in trials if t.state == TrialState.COMPLETE],
                            columns=["number", "value"])
    pruned = pd.DataFrame([(t.number, t.intermediate_values[max(t.intermediate_values)]) for t in trials
                           if t.state == TrialState.PRUNED and t.intermediate_values], columns=["number", "value"])
    if len(complete):
        section.chart(charts.history(complete, pruned, run.spec.metric, f"{stacker}: optimisation history"),
                      f"{stacker}: CV score of every complete trial, the best so far, and pruned trials")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            importances = pd.Series(optuna.importance.get_param_importances(study))
    except (RuntimeError, ValueError) as e:
        section.note(f"{stacker}: no parameter importances yet ({e}).")
        return
    if len(importances):
        section.chart(charts.shares(importances.sort_values(ascending=False),
                                    "parameter importance (Optuna's default evaluator)"),
                      f"{stacker}: which parameters mattered")


def data_section(run: RunContents, data: Path | None) -> Section:
    section = Section("data", "Data")
    distribution = class_distribution(run)
    section.chart(charts.grouped_bars(distribution, "class", "share of training rows"),
                  f"Class distribution of the {len(run.assignment.labels)} training rows")
    folder = Path(data) if data is not None else Path(run.origin.get("data_dir", ""))
    try:
        dataset = load_competition(folder, run.spec, images=False, index_file=run.folder.bson_index)
    except (StackfoldError, OSError) as e:
        section.note(f"The data of this run cannot be read from {folder} ({e}); pass --data to show text lengths, "
                     "languages and images.")
        return section
    if run.spec.text_columns:
        lengths = {c: dataset.train[c].fillna("").str.len().to_numpy() for c in run.spec.text_columns}
        empty = ", ".join(f"{c} {(v == 0).mean():.1%}" for c, v in lengths.items())
        section.chart(charts.histogram(lengths, "characters"),
                      f"Text length of the non-empty training texts (empty: {empty})")
        sample = dataset.train.sample(min(LANGUAGE_SAMPLE, len(dataset.train)), random_state=run.config.seed)
        texts = sample[run.spec.text_columns[0]].fillna("") + " " + sample[list(run.spec.text_columns)[-1]].fillna("")
        detected = detect_languages(list(texts), declared=run.spec.languages)
        languages = pd.Series(detected).value_counts(normalize=True).head(8)
        section.chart(charts.grouped_bars(languages.to_frame("share"), "language", "share of texts", rotate=False),
                      f"Language mix of {len(sample)} sampled training texts (langid)")
    coverage = pd.DataFrame([{"split": split, "images found": found, "images expected": total}
                             for split, (found, total) in image_coverage(dataset).items()])
    blanks = run.leaderboard[run.leaderboard["blank_images"] > 0][["model", "blank_images"]]
    section.blocks.append(frame_table(coverage, sortable=False))
    section.note("Images replaced by blank ones during the run: "
                 + (", ".join(f"{m} {n}" for m, n in zip(blanks["model"], blanks["blank_images"])) or "none") + ".")
    return section


def submissions_section(run: RunContents) -> Section:
    section = Section("submissions", "Submissions")
    registry = run.folder.submission_registry
    if registry.is_file():
        lines = pd.read_csv(registry, dtype=str, keep_default_na=False)
        section.blocks.append(frame_table(lines.drop(columns=["data_key", "config_key"], errors="ignore")
                                          .iloc[::-1], id="registry-table"))
    best = run.folder.submission("best")
    if not best.is_file():
        section.note(f"No {best}: run `stackfold run` again to write it.")
        return section
    labels = pd.read_csv(best).iloc[:, -1].to_numpy()
    distribution = class_distribution(run, labels)
    section.chart(charts.grouped_bars(distribution, "class", "share of rows"),
                  f"Predicted classes of best.csv ({len(labels)} test rows) against the training distribution")
    return section
