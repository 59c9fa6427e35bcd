"""The documentation site (docs/, `make docs`): built strictly, its generated reference complete, its links whole,
drawn by headless Chromium without an error; and the README that points into it.

The site read is the one `make docs` has just built when STACKFOLD_DOCS_HTML names it (`make test` does), else a
strict build made here into a temporary folder. Screenshots go to $STACKFOLD_SCREENSHOTS if set.
"""

import os
import re
import subprocess
import sys
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from browser import chromium_driver, open_page  # noqa: F401  (fixture: one browser for this module)

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

pytestmark = pytest.mark.slow  # the strict build takes 15-30 s on 2 cores

README_MAX_LINES = 150
BROWSED = ("index.html", "user-guide/predict.html", "reference/python-api.html", "reference/models.html")


def build(out: Path) -> subprocess.CompletedProcess:
    """``make docs``'s strict build of docs/ into ``out``/html."""
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-n", "-q", "-b", "html",
         "-d", str(out / "doctrees"), str(DOCS), str(out / "html")],
        capture_output=True, text=True, cwd=ROOT,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The built site's folder: `make docs`'s, or one built here, strictly."""
    given = os.environ.get("STACKFOLD_DOCS_HTML")
    if given:
        html = Path(given).resolve()
        assert (html / "index.html").is_file(), f"STACKFOLD_DOCS_HTML={given}: no index.html (run make docs)"
        return html
    out = tmp_path_factory.mktemp("site")
    result = build(out)
    assert result.returncode == 0 and "WARNING" not in result.stderr, result.stderr[-3000:]
    return out / "html"


class Parsed(HTMLParser):
    """A page's ids, links, images and scripts, and the table rows of each section (innermost section id)."""

    def __init__(self, text: str):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.sources: list[str] = []
        self.rows: dict[str, list[list[str]]] = {}
        self._sections: list[str] = []
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag == "section":
            self._sections.append(attributes.get("id") or "")
        elif tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        elif tag in ("img", "script") and attributes.get("src"):
            self.sources.append(attributes["src"])
        elif tag == "link" and attributes.get("rel") == "stylesheet":
            self.sources.append(attributes.get("href") or "")
        elif tag == "tr" and self._sections:
            self.rows.setdefault(self._sections[-1], []).append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self._sections:
            self._sections.pop()
        elif tag in ("td", "th") and self._cell is not None and self._sections:
            self.rows[self._sections[-1]][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parsed(site: Path, page: str) -> Parsed:
    return Parsed((site / page).read_text(encoding="utf-8"))


@cache
def ids_of(page: Path) -> set[str]:
    return Parsed(page.read_text(encoding="utf-8")).ids


def broken_references(site: Path, page: Path) -> list[str]:
    """Links, images, scripts and styles of ``page`` that point inside the site at a missing file or anchor, and
    any resource loaded from outside it (the site must open offline)."""
    found = Parsed(page.read_text(encoding="utf-8"))
    broken = [f"{page.name}: loads {src}" for src in found.sources if urlsplit(src).scheme in ("http", "https")]
    for reference in [*found.links, *found.sources]:
        parts = urlsplit(reference)
        if parts.scheme or reference.startswith("mailto:"):
            continue
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if not target.exists():
            broken.append(f"{page.relative_to(site)}: {reference} (no such file)")
        elif parts.fragment and target.suffix == ".html" and parts.fragment not in ids_of(target):
            broken.append(f"{page.relative_to(site)}: {reference} (no such anchor)")
    return broken


def test_every_internal_link_image_and_anchor_of_the_site_resolves(site):
    pages = sorted(page for page in site.rglob("*.html") if "_static" not in page.parts)  # not the theme's templates
    assert len(pages) > 30
    assert [b for page in pages for b in broken_references(site, page)] == []


@pytest.mark.parametrize("kind", ["model", "stacker", "decision"])
def test_every_registered_model_and_stacker_has_its_parameter_table(site, kind):
    from stackfold.ensembles import DECISIONS, STACKERS
    from stackfold.models import BASE_MODELS

    registry, page = {"model": (BASE_MODELS, "models"), "stacker": (STACKERS, "stackers"),
                      "decision": (DECISIONS, "stackers")}[kind]
    tables = parsed(site, f"reference/{page}.html").rows
    for name, cls in registry.items():
        section = f"{kind}-{name}".replace("_", "-")
        rows = tables.get(section, [])
        assert [row[0] for row in rows[1:]] == list(cls.parameters), f"{name}: {rows[:1]}"
        if cls.parameters:
            assert rows[0] == ["parameter", "type", "default", "range", "what it does"]
            assert all(row[4] for row in rows[1:]), f"{name}: a parameter without its text"


def test_the_command_line_reference_has_every_command_and_option(site):
    import typer

    from stackfold.cli import app

    text = (site / "reference" / "cli.html").read_text(encoding="utf-8")
    for name, command in typer.main.get_command(app).commands.items():
        assert f'id="cli-{name}"' in text
        for param in command.params:
            for option in param.opts if param.opts[0].startswith("-") else [param.name.upper()]:
                assert f">{option}<" in text, f"stackfold {name} {option}"


def test_the_configuration_reference_has_every_key_and_view(site):
    from dataclasses import fields

    from stackfold.config.settings import RunConfig
    from stackfold.features.views import VIEWS

    page = parsed(site, "reference/configuration.html")
    keys = [row[0] for row in page.rows["top-level-keys"][1:]]
    assert keys == [f.name for f in fields(RunConfig) if f.name not in ("params", "features", "cluster", "model",
                                                                      "external")]
    for view, declared in VIEWS.items():
        rows = page.rows.get(f"view-{view}".replace("_", "-"), [])
        assert [row[0] for row in rows[1:]] == list(declared.parameters), view


def test_the_python_api_reference_documents_every_public_name(site):
    import stackfold
    import stackfold.base

    ids = parsed(site, "reference/python-api.html").ids
    assert {f"stackfold.{name}" for name in stackfold.__all__} <= ids
    assert {f"stackfold.base.{name}" for name in stackfold.base.__all__} <= ids


def test_the_generated_pages_are_not_committed():
    from stackfold_docs import GENERATED

    tracked = subprocess.run(["git", "ls-files", *(f"docs/{page}" for page in GENERATED)], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    assert tracked == ""


@pytest.mark.parametrize("page", BROWSED)
def test_the_browser_draws_a_page_without_error(site, chromium_driver, page, tmp_path):  # noqa: F811
    load = open_page(chromium_driver, site / page)
    assert load.error_messages == []
    assert load.failed_requests == []
    outside = [url for url in load.requests if not url.startswith(site.as_uri()) and not url.startswith("data:")]
    assert outside == []
    missing = chromium_driver.execute_script(
        "return Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src);")
    assert missing == []
    links = chromium_driver.execute_script("return Array.from(document.links, a => a.href);")
    assert [href for href in links if href.startswith("file:") and not Path(unquote(urlsplit(href).path)).exists()
            ] == []
    if page == "reference/models.html":  # a model's parameter table, scrolled to
        chromium_driver.get(f"{(site / page).as_uri()}#model-linear-svc")
        assert chromium_driver.execute_script(
            "return document.querySelectorAll('#model-linear-svc table tbody tr').length;") == 7
    folder = Path(os.environ.get("STACKFOLD_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / f"site-{page.replace('/', '-').removesuffix('.html')}.png"
    assert chromium_driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000


def test_the_readme_fits_on_two_screens_and_its_links_resolve():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= README_MAX_LINES
    targets = [t for t in re.findall(r"\]\(([^)\s]+)\)", text) if not urlsplit(t).scheme]
    assert targets and [t for t in targets if not (ROOT / urlsplit(t).path).exists()] == []


def test_each_headline_figure_of_the_readme_is_on_its_benchmark_page():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## Headline figures", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "](docs/" in line]
    assert len(rows) >= 5
    for row in rows:
        _, measured, page = (cell.strip() for cell in row.strip().strip("|").split(" | "))
        source = (ROOT / re.search(r"\]\(([^)]+)\)", page).group(1)).read_text(encoding="utf-8")
        for figure in re.findall(r"\d[\d,.]*\d|\d", measured):
            assert figure in source, f"{figure} ({measured}) is not on {page}"


@pytest.mark.parametrize(("docstring", "name", "text"), [
    ("X.\n\nParameters:\n    C: strength.\n", "C", "strength."),
    ("X.\n\nParameters:\n    a, b: shared\n        over two lines.\n", "b", "shared over two lines."),
    ("X.\n\nParameters:\n    text_*: the inner net's ``{}``.\n", "text_units", "the inner net's ``units``."),
    ("X.\n\nParameters:\n    C: strength.\n\nAfter.\n", "D", None),
    ("X.\n\nParameters:\n    *: see :func:`stackfold.models.keras_support.training_parameters`.\n", "patience",
     "epochs without a lower loss on the inner validation split before training stops, keeping the best epoch's "
     "weights."),
])
def test_a_parameter_is_described_by_the_parameters_section(docstring, name, text):
    from stackfold_docs.sections import lookup, parameter_section

    assert lookup(parameter_section(docstring), name) == text


def test_a_parameters_section_with_a_line_that_is_no_entry_is_refused():
    from stackfold_docs.sections import parameter_section

    with pytest.raises(ValueError, match="is not 'name: what it does'"):
        parameter_section("X.\n\nParameters:\n    C strength\n")


def test_a_model_added_to_the_registry_gets_its_table_and_an_undescribed_parameter_fails_the_build(monkeypatch):
    from stackfold_docs import pages

    from stackfold.base import BaseModel, positive
    from stackfold.models import BASE_MODELS

    class Shiny(BaseModel):
        """A model of the test's.

        Parameters:
            C: how shiny.
        """

        name = "shiny"
        parameters = {"C": positive(1.0), "gamma": positive(0.5)}

        def _fit(self, X, y): ...

        def _predict_proba(self, X): ...

    monkeypatch.setitem(BASE_MODELS, "shiny", Shiny)
    page = pages()["reference/models.md"]
    assert "(model-shiny)=" in page.text and "| `C` | float | `1.0` | > 0 | how shiny. |" in page.text
    assert page.problems == [f"{Shiny.__module__}.{Shiny.__qualname__}: parameter 'gamma' has no text; describe it "
                             "in the docstring's Parameters: section"]
