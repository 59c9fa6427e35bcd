"""What the generated reference reads from docstrings: the ``Parameters:`` section, and reST made page-safe.

A class (or module) documents each parameter it declares in a Google-style section of its docstring::

    Parameters:
        C: inverse regularisation strength: larger fits the training rows more closely.
        text_*: the inner text net's ``{}`` (as ``text_nn`` declares it).

A name may be a glob (``*``), and ``{}`` in its text stands for the part the ``*`` matched; several names may
share a text (``a, b: ...``). A text ending in ``see :func:`dotted.name``` (or ``:class:``) takes that object's
entry of the same name (for a glob, of the part the ``*`` matched), after what comes before ``see``: parameters
declared by a shared helper or an inner model are described once, where they are declared. A subclass inherits
the entries of its bases (:func:`described`), its own first.
"""

import importlib
import inspect
import re
from fnmatch import fnmatchcase

SECTION = re.compile(r"^(?P<indent>[ \t]*)Parameters:[ \t]*$", re.M)
ENTRY = re.compile(r"^(?P<names>[\w.*]+(?:, [\w.*]+)*):[ \t]+(?P<text>.*)$")
SEE = re.compile(r"^(?P<prefix>.*?)see :(?:func|class):`~?(?P<target>[\w.]+)`\.?$")
ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|obj|exc):`~?(?P<target>[^`]+)`")


def _section(text: str) -> tuple[int, int, list[str]] | None:
    """Where a cleaned docstring's ``Parameters:`` section starts and ends (character offsets), and its lines."""
    match = SECTION.search(text)
    if match is None:
        return None
    lines, offset = [], match.end() + 1
    for line in text[match.end() + 1:].splitlines(keepends=True):
        indent = len(line) - len(line.lstrip())
        if line.strip() and indent <= len(match["indent"]):
            break  # back at the header's indentation: the section is over
        if not line.strip() and any(entry.strip() for entry in lines):
            break  # a blank line after the entries ends it
        lines.append(line.rstrip("\n"))
        offset += len(line)
    return match.start(), offset, lines


def parameter_section(docstring: str | None) -> dict[str, str]:
    """The entries of a docstring's ``Parameters:`` section, name -> text (continuation lines joined)."""
    found = _section(inspect.cleandoc(docstring or ""))
    if found is None:
        return {}
    entries: dict[str, str] = {}
    entry_indent, names = None, []
    for line in found[2]:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        entry = ENTRY.match(line.strip())
        if entry_indent is None or indent <= entry_indent:
            if entry is None:
                raise ValueError(f"Parameters: section: {line.strip()!r} is not 'name: what it does'")
            entry_indent, names = indent, entry["names"].split(", ")
            for name in names:
                entries[name] = entry["text"].strip()
        else:
            for name in names:
                entries[name] += " " + line.strip()
    return entries


def without_parameter_section(docstring: str | None) -> str:
    """The docstring with its ``Parameters:`` section left out (the table shows it)."""
    text = inspect.cleandoc(docstring or "")
    found = _section(text)
    if found is None:
        return text
    return (text[:found[0]].rstrip() + "\n\n" + text[found[1]:].lstrip("\n")).strip()


def lookup(entries: dict[str, str], name: str) -> str | None:
    """The text describing ``name``: its own entry, else the first glob entry matching it; a ``see`` is followed
    (for a glob entry, with the part the ``*`` matched)."""
    text, stem = entries.get(name), name
    if text is None:
        for pattern, pattern_text in entries.items():
            if "*" in pattern and fnmatchcase(name, pattern):
                head, _, tail = pattern.partition("*")
                stem = name[len(head):len(name) - len(tail)]
                text = pattern_text.replace("{}", stem)
                break
    see = SEE.match(text or "")
    if see is None:
        return text
    module, _, attribute = see["target"].rpartition(".")
    target = getattr(importlib.import_module(module), attribute)
    found = lookup(described(target) if inspect.isclass(target) else parameter_section(target.__doc__), stem)
    prefix = see["prefix"].strip().rstrip(",:;")
    return f"{prefix}: {found}" if prefix and found else found


def described(cls: type) -> dict[str, str]:
    """Every ``Parameters:`` entry of ``cls`` and of its bases, the class's own winning."""
    entries: dict[str, str] = {}
    for klass in cls.__mro__:
        for name, text in parameter_section(klass.__dict__.get("__doc__")).items():
            entries.setdefault(name, text)
    return entries


def plain_roles(text: str) -> str:
    """Sphinx cross-reference roles as code names (``:class:`~a.B``` -> ````B````): a generated page shows a model's
    docstring as text, and its references to internal names would not resolve."""

    def literal(match: re.Match) -> str:
        target = match["target"]
        shown = target.rsplit(".", 1)[-1] if match.group(0).split("`")[1].startswith("~") else target
        return f"``{shown}``"

    return ROLE.sub(literal, text)
