"""A first spec file (``challenge.toml``) guessed from a data folder's files: ``stackfold init DATA``.

Each key comes with the reason it was chosen, written beside it in the file and printed, so a user
checks the guesses instead of writing the spec from scratch. Only what nothing can stand in for is
refused (one :class:`ConfigError` line naming the key to write by hand): a train file, a test file,
an id and a label column. The files it reads and the image folders it searches are
:mod:`stackfold.competition.guess_files`.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stackfold.competition.guess_files import Tables, find_tables, image_column, image_template
from stackfold.competition.spec_file import KEYS, SPEC_FILE
from stackfold.errors import ConfigError
from stackfold.io import toml_value, write_text_atomic

LABEL_NAMES = ("label", "target", "class", "category", "y", "author", "genre")
"""Label-like names, preferred in this order when several train columns are not in the test file."""
IMBALANCE = 3
"""A label submission is scored by weighted F1 (not accuracy) when the largest class has more than this many
times the rows of the smallest."""
LANGUAGE_SAMPLE, LANGUAGE_SHARE = 300, 0.05
"""Languages are detected on this many sampled training texts; those of at least this share are listed."""
SHOWN_CLASSES = 12
"""A commented-out ``classes`` line lists the labels up to this many (else it shows the file form)."""


@dataclass(frozen=True)
class Guess:
    """What ``stackfold init`` chose for a data folder: the keys it set, and why for every key of the spec."""

    data: Path
    keys: dict[str, Any]
    """The keys chosen from the files, in :data:`KEYS` order; every other key keeps its default."""
    reasons: dict[str, str]
    """One line per key of :data:`KEYS`: why it was chosen, or what its default gives."""
    ignored: tuple[str, ...]
    """One line per column used by no key (``ignored: column Age (numeric)``)."""
    shown: dict[str, Any]
    """What a defaulted key amounts to (``classes``, ``submission_id``), shown commented out."""

    def lines(self) -> list[str]:
        """``key = value: reason`` for every chosen key."""
        return [f"{key} = {toml_value(value)}: {self.reasons[key]}" for key, value in self.keys.items()]


def _named_like_id(name: str) -> bool:
    return bool(re.fullmatch(r"(?i)(.*[_\s.-])?id", name) or re.search(r"[a-z0-9](Id|ID)$", name))


def _unique(values: pd.Series) -> bool:
    return bool(len(values)) and values.is_unique and not (values.str.strip() == "").any()


def _guess_id(t: Tables) -> tuple[str, str]:
    """The id column: the sample submission's first column, else one named like an id, else train's first column,
    as long as it is in train and test and unique in each."""
    if t.train.columns[0] == "":
        return "", "train's first header cell is empty: rows are keyed by an unnamed first column (a pandas index)"
    first = t.sample_header[0] if t.sample_header else None
    common = [c for c in t.train.columns if c in t.test.columns]
    ranked = [c for c in common if c == first] + [c for c in common if c != first and _named_like_id(c)]
    ranked += [c for c in common[:1] if c not in ranked]
    for column in ranked:
        if _unique(t.train[column]) and _unique(t.test[column]):
            why = ["in train and test"] + (["the sample submission's first column"] if column == first else [])
            return column, ", ".join(why) + ", unique in each" + (", named like an id" if _named_like_id(column)
                                                                  else "")
    raise ConfigError(f"{t.data}: no id column (a column of both {t.train_file} and {t.test_file}, unique in each, "
                      f"such as {', '.join(ranked[:3]) or 'id'}, has repeats or empty cells); write "
                      f"{t.data / SPEC_FILE} by hand with id = \"column\"")


def _guess_label(t: Tables, id_column: str, labels: pd.DataFrame | None) -> tuple[str, str]:
    """The label: the sample submission's one column, else the train column (or label file column) holding the
    sample submission's class columns, else the one train column absent from test, else a label-like name."""
    frame = labels if labels is not None else t.train
    where = t.labels_file or t.train_file
    candidates = [c for c in frame.columns if c not in t.test.columns and c not in (id_column, "")]
    sample = t.sample_header[1:]
    if len(sample) == 1 and sample[0] in candidates:
        return sample[0], f"the sample submission's column besides the id, in {where} and not in {t.test_file}"
    if len(sample) > 1:
        holding = [c for c in candidates if set(frame[c]) <= set(sample)]
        if holding:
            return holding[0], (f"its values are the sample submission's class columns ({frame[holding[0]].nunique()}"
                                f" of {len(sample)} classes in {where})")
    if len(candidates) == 1:
        return candidates[0], f"the one column of {where} that {t.test_file} lacks"
    named = sorted((c for c in candidates if c.lower() in LABEL_NAMES), key=lambda c: LABEL_NAMES.index(c.lower()))
    if named:
        return named[0], f"named like a label, one of {len(candidates)} columns of {where} that {t.test_file} lacks"
    found = f"several columns of {t.train_file} are not in {t.test_file} ({', '.join(candidates)})" if candidates \
        else f"every column of {t.train_file} is also in {t.test_file}, and no labels file was found"
    raise ConfigError(f"{t.data}: no label column: {found}; write {t.data / SPEC_FILE} by hand with label = "
                      "\"column\" (and labels = \"file\" if the labels are in another file)")


