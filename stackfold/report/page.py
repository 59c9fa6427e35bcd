"""The report page: sections rendered by a Jinja2 template into one self-contained HTML file.

Styles and the small script (sortable tables, drop-downs) are inlined from the package, charts
are inline SVG: the file needs no network and nothing beside it. A Content-Security-Policy
forbids the page any request, so a stray external reference fails loudly in a browser test.
"""

from importlib.resources import files
from pathlib import Path

import jinja2

from stackfold.io import write_text_atomic
from stackfold.report.blocks import Section

_TEMPLATES = files("stackfold.report") / "templates"


def render_page(title: str, subtitle: str, sections: list[Section], footer: str) -> str:
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                                     lstrip_blocks=True)
    template = environment.from_string((_TEMPLATES / "report.html.j2").read_text(encoding="utf-8"))
    return template.render(title=title, subtitle=subtitle, sections=sections, footer=footer,
                           css=(_TEMPLATES / "report.css").read_text(encoding="utf-8"),
                           js=(_TEMPLATES / "report.js").read_text(encoding="utf-8"))


def write_page(path: Path, html: str) -> Path:
    """Write the page atomically (a reader never sees half a report)."""
    write_text_atomic(path, html)
    return path
