"""The report of a small tuned run in headless Chromium: no errors, no requests, every section drawn, tables sort.

The run is the one of tests/test_report.py (the real sample, text models, lgbm and mean stackers,
SHAP shares saved by `stackfold run`), copied and tuned (`stackfold tune --stacker lgbm --trials 6`)
so the tuning section has a study, then reported with `stackfold report`. Screenshots of the
sections go to $STACKFOLD_SCREENSHOTS if set (for a person to look at), else to a temp folder.
"""

import os
import re
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from browser import (
    captured_size_matches,
    chromium_driver,  # noqa: F401  (fixture: one browser for this module)
    click_header_and_read_column,
    element_sizes,
    open_page,
    read_column,
    screenshot_sections,
)
from test_report import SECTIONS, Run, tuned_run

pytestmark = pytest.mark.slow  # the tuned run takes ~20 s to make

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
INTERVAL = re.compile(r"^\[(-?\d+\.\d+), (-?\d+\.\d+)\]$")


@pytest.fixture(scope="module")
def tuned(rakuten_sample, tmp_path_factory) -> Run:
    run = tuned_run(rakuten_sample, tmp_path_factory)
    assert run.made_by.out.strip().splitlines()[-1] == f"report: {run.report}"
    return run


@pytest.fixture(scope="module")
def page_state() -> dict[str, bool]:
    return {"clean": False}


@pytest.fixture
def page(chromium_driver, tuned, page_state):  # noqa: F811
    """The report as loaded, nothing clicked (reloaded after a test that clicks); fails on any console error."""
    if not page_state["clean"]:
        load = open_page(chromium_driver, tuned.report)
        assert load.error_messages == []
        page_state["clean"] = True
    return chromium_driver


@pytest.fixture
def clicked_page(page, page_state):
    """The report as loaded, for a test that sorts or chooses: the next test gets it reloaded."""
    page_state["clean"] = False
    return page