def _text_kind(values: pd.Series) -> tuple[bool, str]:
    """Whether a column is text (mostly not numbers; a mean length of 15 characters or 3 words, many distinct
    values), and its description."""
    values = values[values.str.strip() != ""]
    if not len(values):
        return False, "always empty"
    if pd.to_numeric(values, errors="coerce").notna().mean() > 0.5:
        return False, "numeric"
    length, words, distinct = values.str.len().mean(), values.str.split().str.len().mean(), values.nunique()
    described = f"mean length {length:.0f} characters, {words:.1f} words"
    if distinct <= max(20, 0.05 * len(values)) and distinct < 0.5 * len(values):
        return False, f"categorical: {distinct} distinct values"
    if length >= 15 or words >= 3:
        return True, described
    return False, f"short strings: {described}"


def _languages(texts: list[str]) -> tuple[list[str], str]:
    """Languages of at least 5% of up to 300 sampled texts, majority first (langid), and the shares seen."""
    from langid import langid
    from threadpoolctl import threadpool_limits

    texts = [t[:1000] for t in texts if re.search(r"[^\W\d_]", t)]
    if not texts:
        return [], "no text with letters; left to the detector"
    sample = np.random.default_rng(0).choice(len(texts), size=min(LANGUAGE_SAMPLE, len(texts)), replace=False)
    with threadpool_limits(limits=1, user_api="blas"):
        found = pd.Series([langid.classify(texts[i])[0] for i in sample]).value_counts(normalize=True)
    shares = ", ".join(f"{language} {share:.0%}" for language, share in found.head(5).items())
    return list(found[found >= LANGUAGE_SHARE].index), f"langid on {len(sample)} sampled training texts: {shares}"


def _metric(submission: str, labels: pd.Series) -> tuple[str, str]:
    check = "a guess: check it against the challenge's evaluation page"
    if submission == "probabilities":
        return "log_loss", f"the submission holds probabilities; {check}"
    counts = labels.value_counts()
    ratio = f"largest class {counts.iloc[0]} rows, smallest {counts.iloc[-1]}"
    if counts.iloc[0] > IMBALANCE * counts.iloc[-1]:
        return "weighted_f1", f"the classes are imbalanced ({ratio}: more than {IMBALANCE}x); {check}"
    return "accuracy", f"the classes are balanced ({ratio}: at most {IMBALANCE}x); {check}"


@dataclass
class _Draft:
    """A guess in the making: the keys chosen so far, every key's reason, the columns no key uses."""

    keys: dict[str, Any] = field(default_factory=dict)
    reasons: dict[str, str] = field(
        default_factory=lambda: dict.fromkeys(KEYS, "default: nothing in the files calls for another value"))
    ignored: list[str] = field(default_factory=list)

    def choose(self, key: str, value: Any, reason: str) -> None:
        self.keys[key], self.reasons[key] = value, reason

    def ignore(self, column: str, why: str) -> None:
        self.ignored.append(f"ignored: column {column} ({why})")


def guess_spec(data: Path) -> Guess:
    """Guess every key of a spec file from the files of data folder ``data``, with the reason for each."""
    data = Path(data)
    t = find_tables(data)
    draft = _Draft()
    draft.reasons.update(name=f"default: the data folder's name ({data.resolve().name})",
                         format="default: CSV or Parquet tables", sample_submission=t.reasons["sample_submission"],
                         labels="default: the labels are a column of the training file")
    labels = _choose_files_id_label(t, draft)
    _choose_columns(t, draft)
    shown = _choose_submission(t, draft, labels)
    return Guess(data, {k: draft.keys[k] for k in KEYS if k in draft.keys}, draft.reasons, tuple(draft.ignored),
                 shown)


def _choose_files_id_label(t: Tables, draft: _Draft) -> pd.Series:
    """The files, the id and the label (from a labels file when train holds no column the test file lacks):
    the training labels."""
    draft.choose("train", t.train_file, t.reasons["train"])
    draft.choose("test", t.test_file, t.reasons["test"])
    if t.sample_file:
        draft.choose("sample_submission", t.sample_file, t.reasons["sample_submission"])
    draft.choose("id", *_guess_id(t))
    id_column = draft.keys["id"]
    train_only = [c for c in t.train.columns if c not in t.test.columns and c not in (id_column, "")]
    label_frame = t.labels_frame if t.labels_file and not train_only else None
    if label_frame is not None:
        draft.choose("labels", t.labels_file, t.reasons["labels"])
    draft.choose("label", *_guess_label(t, id_column, label_frame))
    for column in train_only:
        if column != draft.keys["label"]:
            draft.ignore(column, f"in {t.train_file}, not in {t.test_file}")
    return (label_frame if label_frame is not None else t.train)[draft.keys["label"]]


