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


@pytest.fixture
def make_browser(tmp_path: Path) -> Iterator[MakeBrowser]:
    """Start browsers (javascript=False for one with scripts off); all quit afterwards."""
    found = _find()
    if isinstance(found, str):
        if os.environ.get("CI") == "true":
            pytest.fail(found)
        pytest.skip(found)
    binary, driver = found
    started: list[webdriver.Chrome] = []

    def start(javascript: bool = True) -> webdriver.Chrome:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={tmp_path / f'profile-{len(started)}'}")
        if not javascript:
            options.add_experimental_option(
                "prefs", {"profile.managed_default_content_settings.javascript": 2}
            )
        browser = webdriver.Chrome(options=options, service=Service(executable_path=driver))
        browser.implicitly_wait(0)
        started.append(browser)
        return browser

    yield start
    for browser in started:
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
