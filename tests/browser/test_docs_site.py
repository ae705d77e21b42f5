"""The documentation site as a reader searches it, in a real Chromium: the words a newcomer
types find the section that answers them first."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from helpers import build_site

from .conftest import MakeBrowser
from .test_dashboard import wait_for

# The site's search dialog draws its results in a shadow root: their links, in rank order.
RESULTS = """
    const host = [...document.querySelectorAll('*')].find((e) => e.shadowRoot);
    if (!host) return [];
    return [...host.shadowRoot.querySelectorAll('ol[role=listbox] a[role=option]')]
        .map((a) => a.getAttribute('href').split('/').pop());"""


# The search box has the focus (it is in that shadow root too).
TYPING = """
    const host = [...document.querySelectorAll('*')].find((e) => e.shadowRoot);
    const focused = host && host.shadowRoot.activeElement;
    return Boolean(focused && focused.getAttribute('role') === 'combobox');"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Nothing on stderr for each file served."""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The site built strict from docs/, served over HTTP: its base URL."""
    into = tmp_path_factory.mktemp("site")
    built = build_site(into)
    assert built.returncode == 0, built.stdout + built.stderr
    handler = functools.partial(_Quiet, directory=str(into / "site"))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{server.server_port}"
        server.shutdown()


def search(browser: webdriver.Chrome, site: str, words: str) -> list[str]:
    """What the site's search lists for the words, best first (page.html#section)."""
    browser.set_window_size(1280, 900)  # the header's search box, not a phone's icon
    browser.get(site + "/index.html")
    browser.find_element(By.CSS_SELECTOR, ".md-search__button").click()
    wait_for(browser, lambda b: b.execute_script(TYPING))
    browser.switch_to.active_element.send_keys(words)  # the keys go where the focus is
    found: list[list[str]] = []
    wait_for(browser, lambda b: found.append(b.execute_script(RESULTS)) or found[-1])
    return found[-1]


@pytest.mark.parametrize(
    ("words", "first"),
    [("3-D Secure", "checkout.html#3-d-secure"), ("refund", "test-controls.html#refunds")],
)
def test_the_search_ranks_the_answering_section_first(
    site: str, make_browser: MakeBrowser, words: str, first: str
) -> None:
    assert search(make_browser(), site, words)[0] == first