def _choose_columns(t: Tables, draft: _Draft) -> None:
    """The image column (or file-name template) and the text columns among the columns of train and test, the
    title and the languages; every other column is ignored, with the reason."""
    id_column = draft.keys["id"]
    rest = [c for c in t.train.columns if c in t.test.columns and c not in (id_column, draft.keys["label"])]
    for column in list(rest):
        is_image, why = image_column(t, column)
        if why:
            rest.remove(column)
            if is_image and "image" not in draft.keys:
                draft.choose("image", column, why)
            else:
                draft.ignore(column, why)
    if "image" not in draft.keys:
        _choose_template(t, id_column, rest, draft)
        draft.reasons["image"] = ("default: none; the image files are named by image_template" if "image_template"
                                  in draft.keys else "default: none (no column of image paths, no image folder whose "
                                                     "file names hold the ids)")
    kinds = {c: _text_kind(t.train[c]) for c in rest if c not in draft.keys.get("id_columns", [])}
    text = [c for c, (is_text, _) in kinds.items() if is_text]
    for column in (c for c in kinds if c not in text):
        draft.ignore(column, kinds[column][1])
    if not text:
        draft.reasons["text"] = "default: none (no column of train and test holds text)"
        return
    draft.choose("text", text, "; ".join(f"{c}: {kinds[c][1]}" for c in text))
    if len(text) >= 2:
        title = min(text, key=lambda c: t.train[c].str.len().mean())
        draft.choose("title", title, f"the text column with the shortest mean length ({kinds[title][1]})")
    else:
        draft.reasons["title"] = "default: none (a single text column)"
    languages, why = _languages([" ".join(row) for row in t.train[text].itertuples(index=False)])
    if languages:
        draft.choose("languages", languages, why)
    else:
        draft.reasons["languages"] = f"default: none ({why})"


def _choose_template(t: Tables, id_column: str, columns: list[str], draft: _Draft) -> None:
    """The image keys when the images are files named after the ids (``images/train/{id}.jpg``)."""
    found = image_template(t, id_column, columns)
    if found is None:
        return
    template, train_dir, test_dir, used, why = found
    draft.choose("image_template", template, why)
    draft.choose("train_images", train_dir, "holds the training images")
    draft.choose("test_images", test_dir, "holds the test images")
    if [c for c in used if c != id_column]:
        draft.choose("id_columns", [c for c in used if c != id_column], "integer ids the image file names hold")


def _choose_submission(t: Tables, draft: _Draft, labels: pd.Series) -> dict[str, Any]:
    """What the submission holds, the metric and the submission's id header: what the defaulted ``classes`` and
    ``submission_id`` amount to."""
    if len(t.sample_header) > 2:
        draft.choose("submission", "probabilities", f"the sample submission has {len(t.sample_header) - 1} class "
                                                    "columns (they fix the class order)")
    else:
        draft.choose("submission", "label", "the sample submission holds the id and one label column"
                     if t.sample_header else "no sample submission: one predicted label per row")
    draft.choose("metric", *_metric(draft.keys["submission"], labels))
    probabilities = draft.keys["submission"] == "probabilities"
    classes = sorted(set(t.sample_header[1:] if probabilities else labels))
    where = "the sample submission's class columns" if probabilities else \
        f"the distinct labels of {t.labels_file or t.train_file}"
    draft.reasons["classes"] = f"default: {where} ({len(classes)} classes)"
    id_column = draft.keys["id"]
    submission_id = t.sample_header[0] if t.sample_header else id_column
    draft.reasons["submission_id"] = f"default: the id column's name ({id_column!r})"
    if submission_id != id_column:
        draft.choose("submission_id", submission_id, "the sample submission's first column")
    return {"classes": classes if len(classes) <= SHOWN_CLASSES else {"file": "classes.csv", "column": "label"},
            "submission_id": submission_id}


def spec_file_text(guess: Guess) -> str:
    """The spec file of ``guess``: each key under its meaning, with its reason; defaulted keys commented out."""
    lines = [f"# {SPEC_FILE} guessed by `stackfold init` from the files of {guess.data}.",
             "# Check every guess (each says why it was made) and fix what is wrong; keys left at their default",
             "# are commented out: remove the leading '# ' to set one.", ""]
    for key, info in KEYS.items():
        lines.append(f"# {key}: {info.help}")
        chosen = key in guess.keys
        value = guess.keys[key] if chosen else guess.shown.get(key, info.default)
        lines.append(f"{'' if chosen else '# '}{key} = {toml_value(value)}  # {guess.reasons[key]}")
    if guess.ignored:
        lines += ["", "# Columns no key uses:", *(f"# {line}" for line in guess.ignored)]
    return "".join(" ".join(line.splitlines()) + "\n" for line in lines)  # a name holding a line break stays one line


def init_spec(data: Path, force: bool = False) -> tuple[Guess, Path]:
    """Guess the spec of data folder ``data`` and write it to ``data/challenge.toml`` (refused if one exists
    unless ``force``): the guess and the path written."""
    path = Path(data) / SPEC_FILE
    if path.exists() and not force:
        raise ConfigError(f"{path}: already exists; edit it, or pass --force to replace it with a new guess")
    result = guess_spec(Path(data))
    write_text_atomic(path, spec_file_text(result))
    return result, path
