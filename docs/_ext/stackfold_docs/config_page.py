"""The configuration reference, generated: every key of ``run.toml`` and every table it may hold.

Top-level keys are the fields of :class:`~stackfold.config.settings.RunConfig` (type and default from the dataclass,
the text from the docstring under each field, read with ``ast``); ``[features.VIEW]`` tables are each view's
declared parameters; ``[cluster]``, ``[model.NAME]`` and ``[external.NAME]`` list the keys the code accepts, each
described in its module's ``Parameters:`` section.
"""

import ast
import inspect
import types
from dataclasses import MISSING, fields
from typing import Any, get_args, get_origin

from stackfold import cluster_settings, external
from stackfold.config.settings import RunConfig
from stackfold.features import views
from stackfold.models import configured

from .parameters import Page, cell, parameter_table, value
from .sections import lookup, parameter_section

TABLES = ("params", "features", "cluster", "model", "external")
"""``RunConfig`` fields that are TOML tables, each given its own section below the keys."""


def field_docstrings(cls: type) -> dict[str, str]:
    """The docstring written under each field of a dataclass, by name (what Python itself does not keep)."""
    body = ast.parse(inspect.getsource(cls)).body[0].body
    texts = {}
    for statement, following in zip(body, body[1:]):
        if (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)):
            texts[statement.target.id] = inspect.cleandoc(following.value.value)
    return texts


def toml_type(annotation: Any) -> str:
    """How a field's type is written in TOML."""
    if get_origin(annotation) is types.UnionType:
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    origin = get_origin(annotation) or annotation
    return {tuple: "list", dict: "table", bool: "true/false", int: "integer", float: "number", str: "string"}.get(
        origin, getattr(origin, "__name__", str(origin)))


def key_rows(problems: list[str]) -> list[str]:
    texts = field_docstrings(RunConfig)
    rows = ["| key | type | default | what it does |", "|---|---|---|---|"]
    for f in fields(RunConfig):
        if f.name in TABLES:
            continue
        default = f.default if f.default is not MISSING else f.default_factory()
        text = texts.get(f.name)
        if text is None:
            problems.append(f"stackfold.config.settings.RunConfig.{f.name}: no docstring under the field")
        rows.append(f"| `{f.name}` | {toml_type(f.type)} | {value(default)} | {cell(text or '')} |")
    return rows


def keys_table(keys: dict[str, str], texts: dict[str, str], defaults: dict[str, Any], owner: str,
               problems: list[str]) -> list[str]:
    """A table of the keys a table of the configuration accepts (key -> TOML type)."""
    rows = ["| key | type | default | what it does |", "|---|---|---|---|"]
    for key, kind in keys.items():
        text = lookup(texts, key)
        if text is None:
            problems.append(f"{owner}: key {key!r} has no text in the module docstring's Parameters: section")
        default = value(defaults[key]) if key in defaults else ""
        rows.append(f"| `{key}` | {kind} | {default} | {cell(text or '')} |")
    return rows


def view_sections(problems: list[str]) -> list[str]:
    texts = parameter_section(views.__doc__)
    lines = []
    for name, view in views.VIEWS.items():
        facts = []
        if view.requires:
            facts.append("built from " + ", ".join(f"`{r}`" for r in view.requires))
        facts.append("reads the photos" if view.needs_images else "reads the text" if views.reads_text(name)
                     else "reads no column")
        if view.pretrained:
            facts.append("a pretrained network")
        if view.learns:
            facts.append("learns a vocabulary from the run's texts (kept for `stackfold predict`)")
        facts.append(f"about {view.cost.seconds:,g} s for {view.cost.rows:,} products on the reference machine")
        own = {key.split(".", 1)[1]: text for key, text in texts.items() if key.startswith(f"{name}.")}
        shared = {key[2:]: text for key, text in texts.items() if key.startswith("*.")}
        table, found = parameter_table(view.parameters, shared | own, f"stackfold.features.views (view {name!r})")
        problems += found
        lines += [f"(view-{name})=", f"### `[features.{name}]`", "", "; ".join(facts) + ".", "", *table, ""]
    return lines


def config_page() -> Page:
    """The page: top-level keys, then each table."""
    page = Page("")
    problems = page.problems
    lines = [
        "# Configuration",
        "",
        "Every key of a run's configuration file (`stackfold run DATA --out RUN --config run.toml`), generated from "
        "the code when the site is built. Every key is optional; an unknown key, a value of the wrong type or out of "
        "its range is one line naming the table and the key, before any training. Command-line options "
        "(`--models`, `--folds`, ...) replace the file's keys. The Python API takes the same keys as keyword "
        "arguments: `stackfold.run(data, out, folds=3, params={\"logreg\": {\"C\": 10.0}})`.",
        "",
        "## Top-level keys",
        "",
        *key_rows(problems),
        "",
        "## `[params.NAME]`",
        "",
        "The parameters of a base model, stacker or decision rule `NAME`, over the values `stackfold tune` saved, "
        "over the declared defaults. Each one's table: {doc}`models` (base models) and {doc}`stackers` (stackers "
        "and decision rules).",
        "",
        "## `[features.VIEW]`",
        "",
        "The parameters of a feature view, part of its cache key: a change rebuilds the view and retrains the "
        "models reading it.",
        "",
        *view_sections(problems),
        "## `[cluster]`",
        "",
        "Runs on a Dask cluster ({doc}`../user-guide/dask`).",
        "",
        *keys_table({k: toml_type(t) for k, t in cluster_settings.CLUSTER_KEYS.items()},
                    parameter_section(cluster_settings.__doc__),
                    {"partition_rows": cluster_settings.DEFAULT_PARTITION_ROWS}, "stackfold.cluster_settings",
                    problems),
        "",
        "## `[model.NAME]`",
        "",
        "A scikit-learn classifier of your own, named in `models` ({doc}`../own_models`).",
        "",
        *keys_table({key: "string" if key in ("estimator", "class") else "list" if key == "views" else "table"
                     for key in configured.DEFINITION_KEYS}, parameter_section(configured.__doc__), {},
                    "stackfold.models.configured", problems),
        "",
        "## `[external.NAME]`",
        "",
        "A model trained outside stackfold, stacked after `models` ({doc}`../own_models`).",
        "",
        *keys_table(dict.fromkeys(external.FILES, "string"), parameter_section(external.__doc__), {},
                    "stackfold.external", problems),
        "",
    ]
    page.text = "\n".join(lines)
    return page