def severe_logs(driver) -> list[str]:
    """SEVERE console entries since the last read (interactions must not log errors either)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]


def blocks(driver, section_id: str) -> dict[str, int]:
    """How many charts (with an inline svg), tables and notes a section holds."""
    return driver.execute_script(
        "const s = document.getElementById(arguments[0]); if (!s) return null;"
        " return {charts: s.querySelectorAll('figure.chart > svg').length,"
        "         figures: s.querySelectorAll('figure.chart').length,"
        "         tables: s.querySelectorAll('table').length,"
        "         notes: s.querySelectorAll('p.note').length,"
        "         notes_text: Array.from(s.querySelectorAll('p.note'), p => p.textContent).join(' | ')};",
        section_id,
    )


def column_index(driver, table_css: str, starts_with: str) -> int:
    headers = driver.execute_script(
        "return Array.from(document.querySelector(arguments[0]).tHead.rows[0].cells, c => c.textContent.trim());",
        table_css,
    )
    matches = [i for i, header in enumerate(headers) if header.startswith(starts_with)]
    assert len(matches) == 1, (starts_with, headers)
    return matches[0]


def tuned_rows(driver) -> list[str]:
    """The leaderboard's model names, in the table's current order."""
    return read_column(driver, "#leaderboard-table", column_index(driver, "#leaderboard-table", "model"))


def numbers(texts: list[str]) -> list[float]:
    return [float(t) for t in texts]


def test_page_loads_without_errors_or_requests(chromium_driver, tuned):  # noqa: F811
    load = open_page(chromium_driver, tuned.report)
    assert load.console_errors == []
    assert load.external_requests == []
    assert load.failed_requests == []
    assert load.requests[0] == load.url
    assert all(url.startswith("data:image/png;base64,") for url in load.requests[1:])  # heatmaps' inline bitmaps
    assert chromium_driver.title == f"stackfold report: {tuned.root.name}"


def test_report_file_is_self_contained(tuned):
    html = tuned.report.read_text(encoding="utf-8")
    for forbidden in ('src="http', 'href="http', "<link rel=\"stylesheet\"", "<script src="):
        assert forbidden not in html
    assert not re.search(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)  # protocol-relative too
    assert not re.search(r"url\(\s*[\"']?\s*(?:https?:)?//", html, re.I)
    assert not re.search(r"<link\b", html, re.I) and not re.search(r"<script[^>]*\bsrc\s*=", html, re.I)
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert csp and "default-src 'none'" in csp.group(1)


def test_every_section_is_there_and_shows_something(page):
    ids = page.execute_script("return Array.from(document.querySelectorAll('main > section'), s => s.id);")
    assert ids == SECTIONS
    nav = page.execute_script("return Array.from(document.querySelectorAll('nav a'), a => a.getAttribute('href'));")
    assert nav == [f"#{s}" for s in SECTIONS]
    for section_id in SECTIONS:
        found = blocks(page, section_id)
        assert found["charts"] == found["figures"], f"{section_id}: a figure without an inline svg"
        what = "only a note" if found["notes"] else "nothing"
        assert found["charts"] + found["tables"] > 0, f"{section_id} holds {what}: {found['notes_text']}"
    assert blocks(page, "data")["charts"] >= 1  # a note may say the data cannot be read, the chart stays
    # what this run must show beyond "something": intervals chart, a heatmap per row, SHAP shares, a study
    assert blocks(page, "leaderboard")["charts"] == 2 and blocks(page, "leaderboard")["tables"] == 1
    assert blocks(page, "per-class")["tables"] == 1
    diversity = blocks(page, "diversity")
    assert diversity["charts"] == 2 and "none saved" not in diversity["notes_text"]  # error correlation, SHAP shares
    tuning = blocks(page, "tuning")
    assert tuning["charts"] == 2, tuning["notes_text"]  # optimisation history, parameter importances
    assert "6 trials" in tuning["notes_text"] and "cannot be read" not in tuning["notes_text"]
    assert blocks(page, "data")["charts"] == 3  # classes, text lengths, languages: the data is readable
    assert blocks(page, "submissions")["charts"] == 1 and blocks(page, "submissions")["tables"] == 1


def test_every_visible_chart_has_a_size(page):
    sizes = page.execute_script(
        "return Array.from(document.querySelectorAll('figure.chart'), f => {"
        " const s = f.querySelector('svg').getBoundingClientRect();"
        " return [f.closest('section').id, f.dataset.key || '', f.checkVisibility(), s.width, s.height]; });"
    )
    visible = [s for s in sizes if s[2]]
    hidden = [s for s in sizes if not s[2]]
    assert {s[0] for s in visible} == set(SECTIONS) - {"per-class"}  # per-class F1 is a table only
    for section_id, key, _, width, height in visible:
        assert width > 50 and height > 50, f"{section_id} {key}: {width}x{height}"
    assert hidden and all(s[0] == "confusion" for s in hidden)  # the other rows' heatmaps
    shown = [s for s in visible if s[0] == "confusion"]
    assert len(shown) == 1 and len(hidden) == len(tuned_rows(page)) - 1


def visible_items(driver, group: str) -> list[tuple[str, str, float, float]]:
    """(tag, key, width, height) of the group's items that are shown."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(`[data-group='${arguments[0]}'][data-key]`))"
        ".filter(e => !e.hidden && e.checkVisibility())"
        ".map(e => { const r = e.getBoundingClientRect();"
        "            return [e.tagName.toLowerCase(), e.dataset.key, r.width, r.height]; });",
        group,
    )


