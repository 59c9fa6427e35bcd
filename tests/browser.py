"""Headless Chromium for tests of HTML pages: console errors, network requests, sizes, screenshots, clicks.

Import into a test module: ``from browser import chromium_driver, open_page``; the ``chromium_driver``
fixture starts one browser per test module. Where ``chromium`` or ``chromedriver`` is missing the tests
skip, unless ``STACKFOLD_REQUIRE_BROWSER=1`` (CI) makes them fail (Debian: apt packages chromium and
chromium-driver). Selenium drives the system chromedriver given by path, so Selenium Manager never runs
(it would try to download a driver), and every host name except localhost resolves to "not found": a
page's request to the internet is recorded, then fails at once, without any network traffic.
"""

import base64
import json
import math
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

REQUIRE_ENV = "STACKFOLD_REQUIRE_BROWSER"
WINDOW_SIZE = (1400, 1000)  # the outer window; the viewport is a little shorter (about 1400x857)
PAGE_LOAD_TIMEOUT = 30  # seconds
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",  # root in a container
    "--disable-dev-shm-usage",
    "--disable-gpu",
    f"--window-size={WINDOW_SIZE[0]},{WINDOW_SIZE[1]}",
    "--force-device-scale-factor=1",  # screenshots in CSS pixels
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost",  # offline: no DNS wait, no traffic
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-extensions",
    "--disable-sync",
    "--mute-audio",
    "--lang=en-US",
)
LOCAL_SCHEMES = ("data:", "blob:", "about:")


def browser_binaries() -> tuple[str | None, str | None]:
    """Paths of the Chromium browser and of chromedriver on PATH (None where missing)."""
    browser = next((path for name in BROWSER_NAMES if (path := shutil.which(name))), None)
    return browser, shutil.which("chromedriver")


def _unavailable(message: str) -> NoReturn:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{message}, but {REQUIRE_ENV}=1")
    pytest.skip(message)


@contextmanager
def chromium() -> Iterator["WebDriver"]:
    """A headless Chromium driven by the system chromedriver, quit afterwards; skips (or fails) when missing."""
    try:  # imported here so that a missing selenium skips instead of breaking collection
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium not installed (pip install selenium)")
    browser, driver_path = browser_binaries()
    missing = [name for name, path in (("chromium", browser), ("chromedriver", driver_path)) if path is None]
    if missing:
        _unavailable(f"{' and '.join(missing)} not found on PATH (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in CHROMIUM_ARGS:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT)
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def chromium_driver() -> Iterator["WebDriver"]:
    """One headless Chromium for the whole test module."""
    with chromium() as driver:
        yield driver


@dataclass
class PageLoad:
    """What loading one page did: its console errors and the network requests it made."""

    url: str  # the page's own file:// URL
    console_errors: list[dict] = field(default_factory=list)  # SEVERE browser log entries: level, message, source
    requests: list[str] = field(default_factory=list)  # every requested URL in order, the page itself included
    failed_requests: list[tuple[str, str]] = field(default_factory=list)  # (URL, error text), e.g. net::ERR_...

    @property
    def external_requests(self) -> list[str]:
        """Requests other than the page itself and data:/blob:/about: URLs (other file:// files count)."""
        return [url for url in self.requests if url.split("#")[0] != self.url and not url.startswith(LOCAL_SCHEMES)]

    @property
    def error_messages(self) -> list[str]:
        return [entry["message"] for entry in self.console_errors]


def _performance_events(driver: "WebDriver") -> Iterator[dict]:
    for entry in driver.get_log("performance"):
        yield json.loads(entry["message"])["message"]


def open_page(driver: "WebDriver", path: str | Path) -> PageLoad:
    """Load a local HTML file, wait until it is complete, and return its console errors and requests."""
    from selenium.webdriver.support.ui import WebDriverWait

    url = Path(path).resolve().as_uri()
    driver.get("about:blank")  # leave the earlier page first: its loads still in flight are cancelled there
    driver.get_log("browser")  # reading a log empties it: drop what earlier pages left
    driver.get_log("performance")
    driver.get(url)
    WebDriverWait(driver, PAGE_LOAD_TIMEOUT).until(lambda d: d.execute_script("return document.readyState") == "complete")
    load = PageLoad(url=url)
    severe = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
    urls_by_id: dict[str, str] = {}
    for event in _performance_events(driver):
        params = event.get("params", {})
        if event.get("method") == "Network.requestWillBeSent":
            request_url = params["request"]["url"]
            urls_by_id[params.get("requestId", "")] = request_url
            load.requests.append(request_url)
        elif event.get("method") == "Network.loadingFailed":
            failed_url = urls_by_id.get(params.get("requestId", ""), "?")
            load.failed_requests.append((failed_url, params.get("errorText", "")))
    load.console_errors = [entry for entry in severe if _is_this_pages(entry, load.requests)]
    return load


def _is_this_pages(entry: dict, requests: list[str]) -> bool:
    """Whether a console entry belongs to the page: a network error counts only for a URL the page requested.

    A request the earlier page started can fail after the logs were emptied (its failure is reported
    asynchronously, later on a loaded CI machine); its entry names a URL this page never asked for.
    """
    if entry.get("source") != "network":
        return True
    return any(entry.get("message", "").startswith(f"{request} ") for request in requests)


def element_sizes(driver: "WebDriver", css: str) -> list[tuple[float, float]]:
    """(width, height) in CSS pixels of each element matching a CSS selector, from getBoundingClientRect."""
    sizes = driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), e => {"
        " const r = e.getBoundingClientRect(); return [r.width, r.height]; });",
        css,
    )
    return [(float(w), float(h)) for w, h in sizes]


