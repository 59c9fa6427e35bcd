"""The headless-Chromium harness (tests/browser.py) on small pages written here: errors, requests, sizes, clicks."""

from pathlib import Path
from unittest import mock

import pytest
from PIL import Image

import browser
from browser import (
    captured_size_matches,
    chromium,
    chromium_driver,  # noqa: F401  (fixture: one browser for this module)
    click_header_and_read_column,
    element_sizes,
    open_page,
    read_column,
    screenshot_sections,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RED_DOT = (  # a 1x1 red PNG
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def page(folder: Path, body: str, name: str = "page.html") -> Path:
    path = folder / name
    path.write_text(f"<!doctype html>\n<html><head><meta charset='utf-8'><title>t</title></head><body>{body}</body></html>")
    return path


def test_console_error_is_reported(chromium_driver, tmp_path):
    load = open_page(chromium_driver, page(tmp_path, "<p>hi</p><script>console.error('boom from the page')</script>"))
    assert [e["source"] for e in load.console_errors] == ["console-api"]
    assert "boom from the page" in load.error_messages[0]


def test_uncaught_exception_is_reported(chromium_driver, tmp_path):
    load = open_page(chromium_driver, page(tmp_path, "<script>undefinedFunction()</script>"))
    assert any("undefinedFunction" in message for message in load.error_messages)


def test_external_request_is_reported_though_offline(chromium_driver, tmp_path):
    load = open_page(chromium_driver, page(tmp_path, '<img src="http://example.com/x.png" alt="x">'))
    assert load.external_requests == ["http://example.com/x.png"]
    assert load.failed_requests == [("http://example.com/x.png", "net::ERR_NAME_NOT_RESOLVED")]
    assert load.requests[0] == load.url  # the page itself, not counted as external
    assert [e["source"] for e in load.console_errors] == ["network"]  # the page's own failed request is its error
    assert load.error_messages[0].startswith("http://example.com/x.png ")


def test_request_for_another_local_file_is_listed(chromium_driver, tmp_path):
    (tmp_path / "style.css").write_text("p { color: green }")
    load = open_page(chromium_driver, page(tmp_path, '<link rel="stylesheet" href="style.css"><p>x</p>'))
    assert load.external_requests == [(tmp_path / "style.css").resolve().as_uri()]
    assert load.console_errors == [] and load.failed_requests == []


def test_self_contained_page_is_clean(chromium_driver, tmp_path):
    body = (
        '<svg width="120" height="40" viewBox="0 0 120 40"><rect width="120" height="40" fill="teal"/></svg>'
        f'<img src="{RED_DOT}" width="10" height="10" alt="dot">'
        "<style>p { margin: 0 }</style><p>inline only</p><script>document.title = 'ok'</script>"
    )
    load = open_page(chromium_driver, page(tmp_path, body))
    assert load.console_errors == []
    assert load.external_requests == []
    assert load.failed_requests == []
    assert element_sizes(chromium_driver, "svg") == [(120.0, 40.0)]
    assert element_sizes(chromium_driver, "img") == [(10.0, 10.0)]
    assert element_sizes(chromium_driver, "table") == []


def test_second_page_does_not_see_the_first_pages_events(chromium_driver, tmp_path):
    noisy = page(tmp_path, '<img src="http://example.com/a.png"><script>console.error("first")</script>', "a.html")
    quiet = page(tmp_path, "<p>quiet</p>", "b.html")
    assert open_page(chromium_driver, noisy).external_requests == ["http://example.com/a.png"]
    # events after the first page's load, before the second page: they must not be blamed on the second
    chromium_driver.execute_script("console.error('late'); new Image().src = 'http://example.com/late.png';")
    load = open_page(chromium_driver, quiet)
    assert load.requests == [quiet.resolve().as_uri()]
    assert load.console_errors == []


@pytest.mark.parametrize(
    ("entry", "belongs"),
    [
        ({"source": "network", "message": "http://example.com/a.png - Failed to load resource: x"}, True),
        ({"source": "network", "message": "http://example.com/late.png - Failed to load resource: x"}, False),
        ({"source": "network", "message": "http://example.com/a.png.map - Failed to load resource: x"}, False),
        ({"source": "console-api", "message": "http://example.com/late.png boom"}, True),
        ({"source": "javascript", "message": "Uncaught ReferenceError"}, True),
    ],
)
def test_a_network_error_counts_only_for_a_url_the_page_requested(entry, belongs):
    assert browser._is_this_pages(entry, ["file:///p.html", "http://example.com/a.png"]) is belongs


SORTABLE_TABLE = """
<table id="scores">
  <thead><tr><th>model</th><th>F1</th></tr></thead>
  <tbody><tr><td>b-tfidf</td><td>0.71</td></tr><tr><td>c-cnn</td><td>0.65</td></tr><tr><td>a-stack</td><td>0.80</td></tr></tbody>
</table>
<script>
document.querySelectorAll('#scores th').forEach((th, column) => th.addEventListener('click', () => {
  const body = th.closest('table').tBodies[0];
  const descending = th.dataset.order !== 'desc';
  th.dataset.order = descending ? 'desc' : 'asc';
  const key = row => row.cells[column].textContent;
  const rows = Array.from(body.rows).sort((a, b) => key(a).localeCompare(key(b), undefined, {numeric: true}));
  (descending ? rows.reverse() : rows).forEach(row => body.appendChild(row));
}));
</script>
"""


def test_clicking_a_header_sorts_the_table(chromium_driver, tmp_path):
    load = open_page(chromium_driver, page(tmp_path, SORTABLE_TABLE))
    assert load.console_errors == []
    assert read_column(chromium_driver, "#scores", 0) == ["b-tfidf", "c-cnn", "a-stack"]
    assert click_header_and_read_column(chromium_driver, "#scores", 1, 1) == ["0.80", "0.71", "0.65"]
    assert read_column(chromium_driver, "#scores", 0) == ["a-stack", "b-tfidf", "c-cnn"]
    assert click_header_and_read_column(chromium_driver, "#scores", 1, 1) == ["0.65", "0.71", "0.80"]
    with pytest.raises(IndexError):
        click_header_and_read_column(chromium_driver, "#scores", 5, 0)


def test_screenshots_of_sections(chromium_driver, tmp_path):
    body = (
        "<style>body { margin: 0 } section { width: 600px }</style>"
        '<section id="summary" style="height: 200px; background: rgb(0, 128, 0)">summary</section>'
        '<section style="height: 150px; background: rgb(255, 255, 0)">no id</section>'
        # taller than the window: red top half, blue bottom half
        '<section id="tall" style="height: 2500px; background: linear-gradient(rgb(255,0,0) 50%, rgb(0,0,255) 50%)">'
        "</section>"
    )
    open_page(chromium_driver, page(tmp_path, body))
    paths = screenshot_sections(chromium_driver, "section", tmp_path / "shots")
    assert [p.name for p in paths] == ["summary.png", "1.png", "tall.png"]
    for path, (width, height) in zip(paths, element_sizes(chromium_driver, "section"), strict=True):
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        with Image.open(path) as image:
            assert image.size == (width, height) == (600, {"summary.png": 200, "1.png": 150, "tall.png": 2500}[path.name])
    with Image.open(paths[0]) as image:
        assert image.convert("RGB").getpixel((300, 100)) == (0, 128, 0)
    with Image.open(paths[2]) as image:  # the part below the first screenful is captured too
        rgb = image.convert("RGB")
        assert rgb.getpixel((300, 10)) == (255, 0, 0)
        assert rgb.getpixel((300, 2490)) == (0, 0, 255)
    open_page(chromium_driver, page(tmp_path, '<section style="display: none"></section>'))
    with pytest.raises(ValueError, match="no area"):
        screenshot_sections(chromium_driver, "section", tmp_path / "hidden")


def test_screenshots_of_fractional_sections_match_their_rounded_size(chromium_driver, tmp_path):  # noqa: F811
    """Sections at fractional offsets and heights (as text lays them out) come out at their size, rounded."""
    heights = [100.2, 100.5, 100.7, 100.25, 100.75]
    body = "<style>body { margin: 0 } section { width: 600.4px; background: teal }</style>" + "".join(
        f'<div style="height: 0.3px"></div><section id="s{i}" style="height: {h}px"></section>'
        for i, h in enumerate(heights)
    )
    open_page(chromium_driver, page(tmp_path, body))
    paths = screenshot_sections(chromium_driver, "section", tmp_path / "shots")
    sizes = element_sizes(chromium_driver, "section")
    assert [height for _, height in sizes] != [int(height) for _, height in sizes]  # fractional, as in the report
    for path, css_size in zip(paths, sizes, strict=True):
        with Image.open(path) as image:
            assert captured_size_matches(image.size, css_size), (path.name, image.size, css_size)


@pytest.mark.parametrize(
    "image_size, css_size, matches",
    [
        ((1200, 685), (1200.0, 685.5), True),  # Chromium 150: cut down
        ((1200, 686), (1200.0, 685.5), True),  # Chromium 156: rounded
        ((1200, 686), (1200.0, 686.0), True),
        ((1200, 687), (1200.0, 685.5), False),  # two pixels off: a real change of layout
        ((1200, 684), (1200.0, 685.5), False),
        ((1199, 686), (1200.0, 686.0), False),  # an integer size leaves no room
    ],
)
def test_captured_size_allows_either_rounding_only(image_size, css_size, matches):
    assert captured_size_matches(image_size, css_size) is matches


def test_start_never_runs_selenium_manager(tmp_path):
    """The system chromedriver is given by path: Selenium Manager (which downloads drivers) must not run."""
    from selenium.webdriver.common.selenium_manager import SeleniumManager

    with mock.patch.object(SeleniumManager, "binary_paths", side_effect=AssertionError("Selenium Manager ran")):
        with chromium() as driver:
            assert open_page(driver, page(tmp_path, "<p>x</p>")).console_errors == []


@pytest.mark.parametrize("required", [False, True])
def test_missing_browser_skips_or_fails_when_required(monkeypatch, required):
    monkeypatch.setattr(browser, "browser_binaries", lambda: (None, "/usr/bin/chromedriver"))
    if required:
        monkeypatch.setenv(browser.REQUIRE_ENV, "1")
    else:
        monkeypatch.delenv(browser.REQUIRE_ENV, raising=False)
    outcome = pytest.fail.Exception if required else pytest.skip.Exception
    with pytest.raises(outcome, match="chromium not found on PATH"):
        with chromium():
            pass
