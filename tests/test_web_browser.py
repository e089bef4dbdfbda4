"""The web UI in a real headless Chromium (Debian's chromium + chromium-driver, through
Selenium): search, open an article, its versions, the raw page inert, a phone-sized
screen, and the screenshots the docs show (written to docs/img/ with
NEWSARCHIVE_UPDATE_SCREENSHOTS=1, else to a temporary folder)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web_archive import (
    CORRECTION,
    HOSTILE_TITLE,
    Beacon,
    Server,
    WebArchive,
    beacon_server,
    build_archive,
    serve,
)

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
DOCS_IMG = Path(__file__).parent.parent / "docs" / "img"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
DESKTOP = (1280, 900)
PHONE = (390, 844)

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium not installed (pip install -e '.[test]')"
)
if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip(
        "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )
from selenium.webdriver.common.by import By  # noqa: E402 - after the skip: selenium may be absent
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def beacon() -> Iterator[Beacon]:
    with beacon_server() as running:
        yield running


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, beacon: Beacon) -> WebArchive:
    return build_archive(tmp_path_factory.mktemp("browser") / "archive.db", beacon.url)


@pytest.fixture(scope="module")
def server(archive: WebArchive) -> Iterator[Server]:
    with serve(archive.db) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="newsarchive-chromium-")
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={DESKTOP[0]},{DESKTOP[1]}"]:
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def follow(driver: Any, action: Any) -> None:
    """Do ``action`` (a click, a submit) and wait until the next page has replaced this one."""
    old = driver.find_element(By.TAG_NAME, "html")
    action()
    WebDriverWait(driver, 20).until(expected_conditions.staleness_of(old))
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")


SHOTS: list[Path] = []  # where screenshots go in this run: docs/img only when asked to update them


@pytest.fixture(scope="module", autouse=True)
def screenshot_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Screenshots go to docs/img with NEWSARCHIVE_UPDATE_SCREENSHOTS=1, else to a temporary
    folder, so that running the tests leaves the working tree clean."""
    update = os.environ.get("NEWSARCHIVE_UPDATE_SCREENSHOTS", "") not in ("", "0")
    SHOTS[:] = [DOCS_IMG if update else tmp_path_factory.mktemp("screenshots")]
    yield
    SHOTS.clear()


def screenshot(driver: Any, name: str) -> None:
    folder = SHOTS[0]
    folder.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(folder / name))
    assert (folder / name).stat().st_size > 1000


def test_search_and_open_an_article(browser: Any, server: Server) -> None:
    browser.set_window_size(*DESKTOP)
    browser.get(server.base_url + "/")
    box = browser.find_element(By.NAME, "q")
    box.send_keys("police")
    follow(browser, box.submit)
    hits = browser.find_elements(By.CSS_SELECTOR, "#hits .hit .title")
    assert [hit.text for hit in hits] == [
        "House where Hitler was born will become police station, Austria says"
    ]
    assert browser.find_element(By.CSS_SELECTOR, "#hits mark").text.lower() == "police"
    screenshot(browser, "search.png")
    follow(browser, hits[0].click)
    assert browser.find_element(By.ID, "title").text.startswith("House where Hitler was born")
    assert "police station" in browser.find_element(By.ID, "text").text


def test_filters_and_paging_in_the_form(browser: Any, server: Server) -> None:
    browser.get(server.base_url + "/?site=demo")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#hits .hit")) == 5
    screenshot(browser, "archive.png")
    browser.get(server.base_url + "/?per_page=2")
    assert "page 1 of 4" in browser.find_element(By.ID, "count").text
    follow(browser, browser.find_element(By.CSS_SELECTOR, "a[rel=next]").click)
    assert "page 2 of 4" in browser.find_element(By.ID, "count").text
    browser.get(server.base_url + "/")
    browser.find_element(By.CSS_SELECTOR, "details.filters summary").click()
    Select(browser.find_element(By.NAME, "site")).select_by_value("demo")
    browser.find_element(By.NAME, "lang").send_keys("en")
    follow(browser, browser.find_element(By.CSS_SELECTOR, "form.search button").click)
    titles = [hit.text for hit in browser.find_elements(By.CSS_SELECTOR, "#hits .hit .title")]
    assert len(titles) == 2 and all(title.isascii() for title in titles)


