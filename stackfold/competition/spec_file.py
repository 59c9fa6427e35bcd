"""Reading a challenge spec file (``challenge.toml``) into a :class:`CompetitionSpec`.

Every mistake is one :class:`ConfigError` line naming the file, the key and the fix. The keys, their
defaults and what they mean are :data:`KEYS` (the documentation's table is generated from it).
Paths inside the spec (``classes.file``) are relative to the spec file; the challenge's data files
are relative to the data folder a command is given.
"""

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from stackfold.competition.metric import METRICS, metric_info
from stackfold.competition.spec import FORMATS, SUBMISSION_KINDS, CompetitionSpec
from stackfold.competition.tables import read_table_column, table_columns
from stackfold.errors import ConfigError, DataError
from stackfold.io import read_toml, toml_value

SPEC_FILE = "challenge.toml"
"""The name ``stackfold run DATA`` looks for in the data folder (``stackfold init`` writes it)."""


@dataclass(frozen=True)
class Key:
    """One key of a spec file: its type, its default (``None``: derived, see ``help``) and what it means."""

    kind: type | tuple[type, ...]
    default: Any
    help: str
    required: bool = False


KEYS: dict[str, Key] = {
    "name": Key(str, "", "the challenge's name, shown in reports; default: the data folder's name"),
    "format": Key(str, "table", f"how the files hold the rows: {' or '.join(FORMATS)} (CSV or Parquet tables; BSON)"),
    "train": Key(str, None, "the training file, relative to the data folder (.csv or .parquet)", required=True),
    "test": Key(str, None, "the test file, relative to the data folder", required=True),
    "labels": Key(str, "", "a separate label file holding the id and label columns; default: labels in `train`"),
    "sample_submission": Key(str, "", "the challenge's sample submission: its header fixes the submission's "
                                      "columns and their order"),
    "id": Key(str, "id", "the id column of every file; \"\" for an unnamed first column (a pandas index)"),
    "label": Key(str, None, "the label column (integers or strings, written back unchanged)", required=True),
    "text": Key(list, [], "the text columns, in any language; the first is the title unless `title` says"),
    "title": Key(str, "", "the short text column (a title) the title views read; default: the first text column "
                          "when there are several, none when there is one"),
    "required_text": Key(list, [], "text columns that must not be empty in any row"),
    "languages": Key(list, [], "the texts' languages (ISO 639-1 codes), majority first: one (e.g. [\"en\"]) skips "
                               "language detection; several send texts the detector is unsure of to the likelier of "
                               "them; none keeps the detector's answer"),
    "image": Key(str, "", "a column holding each row's image path, relative to the data folder"),
    "image_template": Key(str, "", "or each image's file name built from columns, e.g. \"{id}.jpg\""),
    "train_images": Key(str, "", "with `image_template`: the folder of the training images"),
    "test_images": Key(str, "", "with `image_template`: the folder of the test images"),
    "id_columns": Key(list, [], "integer columns unique per row across train and test (e.g. product and image "
                                "ids the template reads)"),
    "classes": Key((list, dict), None, "the classes: a list of labels, or {file = \"x.csv\", column = \"code\", "
                                       "names = \"name\"}; default: the sample submission's class columns, else the "
                                       "training labels"),
    "metric": Key(str, "accuracy", f"the challenge's metric: {', '.join(METRICS)}"),
    "submission": Key(str, "", f"what the submission holds: {' or '.join(SUBMISSION_KINDS)}; default: read from the "
                               "sample submission, else probabilities for log_loss and label otherwise"),
    "submission_id": Key(str, None, "the id column's header in the submission; default: the id column's name"),
}


def _fail(source: Path, key: str, message: str) -> ConfigError:
    return ConfigError(f"{source}: {key}: {message}")


def _raw(path: Path) -> dict[str, Any]:
    raw = read_toml(path, "challenge spec file not found; write one with `stackfold init DATA`")
    for key, value in raw.items():
        expected = KEYS.get(key)
        if expected is None:
            raise _fail(path, key, f"unknown key; known keys: {', '.join(KEYS)}")
        kinds = expected.kind if isinstance(expected.kind, tuple) else (expected.kind,)
        if not isinstance(value, kinds) or isinstance(value, bool):
            names = " or ".join({str: "a string", list: "a list", dict: "a table"}[k] for k in kinds)
            raise _fail(path, key, f"must be {names}, got {value!r}")
        if key != "classes" and isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise _fail(path, key, f"must be a list of strings, got {value!r}")
    for key, info in KEYS.items():
        if info.required and key not in raw:
            raise _fail(path, key, "missing; every spec names its train, test and label (see `stackfold init`)")
    return raw