def captured_size_matches(image_size: tuple[int, int], css_size: tuple[float, float]) -> bool:
    """Whether a screenshot's pixel size is its element's CSS size as some Chromium rounds it.

    A section's box is fractional (text and margins lay out in 1/64 px); Chromium 150 cut the clip's
    size down, Chromium 156 rounds it to the nearest pixel. Either rounding is accepted, so each side
    may be the floor or the ceiling of the CSS size (at a device scale factor of 1), nothing else.
    """
    return all(math.floor(css) <= pixels <= math.ceil(css) for pixels, css in zip(image_size, css_size, strict=True))


def _file_stem(element_id: str, index: int, taken: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", element_id).strip("._") or str(index)
    if stem in taken:
        stem = f"{stem}-{index}"
    taken.add(stem)
    return stem


def screenshot_sections(driver: "WebDriver", css: str, folder: str | Path) -> list[Path]:
    """A PNG of each element matching css, as folder/<id or index>.png; whole even when taller than the window.

    Uses the DevTools full-page capture clipped to the element's box, so no window resizing is needed.
    An element with no area (hidden, empty) raises ValueError.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    elements = driver.find_elements("css selector", css)
    paths, taken = [], set()
    for index, element in enumerate(elements):
        box = driver.execute_script(
            "const e = arguments[0]; e.scrollIntoView({block: 'start'});"
            " const r = e.getBoundingClientRect();"
            " return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height, e.id];",
            element,
        )
        x, y, width, height, element_id = box
        stem = _file_stem(element_id or "", index, taken)
        if width < 1 or height < 1:
            raise ValueError(f"{css} #{index} ({stem}) has no area to capture: {width}x{height}")
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": x, "y": y, "width": width, "height": height, "scale": 1},
            },
        )
        path = folder / f"{stem}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        paths.append(path)
    return paths


def read_column(driver: "WebDriver", table_css: str, column_index: int) -> list[str]:
    """The visible texts of one column of the body rows of the first table matching table_css."""
    return driver.execute_script(
        "const t = document.querySelector(arguments[0]);"
        " if (!t) throw new Error('no table matches ' + arguments[0]);"
        " const rows = t.tBodies.length ? Array.from(t.tBodies).flatMap(b => Array.from(b.rows))"
        "   : Array.from(t.rows).slice(1);"
        " return rows.map(r => r.cells[arguments[1]] ? r.cells[arguments[1]].innerText.trim() : '');",
        table_css,
        column_index,
    )


def click_header_and_read_column(
    driver: "WebDriver", table_css: str, header_index: int, column_index: int
) -> list[str]:
    """Click the header_index-th header cell of the table (a real mouse click), then read a column."""
    header = driver.execute_script(
        "const t = document.querySelector(arguments[0]);"
        " if (!t) throw new Error('no table matches ' + arguments[0]);"
        " const row = t.tHead && t.tHead.rows.length ? t.tHead.rows[0] : t.rows[0];"
        " const cell = row ? row.cells[arguments[1]] : null;"
        " if (cell) cell.scrollIntoView({block: 'center'});"
        " return cell;",
        table_css,
        header_index,
    )
    if header is None:
        raise IndexError(f"{table_css} has no header cell {header_index}")
    header.click()
    return read_column(driver, table_css, column_index)
