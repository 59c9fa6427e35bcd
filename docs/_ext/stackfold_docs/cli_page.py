"""The command-line reference, generated from the Typer application: every command, argument and option.

What ``stackfold COMMAND --help`` prints, as one page: the command's docstring, a usage line, and a table of its
arguments and options (name, type, default, what it does). A parameter without help text is a problem (the build
fails on it): ``--help`` and the site would both leave it unexplained.
"""

from pathlib import Path

import typer

from .parameters import Page, cell, markdown_text

TYPES = {Path: "path", int: "integer", float: "number", str: "text", bool: "flag"}


def _type(param: object) -> str:
    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", None)
    name = TYPES.get(annotation, getattr(annotation, "__name__", "text"))
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    if low is not None and high is not None:
        return f"{name}, {low} to {high}"
    if low is not None:
        return f"{name}, ≥ {low}"
    return name


def _names(param: object) -> str:
    names = [*param.opts, *param.secondary_opts]
    return " / ".join(f"`{name}`" for name in names)


def _default(param: object) -> str:
    if param.required:
        return "required"
    default = param.default
    if default is None:
        return ""
    if getattr(param, "is_flag", False) and param.secondary_opts:
        return f"`{param.opts[0] if default else param.secondary_opts[0]}`"
    return f"`{default}`"


def _usage(name: str, command: object) -> str:
    arguments = [p.name.upper() for p in command.params if not getattr(p, "opts", [""])[0].startswith("-")]
    return f"stackfold {name} {' '.join(arguments)} [OPTIONS]".replace("  ", " ")


def command_section(name: str, command: object) -> Page:
    """One command: its help, usage and parameter table."""
    problems = []
    rows = ["| argument or option | type | default | what it does |", "|---|---|---|---|"]
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        if not param.help:
            problems.append(f"stackfold {name}: {param.name} has no help text (help= of its typer.Option/Argument)")
        is_option = param.opts[0].startswith("-")
        shown = _names(param) if is_option else f"`{param.name.upper()}`"
        rows.append(f"| {shown} | {_type(param)} | {_default(param)} | {cell(param.help or '')} |")
    if not command.help:
        problems.append(f"stackfold {name}: no help text (the command function's docstring)")
    help_text = markdown_text(command.help or "").strip()
    lines = [f"(cli-{name})=", f"## `stackfold {name}`", "", help_text, "", "```text", _usage(name, command), "```",
             "", *rows, ""]
    return Page("\n".join(lines), problems)


def cli_page(app: typer.Typer) -> Page:
    """Every command of ``app`` in the order they are registered, after the options of ``stackfold`` itself."""
    group = typer.main.get_command(app)
    page = Page("# Command line\n\n"
                "Every command of `stackfold`, generated from the command-line application (`stackfold/cli/app.py`) "
                "when the site is built: what `stackfold COMMAND --help` prints. Paths are relative to the current "
                "folder. A user error or a file-system fault is one line on stderr and exit code 1.\n\n"
                "```text\nstackfold --version\nstackfold --help\nstackfold COMMAND --help\n```\n")
    for name, command in group.commands.items():
        section = command_section(name, command)
        page.text += "\n" + section.text
        page.problems += section.problems
    return page
