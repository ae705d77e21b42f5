"""The payment page in a real Chromium against the real CLI and a real store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.wait import WebDriverWait
from selenium_axe_python import Axe

from gateway_process import GatewayProcess
from payments_server.testing import StoreStub

from .conftest import MakeBrowser


@pytest.fixture
def live() -> Iterator[tuple[GatewayProcess, StoreStub]]:
    with StoreStub() as store, GatewayProcess("--callback-url", store.url) as gateway:
        yield gateway, store


def open_session(gateway: GatewayProcess, store: StoreStub, **body: object) -> dict:  # type: ignore[type-arg]
    payload = {
        "order_id": "web-1",
        "amount": 42.5,
        "description": "Two mugs",
        "success_url": store.base_url + "/thanks?session={CHECKOUT_SESSION_ID}",
        "cancel_url": store.base_url + "/cart",
        **body,
    }
    response = requests.post(gateway.url + "/checkout/sessions", json=payload, timeout=5)
    assert response.status_code == 201
    return response.json()["session"]


def page(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser, javascript: bool = True
) -> tuple[GatewayProcess, StoreStub, dict, webdriver.Chrome]:  # type: ignore[type-arg]
    """A new session, and a browser on its payment page."""
    gateway, store = live
    session = open_session(gateway, store)
    browser = make_browser(javascript=javascript)
    browser.get(session["url"])
    return gateway, store, session, browser


def fill(browser: webdriver.Chrome, number: str, expiry: str = "12/35") -> None:
    for field, value in (("number", number), ("expiry", expiry), ("cvc", "123")):
        element = browser.find_element(By.ID, field)
        element.clear()
        element.send_keys(value)


def click(browser: webdriver.Chrome, text: str) -> None:
    browser.find_element(By.XPATH, f"//button[normalize-space()='{text}']").click()


def pay_and_land_on_the_store(
    browser: webdriver.Chrome, store: StoreStub, session: dict[str, Any]
) -> list[Any]:
    """Pay on the page: the customer is back on the store's success_url, and the store was
    told success once; the callbacks it got."""
    click(browser, "Pay")
    wait_for(browser, ready.url_contains("/thanks"))
    assert browser.current_url == f"{store.base_url}/thanks?session={session['id']}"
    callbacks = [c for c in store.received if c.method == "POST"]
    assert [c.json for c in callbacks] == [{"order_id": "web-1", "status": "success"}]
    return callbacks


def wait_for(browser: webdriver.Chrome, condition: Callable[[webdriver.Chrome], object]) -> None:
    WebDriverWait(browser, 10).until(condition)


def test_the_success_card_pays_and_lands_on_the_store_with_a_signed_callback(
    live: tuple[GatewayProcess, StoreStub],
    make_browser: MakeBrowser,
    screenshot: Callable[[webdriver.Chrome, str], Path],
) -> None:
    gateway, store, session, browser = page(live, make_browser)
    assert "Pay 42.5" in browser.find_element(By.TAG_NAME, "h1").text
    # The table fills the form (checkout.js).
    browser.find_element(By.CSS_SELECTOR, "button.fill[data-number='4242424242424242']").click()
    assert browser.find_element(By.ID, "number").get_attribute("value") == "4242424242424242"
    screenshot(browser, "checkout")
    callbacks = pay_and_land_on_the_store(browser, store, session)
    assert callbacks[0].signature_valid
    balance = requests.get(gateway.url + "/balance", timeout=5).json()["balance"]
    assert balance == 49957.5


@pytest.mark.parametrize(
    ("number", "code"),
    [("4000000000000002", "card_declined"), ("4000000000009995", "insufficient_funds")],
)
def test_after_a_decline_another_card_pays_on_the_same_page(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser, number: str, code: str
) -> None:
    gateway, store, session, browser = page(live, make_browser)
    fill(browser, number)
    browser.find_element(By.ID, "name").send_keys("Ada Lovelace")
    click(browser, "Pay")
    wait_for(browser, ready.presence_of_element_located((By.CSS_SELECTOR, ".declined .decline")))
    assert browser.find_element(By.CSS_SELECTOR, ".declined code").text == code
    assert browser.current_url == session["url"]  # the same page, the form again
    # The number and the CVC cleared, the expiry and the name kept.
    values = {field: browser.find_element(By.ID, field).get_attribute("value")
              for field in ("number", "cvc", "expiry", "name")}  # fmt: skip
    assert values == {"number": "", "cvc": "", "expiry": "12/35", "name": "Ada Lovelace"}
    assert store.received == []  # the store hears only how the session ends
    fill(browser, "4242424242424242")
    pay_and_land_on_the_store(browser, store, session)
    shown = requests.get(gateway.url + f"/checkout/sessions/{session['id']}", timeout=5).json()
    assert [(a["outcome"], a["decline_code"]) for a in shown["session"]["attempts"]] == [
        ("declined", code), ("paid", None),
    ]  # fmt: skip
    assert requests.get(gateway.url + "/balance", timeout=5).json()["balance"] == 49957.5


def test_three_d_secure_then_paid(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    _gateway, store, _session, browser = page(live, make_browser)
    fill(browser, "4000 0027 6000 3184")
    click(browser, "Pay")
    wait_for(browser, ready.url_contains("/authenticate"))
    click(browser, "Complete authentication")
    wait_for(browser, ready.url_contains("/thanks"))
    assert [c.json["status"] for c in store.received if c.method == "POST"] == ["success"]


def test_cancel_lands_on_cancel_url(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    gateway, _store, session, browser = page(live, make_browser)
    click(browser, "Cancel")
    wait_for(browser, ready.url_contains("/cart"))
    state = requests.get(f"{gateway.url}/checkout/sessions/{session['id']}", timeout=5).json()
    assert state["session"]["state"] == "canceled"


def test_an_open_page_flips_live_when_the_session_expires_from_the_api(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    gateway, _store, session, browser = page(live, make_browser)
    # Wait until the page follows the stream: the gateway then holds one open stream.
    wait_for(browser, lambda b: b.execute_script("return document.readyState") == "complete")
    requests.post(f"{gateway.url}/checkout/sessions/{session['id']}/expire", timeout=5)
    wait_for(browser, ready.text_to_be_present_in_element((By.TAG_NAME, "h1"), "expired"))
    assert browser.find_elements(By.ID, "number") == []


def test_the_page_works_with_javascript_off(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    _gateway, store, _session, browser = page(live, make_browser, javascript=False)
    browser.find_element(By.CSS_SELECTOR, "button.fill").click()  # does nothing without JS
    assert browser.find_element(By.ID, "number").get_attribute("value") == ""
    fill(browser, "4242424242424242")
    click(browser, "Pay")
    wait_for(browser, ready.url_contains("/thanks"))
    assert [c.json["status"] for c in store.received if c.method == "POST"] == ["success"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_form_with_its_problems_has_no_accessibility_violations(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser, scheme: str
) -> None:
    gateway, store = live
    session = open_session(gateway, store)
    browser = make_browser()
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )
    browser.get(session["url"])
    fill(browser, "4242424242424241", "13/20")
    browser.find_element(By.ID, "cvc").clear()
    click(browser, "Pay")
    wait_for(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, ".field-error")) == 3)
    assert [e.get_attribute("aria-invalid") for e in
            browser.find_elements(By.CSS_SELECTOR, "form.card input")] == [
        "true", "true", "true", None]  # fmt: skip
    # The Pay button's words must be readable on its color in both themes (axe's contrast).
    axe = Axe(browser)
    axe.inject()
    violations = axe.run()["violations"]
    assert violations == [], axe.report(violations)