def _choice(source: Path, key: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise _fail(source, key, f"{value!r} is not one of: {', '.join(choices)}")
    return value


def class_codes(labels: list[str]) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Sorted class codes and each one's label: integer labels are their own codes, other labels 0..K-1 in order."""
    distinct = sorted(set(labels))
    if all(_is_integer(label) for label in distinct):
        codes = sorted(int(label) for label in distinct)
        return tuple(codes), tuple(str(code) for code in codes)
    return tuple(range(len(distinct))), tuple(distinct)


def _is_integer(label: str) -> bool:
    """Whether ``label`` is an integer written the canonical way (``"10"``, ``"-3"``; not ``"010"`` or ``"1.0"``)."""
    try:
        return str(int(label)) == label
    except ValueError:
        return False


def _listed_classes(source: Path, classes: list | dict) -> tuple[list[str], list[str] | None]:
    """Labels (and display names) listed in the spec: a list, or a CSV file beside the spec."""
    if isinstance(classes, list):
        if not classes or not all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in classes):
            raise _fail(source, "classes", "list every class label (strings or integers), or leave the key out")
        return [str(c) for c in classes], None
    unknown = set(classes) - {"file", "column", "names"}
    if unknown or "file" not in classes or "column" not in classes:
        raise _fail(source, "classes", "give {file = \"classes.csv\", column = \"label\"} (and optionally names = "
                                       "\"column of display names\"), or a list of labels")
    path = source.parent / str(classes["file"])
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError as e:
        raise _fail(source, "classes", f"file {path} not found; the path is relative to the spec file") from e
    for key in ("column", "names"):
        if key in classes and classes[key] not in frame.columns:
            raise _fail(source, f"classes.{key}", f"{path} has no column {classes[key]!r} "
                                                  f"(found: {', '.join(frame.columns)})")
    names = list(frame[classes["names"]]) if "names" in classes else None
    return list(frame[classes["column"]]), names


def _derived_labels(source: Path, raw: dict[str, Any], data: Path, submission: str) -> list[str]:
    """The class labels a spec leaves unlisted: the sample submission's class columns, else the training labels."""
    if submission == "probabilities" and raw.get("sample_submission"):
        return table_columns(data / raw["sample_submission"], source_key=(source, "sample_submission"))[1:]
    label_file = data / (raw.get("labels") or raw["train"])
    key = "labels" if raw.get("labels") else "train"
    values = read_table_column(label_file, raw["label"], (source, key), "label")
    if not len(values):
        raise _fail(source, key, f"{label_file} has no rows; download it again")
    return list(values)


def _submission_kind(source: Path, raw: dict[str, Any], data: Path, metric: str) -> str:
    """``submission`` as given, else read from the sample submission's header, else by the metric."""
    if raw.get("submission"):
        return _choice(source, "submission", raw["submission"], SUBMISSION_KINDS)
    if raw.get("sample_submission"):
        header = table_columns(data / raw["sample_submission"], source_key=(source, "sample_submission"))
        return "label" if header[1:] == [raw["label"]] else "probabilities"
    return "probabilities" if metric_info(metric).needs_probabilities else "label"