def test_versions_with_a_diff_and_duplicates(browser: Any, server: Server, archive: WebArchive) -> None:
    browser.get(f"{server.base_url}/articles/{archive.ids['xunjk']}")
    assert browser.find_element(By.ID, "title").text == "焦点观察:柳州高新区十年高质量发展综述"
    versions = browser.find_elements(By.CSS_SELECTOR, "#versions ol.versions li")
    assert len(versions) == 2 and "current" in versions[1].text
    added = [span.text for span in browser.find_elements(By.CSS_SELECTOR, "#versions .diff .add")]
    assert f"+{CORRECTION}" in added
    assert (
        browser.find_element(By.CSS_SELECTOR, "#duplicates a")
        .get_attribute("href")
        .endswith(f"/articles/{archive.ids['mirror']}")
    )
    screenshot(browser, "article.png")


def test_a_hostile_title_stays_text(browser: Any, server: Server, archive: WebArchive) -> None:
    browser.get(f"{server.base_url}/articles/{archive.ids['hostile']}")
    heading = browser.find_element(By.ID, "title")
    assert heading.text == HOSTILE_TITLE
    assert (
        heading.find_elements(By.TAG_NAME, "b") == [] and heading.find_elements(By.TAG_NAME, "script") == []
    )
    assert browser.title == f"{HOSTILE_TITLE} · newsarchive"  # its script never set "pwned"


def test_the_raw_page_is_inert(browser: Any, server: Server, archive: WebArchive, beacon: Beacon) -> None:
    browser.get(f"{server.base_url}/articles/{archive.ids['hostile']}/raw")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Archived page"  # it is the archived page
    assert browser.find_element(By.ID, "status").text == "inert"  # no script changed the DOM
    assert browser.title == "hostile"  # nor the title
    browser.get(f"{server.base_url}/sites")  # leave the page: anything pending would have gone out by now
    assert sum(beacon.hits.values()) == 0, dict(beacon.hits)  # no fetch, image, style sheet or frame


def test_the_beacon_would_see_a_live_page(browser: Any, beacon: Beacon, tmp_path: Path) -> None:
    """The control for the test above: the same page opened without the sandbox does reach the beacon."""
    from tests.web_archive import hostile_page

    page = tmp_path / "hostile.html"
    page.write_bytes(hostile_page(beacon.url))
    browser.get(page.as_uri())
    assert browser.find_element(By.ID, "status").text == "script ran"
    browser.get("about:blank")
    assert beacon.hits["/image.png"] >= 1
    beacon.hits.clear()


def test_pages_fit_a_phone(browser: Any, server: Server, archive: WebArchive) -> None:
    browser.set_window_size(*PHONE)
    try:
        for path in ("/", f"/articles/{archive.ids['xunjk']}", "/sites", "/runs", "/?q=高新区"):
            browser.get(server.base_url + path)
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} is {overflow}px wider than a phone screen"
        browser.get(f"{server.base_url}/articles/{archive.ids['xunjk']}")
        screenshot(browser, "article-phone.png")
    finally:
        browser.set_window_size(*DESKTOP)


def test_sites_page_draws_the_chart(browser: Any, server: Server) -> None:
    browser.get(server.base_url + "/sites")
    bars = browser.find_elements(By.CSS_SELECTOR, "#site-demo svg rect")
    assert len(bars) == 30
    heights = [float(bar.get_attribute("height")) for bar in bars]
    assert max(heights) > 0
    screenshot(browser, "sites.png")