def test_confusion_choice_shows_the_chosen_rows_heatmap(clicked_page):
    from selenium.webdriver.support.ui import Select

    page = clicked_page

    rows = tuned_rows(page)
    element = page.find_element("css selector", 'select[data-group="confusion"]')
    select = Select(element)
    assert [o.get_attribute("value") for o in select.options] == rows
    assert select.first_selected_option.get_attribute("value") == rows[0]
    shown = visible_items(page, "confusion")
    assert sorted((tag, key) for tag, key, *_ in shown) == [("div", rows[0]), ("figure", rows[0])]

    chosen = rows[2]
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    select.select_by_value(chosen)  # a real choice: the page's change listener runs
    shown = visible_items(page, "confusion")
    assert sorted((tag, key) for tag, key, *_ in shown) == [("div", chosen), ("figure", chosen)]
    assert all(width > 100 and height > 100 for *_, width, height in shown)  # its heatmap and its pairs table
    figure = page.find_element("css selector", f'figure[data-group="confusion"][data-key="{chosen}"]')
    assert figure.is_displayed()
    size = figure.find_element("css selector", "svg").size
    assert size["width"] > 100 and size["height"] > 100
    first = page.find_element("css selector", f'figure[data-group="confusion"][data-key="{rows[0]}"]')
    assert not first.is_displayed() and first.get_attribute("hidden") is not None
    assert element_sizes(page, f'figure[data-group="confusion"][data-key="{rows[0]}"] svg') == [(0.0, 0.0)]
    assert severe_logs(page) == []


def test_leaderboard_sorts_by_a_clicked_numeric_header(clicked_page):
    page = clicked_page
    table = "#leaderboard-table"
    oof = column_index(page, table, "OOF ")
    ranked = numbers(read_column(page, table, oof))
    assert ranked[0] == max(ranked)  # ranked by CV mean; the top row has the best pooled OOF score here too
    descending = numbers(click_header_and_read_column(page, table, oof, oof))
    assert descending == sorted(ranked, reverse=True)
    assert page.execute_script(f"return document.querySelector('{table}').tHead.rows[0].cells[{oof}].className")\
        == "sorted-desc"
    ascending = numbers(click_header_and_read_column(page, table, oof, oof))
    assert ascending == sorted(ranked)
    # a column whose text is not its value: fit seconds, shown rounded, sorted by the exact number
    fit = column_index(page, table, "fit s")
    fit_desc = numbers(click_header_and_read_column(page, table, fit, fit))
    assert fit_desc == sorted(fit_desc, reverse=True)
    # the rows move whole: each model keeps its own interval
    model = column_index(page, table, "model")
    interval = column_index(page, table, "95% interval")
    before = dict(zip(read_column(page, table, model), read_column(page, table, interval)))
    click_header_and_read_column(page, table, model, model)
    assert dict(zip(read_column(page, table, model), read_column(page, table, interval))) == before
    assert severe_logs(page) == []


def test_per_class_table_sorts(clicked_page):
    page = clicked_page
    table = "#per-class-table"
    support = column_index(page, table, "support")
    codes = read_column(page, table, column_index(page, table, "code"))
    assert len(codes) == 27
    descending = numbers(click_header_and_read_column(page, table, support, support))
    assert descending == sorted(descending, reverse=True) and descending[0] > descending[-1]
    ascending = numbers(click_header_and_read_column(page, table, support, support))
    assert ascending == sorted(descending)
    f1 = column_index(page, table, "tfidf_logreg")
    scores = numbers(click_header_and_read_column(page, table, f1, f1))
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert sorted(read_column(page, table, column_index(page, table, "code"))) == sorted(codes)
    assert severe_logs(page) == []


def test_per_class_table_highlights_the_best(page):
    cells = page.execute_script(
        "const t = document.querySelector('#per-class-table');"
        " return Array.from(t.tBodies[0].rows, r => Array.from(r.cells).slice(3).map(c => [c.textContent, c.className]));"
    )
    assert len(cells) == 27
    for row in cells:
        best = [float(text) for text, css in row if css == "best"]
        values = [float(text) for text, _ in row]
        assert best == [max(values)] * len(best)
        assert bool(best) == (max(values) > 0)


