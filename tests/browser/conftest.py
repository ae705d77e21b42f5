"""A real Chromium (Debian's chromium and chromium-driver) driven by Selenium.

Without a browser the tests skip, saying why; under CI=true they fail instead, so a CI
that lost its browser cannot pass quietly.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# Chromium's own calls home are refused on a closed network, many at a time: off.
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=900,1100",
)  # fmt: skip

MakeBrowser = Callable[..., webdriver.Chrome]


def _find() -> tuple[str, str] | str:
    binary = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        return (
            "no Chromium and chromedriver on PATH: `sudo apt-get install chromium"
            " chromium-driver` (Debian) to run the browser tests"
        )
    return binary, driver


def _start(binary: str, driver: str, profile: Path, javascript: bool) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    browser = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    browser.implicitly_wait(0)
    return browser


def _fresh(browser: webdriver.Chrome) -> bool:
    """The browser as a new one starts: one blank tab at the usual size, no cookies, no
    emulation, no console left; False if it cannot be brought back (then it is quit)."""
    try:
        first, *others = browser.window_handles
        for handle in others:
            browser.switch_to.window(handle)
            browser.close()
        browser.switch_to.window(first)
        browser.get("about:blank")  # its page's streams and timers end here
        browser.delete_all_cookies()
        browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "", "features": []})
        browser.set_window_size(900, 1100)
        browser.get_log("browser")  # read, so the next test's failure shows only its own
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def _kept_browsers() -> Iterator[dict[bool, webdriver.Chrome]]:
    """One idle browser per kind (scripts on or off) for this worker's tests to take in
    turn: starting Chromium costs most of a second of CPU, and about 50 tests use one."""
    kept: dict[bool, webdriver.Chrome] = {}
    yield kept
    for browser in kept.values():
        browser.quit()


@pytest.fixture
def make_browser(
    _kept_browsers: dict[bool, webdriver.Chrome], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MakeBrowser]:
    """Browsers for a test (javascript=False for one with scripts off), each as a new one
    starts (no cookies, one blank tab, no emulation): the worker's kept one of its kind if
    it is idle, else a new one; afterwards kept for the next test, or quit."""
    found = _find()
    if isinstance(found, str):
        if os.environ.get("CI") == "true":
            pytest.fail(found)
        pytest.skip(found)
    binary, driver = found
    used: list[tuple[bool, webdriver.Chrome]] = []

    def start(javascript: bool = True) -> webdriver.Chrome:
        browser = _kept_browsers.pop(javascript, None)
        if browser is None:
            browser = _start(binary, driver, tmp_path_factory.mktemp("profile"), javascript)
        used.append((javascript, browser))
        return browser

    yield start
    for javascript, browser in used:
        if javascript not in _kept_browsers and _fresh(browser):
            _kept_browsers[javascript] = browser
        else:
            browser.quit()


@pytest.fixture
def screenshot(tmp_path: Path) -> Callable[[webdriver.Chrome, str], Path]:
    """Save a screenshot; also into $SCREENSHOTS_DIR when set (how docs/ gets its images)."""

    def take(browser: webdriver.Chrome, name: str) -> Path:
        path = tmp_path / f"{name}.png"
        browser.save_screenshot(str(path))
        if target := os.environ.get("SCREENSHOTS_DIR"):
            shutil.copy(path, Path(target) / path.name)
        return path

    return take