def read_spec(path: Path, data: Path | None = None) -> CompetitionSpec:
    """The spec in file ``path``; ``data``: the data folder classes are derived from when the spec lists none
    (default: the spec file's folder)."""
    path = Path(path)
    raw = _raw(path)
    data = Path(data) if data is not None else path.parent
    value = {key: raw.get(key, info.default) for key, info in KEYS.items()}
    _choice(path, "format", value["format"], FORMATS)
    metric = _choice(path, "metric", value["metric"], tuple(METRICS))
    id_column = value["id"]
    submission = _submission_kind(path, raw, data, metric)
    if metric_info(metric).needs_probabilities != (submission == "probabilities"):
        wanted = "probabilities" if metric_info(metric).needs_probabilities else "label"
        raise _fail(path, "metric", f"{metric} scores {'probabilities' if wanted == 'probabilities' else 'labels'}, "
                                    f"but submission = {submission!r}; set submission = {wanted!r} or change metric")
    if value["image"] and value["image_template"]:
        raise _fail(path, "image_template", "give either image (a column of paths) or image_template, not both")
    if value["image_template"] and not (value["train_images"] and value["test_images"]):
        raise _fail(path, "train_images", "image_template needs the folders train_images and test_images")
    fields = {name for _, name, _, _ in string.Formatter().parse(value["image_template"]) if name is not None}
    unknown = sorted(fields - {*value["id_columns"], *([id_column] if id_column else [])})
    if unknown:
        raise _fail(path, "image_template", f"{{{unknown[0]}}} is neither the id column nor one of id_columns; "
                                            "name columns the template reads in id_columns")
    text = tuple(value["text"])
    for key in ("title", "required_text"):
        for column in ([value[key]] if isinstance(value[key], str) else value[key]):
            if column and column not in text:
                raise _fail(path, key, f"{column!r} is not one of the text columns ({', '.join(text) or 'none'}); "
                                       "add it to text")
    title = value["title"] or (text[0] if len(text) > 1 else "")
    names = None
    if "classes" in raw:
        labels, names = _listed_classes(path, raw["classes"])
    elif value["format"] == "bson":
        raise _fail(path, "classes", "a BSON challenge lists its classes (a file of category ids)")
    else:
        labels = _derived_labels(path, raw, data, submission)
    codes, class_labels = class_codes(labels)
    display = dict(zip(labels, names)) if names is not None else {}
    submission_columns = class_labels
    if submission == "label" and raw.get("sample_submission") and (data / raw["sample_submission"]).is_file():
        header = table_columns(data / raw["sample_submission"], source_key=(path, "sample_submission"))
        submission_columns = tuple(header[1:]) if len(header) == 2 else (value["label"],)  # its label column's name
    if submission == "probabilities" and raw.get("sample_submission") and (data / raw["sample_submission"]).is_file():
        header = table_columns(data / raw["sample_submission"], source_key=(path, "sample_submission"))
        columns = tuple(header[1:])
        if sorted(columns) != sorted(class_labels):
            raise _fail(path, "sample_submission", f"its class columns ({', '.join(columns[:5])}...) are not the "
                                                   f"{len(class_labels)} classes; fix classes or the file")
        submission_columns = columns
    return CompetitionSpec(
        name=value["name"] or data.resolve().name,
        train_file=value["train"],
        test_file=value["test"],
        label_column=value["label"],
        classes=codes,
        class_labels=class_labels,
        class_names=tuple(display.get(label, label) for label in class_labels),
        metric=metric,
        labels_file=value["labels"],
        id_column=id_column,
        text_columns=text,
        required_text_columns=tuple(value["required_text"]),
        languages=tuple(value["languages"]),
        title_column=title,
        id_columns=tuple(value["id_columns"]),
        image_column=value["image"],
        image_template=value["image_template"],
        train_image_dir=value["train_images"],
        test_image_dir=value["test_images"],
        submission=submission,
        submission_index_name=id_column if value["submission_id"] is None else value["submission_id"],
        submission_columns=submission_columns if submission == "probabilities" else (
            submission_columns if submission_columns != (value["label"],) and len(submission_columns) == 1 else ()),
        sample_submission=value["sample_submission"],
        format=value["format"],
        source=str(path),
    )


def spec_text(spec: CompetitionSpec) -> str:
    """``spec`` as a spec file listing its classes: what a run folder keeps, so it reads without the data."""
    values = {
        "name": spec.name, "format": spec.format, "train": spec.train_file, "test": spec.test_file,
        "labels": spec.labels_file, "sample_submission": spec.sample_submission, "id": spec.id_column,
        "label": spec.label_column, "text": list(spec.text_columns), "title": spec.title_column,
        "required_text": list(spec.required_text_columns), "languages": list(spec.languages),
        "image": spec.image_column,
        "image_template": spec.image_template, "train_images": spec.train_image_dir,
        "test_images": spec.test_image_dir, "id_columns": list(spec.id_columns), "metric": spec.metric,
        "submission": spec.submission, "submission_id": spec.submission_index_name,
        "classes": list(spec.class_labels),
    }
    return "".join(f"{key} = {toml_value(value)}\n" for key, value in values.items())


def find_spec(data: Path) -> Path | None:
    """The spec file in data folder ``data``, if it holds one."""
    candidate = Path(data) / SPEC_FILE
    return candidate if Path(data).is_dir() and candidate.is_file() else None


def check_columns(spec: CompetitionSpec, root: Path) -> None:
    """The spec's columns against the files' headers: one line naming the key for a column missing from a file,
    or a label column in the test file."""
    source = Path(spec.source or SPEC_FILE)
    train, test = root / spec.train_file, root / spec.test_file
    train_columns = table_columns(train, source_key=(source, "train"))
    test_columns = table_columns(test, source_key=(source, "test"))
    wanted = {"id": [spec.id_column] if spec.id_column else [], "text": list(spec.text_columns),
              "id_columns": list(spec.id_columns), "image": [spec.image_column] if spec.image_column else []}
    if not spec.labels_file:
        wanted["label"] = [spec.label_column]
    for key, columns in wanted.items():
        for path, found in ((train, train_columns), (test, test_columns)):
            if key == "label" and path == test:
                continue
            missing = [c for c in columns if c not in found]
            if missing:
                raise DataError(f"{source}: {key}: column {missing[0]!r} is not in {path} (its columns: "
                                f"{', '.join(found[:12])}{'...' if len(found) > 12 else ''}); fix the key or the file")
    if spec.label_column in test_columns and spec.label_column != spec.id_column:
        raise DataError(f"{source}: label: the test file {test} has the label column {spec.label_column!r}; a test "
                        "file must not hold labels: remove the column, or check train and test are not swapped")