def test_leaderboard_shows_intervals_and_ties(page):
    table = "#leaderboard-table"
    oof = numbers(read_column(page, table, column_index(page, table, "OOF ")))
    intervals = read_column(page, table, column_index(page, table, "95% interval"))
    tied = read_column(page, table, column_index(page, table, "tied"))
    css = page.execute_script(
        "return Array.from(document.querySelectorAll('#leaderboard-table tbody tr'),"
        " r => [r.querySelectorAll('td.interval').length, r.querySelectorAll('td.tied').length]);"
    )
    assert len(oof) == len(intervals) == len(tied) == len(css) == 6
    for score, text, (n_interval, _) in zip(oof, intervals, css):
        match = INTERVAL.match(text)
        assert match, text
        low, high = map(float, match.groups())
        assert low <= score <= high, (low, score, high)
        assert n_interval == 2  # the score's interval and the gap to the top row
    assert set(tied) <= {"=", ""}
    assert tied[0] == "=" and css[0][1] == 1  # the top row is tied with itself
    assert [n for _, n in css] == [1 if t == "=" else 0 for t in tied]


def test_shift_section_shows_each_views_auc_and_the_weighted_scores(page):
    """The run's shift check (`shift = true`): the AUC chart drawn, a row per view with its interval, the
    separating terms, each leaderboard row's score beside its test-weighted score, the test-like rows."""
    shift = blocks(page, "shift")
    assert shift["charts"] == 1 and shift["tables"] == 4, shift["notes_text"]
    assert "No shift check" not in shift["notes_text"] and "best.csv stays" in shift["notes_text"]
    views = read_column(page, "#shift-table", 0)
    assert views == ["terms", "meta", "all views"]
    for auc, interval in zip(numbers(read_column(page, "#shift-table", 1)), read_column(page, "#shift-table", 2)):
        low, high = map(float, INTERVAL.match(interval).groups())
        assert 0 <= low <= auc <= high <= 1
    separators = read_column(page, "#separators-table", 1)
    assert len(separators) >= 10 and set(read_column(page, "#separators-table", 2)) == {"test", "train"}
    assert read_column(page, "#weighted-table", 1) == tuned_rows(page)
    assert all(0 <= score <= 1 for score in numbers(read_column(page, "#weighted-table", 3)))
    assert len(read_column(page, "#test-like-table", 0)) == 20
    (width, height), = element_sizes(page, "#shift figure.chart svg")
    assert width > 300 and height > 80
    assert severe_logs(page) == []


def test_screenshots_of_every_section(page, tmp_path):
    folder = Path(os.environ.get("STACKFOLD_SCREENSHOTS") or tmp_path / "screenshots")
    paths = screenshot_sections(page, "main > section", folder)
    assert [p.name for p in paths] == [f"{s}.png" for s in SECTIONS]
    sizes = element_sizes(page, "main > section")
    for path, (width, height) in zip(paths, sizes, strict=True):
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        assert len(data) > 5_000, f"{path.name}: {len(data)} bytes"
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            assert captured_size_matches(image.size, (width, height)), (path.name, image.size, (width, height))
            assert height > 100
            extrema = ImageStat.Stat(image.convert("L")).extrema[0]
            assert extrema[1] - extrema[0] > 100, f"{path.name} is nearly one colour"


def test_registry_sorts_by_time_written(clicked_page):
    """The registry's written_at column sorts by time (rows added: a run folder's registry grows with every run).

    Timestamps start with a number (``parseFloat`` reads their year) but are text: the column sorts as text.
    """
    page = clicked_page
    written = ["2026-12-03T09:00:00+00:00", "2025-01-01T00:00:00+00:00", "2026-12-02T10:00:00+00:00"]
    page.execute_script(
        "const body = document.querySelector('#registry-table').tBodies[0];"
        " for (const t of arguments[0]) { const row = body.rows[0].cloneNode(true);"
        "   row.cells[0].dataset.sort = t; row.cells[0].textContent = t; body.appendChild(row); }",
        written,
    )
    column = column_index(page, "#registry-table", "written_at")
    every = read_column(page, "#registry-table", column)
    assert click_header_and_read_column(page, "#registry-table", column, column) == sorted(every, reverse=True)
    assert click_header_and_read_column(page, "#registry-table", column, column) == sorted(every)
