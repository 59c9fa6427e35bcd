"""Parameter tables generated from the declarations: one per base model, stacker, decision rule and feature view.

Each row is a declared :class:`~stackfold.core.params.Param` (name, type, default, range) and the text of its entry
in the ``Parameters:`` section of the owner's docstring (:mod:`.sections`). A declared parameter without a text is
a problem the build reports (and fails on): the tables are complete or the site is not built.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from stackfold.core.estimator import BaseModel
from stackfold.core.params import Param
from stackfold.io import toml_value

from .sections import described, lookup, plain_roles, without_parameter_section


@dataclass
class Page:
    """A generated Markdown page and the problems found making it (each one line naming what to document)."""

    text: str
    problems: list[str] = field(default_factory=list)


def value(default: object) -> str:
    """A default as it is written in ``run.toml`` (code), or *unset*."""
    if default is None:
        return "*unset*"
    return f"`{toml_value(default)}`"


def type_name(param: Param) -> str:
    kind = param.type
    return {object: "any", list: "list", tuple: "list", type(None): "any"}.get(kind, kind.__name__)


def value_range(param: Param) -> str:
    """The accepted values: choices, an inclusive range, or strict bounds ("" when any value of the type goes)."""
    if param.choices is not None:
        return ", ".join(value(choice) for choice in param.choices)
    bounds = []
    if param.low is not None and param.high is not None:
        return f"{param.low:g} to {param.high:g}"
    if param.low is not None:
        bounds.append(f"≥ {param.low:g}")
    if param.high is not None:
        bounds.append(f"≤ {param.high:g}")
    if param.above is not None:
        bounds.append(f"> {param.above:g}")
    if param.below is not None:
        bounds.append(f"< {param.below:g}")
    return ", ".join(bounds)


def markdown_text(text: str) -> str:
    """Plain text (a docstring's, a help text's) safe in Markdown: cross-reference roles as code, ``<`` escaped
    outside code spans (``RUN/tuning/<stacker>.json`` is not an HTML tag)."""
    parts = re.split(r"(`+[^`]*`+)", plain_roles(text))
    return "".join(part if part.startswith("`") else part.replace("<", "\\<") for part in parts)


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return markdown_text(text).replace("|", "\\|").replace("\n", " ")


def parameter_table(parameters: dict[str, Param], texts: dict[str, str], owner: str) -> tuple[list[str], list[str]]:
    """The Markdown lines of a parameter table, and one problem per parameter no docstring describes."""
    if not parameters:
        return ["No parameters."], []
    lines = ["| parameter | type | default | range | what it does |", "|---|---|---|---|---|"]
    problems = []
    for name, param in parameters.items():
        text = lookup(texts, name)
        if text is None:
            problems.append(f"{owner}: parameter {name!r} has no text; describe it in the docstring's Parameters: "
                            "section")
            text = ""
        lines.append(f"| `{name}` | {type_name(param)} | {value(param.default)} | {value_range(param)} | "
                     f"{cell(text)} |")
    return lines, problems


def cost_text(cls: type[BaseModel], stacker: bool) -> str:
    """What the class's declared ``cost`` says, or that none was measured (the ETA's default guess)."""
    measured = any("cost" in klass.__dict__ for klass in cls.__mro__ if klass is not BaseModel)
    if not measured:
        return f"not measured (the run's ETA assumes {cls.cost.seconds:g} s)"
    over = " over 11 base models" if stacker else ""
    growth = "" if cls.cost.exponent == 1 else f", growing as rows^{cls.cost.exponent:g}"
    return (f"{cls.cost.seconds:,.1f} s for its 5-fold CV at {cls.cost.rows:,} training rows{over} on the "
            f"reference machine (2 cores){growth}").replace(".0 s", " s")


def model_section(name: str, cls: type[BaseModel], defaults: Iterable[str], kind: str, level: str) -> Page:
    """One model's section: its class, views, cost, whether a run uses it by default, its docstring and table."""
    stacker = kind != "model"
    facts = [f"class `{cls.__module__}.{cls.__qualname__}`"]
    if cls.views:
        facts.append("views " + ", ".join(f"{{ref}}`{view} <view-{view}>`" for view in cls.views))
    facts.append("cost " + cost_text(cls, stacker))
    facts.append("in the default run" if name in defaults else "opt-in")
    table, problems = parameter_table(cls.parameters, described(cls), f"{cls.__module__}.{cls.__qualname__}")
    docstring = plain_roles(without_parameter_section(cls.__doc__))
    lines = [f"({kind}-{name})=", f"{level} `{name}`", "", "; ".join(facts) + ".", "", "```{eval-rst}", docstring,
             "```", "", *table, ""]
    return Page("\n".join(lines), problems)


Group = tuple[str | None, str, dict[str, type[BaseModel]], Iterable[str]]
"""A registry on a page: its heading (``None``: the page's only one), the kind of its entries, name -> class, and
the names a run uses by default."""


def registry_page(title: str, intro: str, groups: list[Group]) -> Page:
    """A page of sections, one per registered class, under a heading per group."""
    page = Page(f"# {title}\n\n{intro}\n")
    for heading, kind, registry, defaults in groups:
        if heading:
            page.text += f"\n## {heading}\n"
        for name, cls in registry.items():
            section = model_section(name, cls, tuple(defaults), kind, "###" if heading else "##")
            page.text += "\n" + section.text
            page.problems += section.problems
    return page
