"""The dashboard as a developer uses it, at 400 px and at 1280 px: the order they click opens
in view with its own URL, a callback's retries are one row, money reads one way, nothing
scrolls sideways; and its screenshots, light and dark, on clean demo data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium_axe_python import Axe

from gateway_process import GatewayProcess, free_port

from .conftest import MakeBrowser
from .test_dashboard import summaries, text, wait_for

LONG_ORDER = "ord_" + "2026-12-03-a-very-long-order-id-from-a-store-" * 2


@pytest.fixture
def demo() -> Iterator[GatewayProcess]:
    """A gateway on a frozen clock, whose store is gone, holding a little of everything."""
    dead = f"http://127.0.0.1:{free_port()}/payments/confirm"
    with GatewayProcess("--callback-url", dead, "--clock", "frozen") as gateway:
        rule = {"order_id": "ord_1003", "outcome": "pending", "decide_after_ms": 3_600_000}
        requests.put(gateway.url + "/simulation", json={"rules": [rule]}, timeout=5)
        for order, amount in (("ord_1001", 179.98), (LONG_ORDER, 12), ("ord_1003", 33.1)):
            requests.post(gateway.url + "/payments/orders",
                          json={"order_id": order, "amount": amount}, timeout=10)  # fmt: skip
        requests.post(gateway.url + "/checkout/sessions",
                      json={"order_id": "ord_1004", "amount": 7}, timeout=5)  # fmt: skip
        # The session expires, and every retry of the three callbacks falls due: six
        # attempts each, all failed.
        requests.post(gateway.url + "/clock/advance", json={"seconds": 3000}, timeout=30)
        yield gateway


def at_width(browser: webdriver.Chrome, width: int) -> None:
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def live_at(make_browser: MakeBrowser, url: str, width: int) -> webdriver.Chrome:
    """A browser this wide on the page, once it follows the event stream."""
    browser = make_browser()
    at_width(browser, width)
    browser.get(url)
    wait_for(browser, lambda b: text(b, "connection").startswith("Live"))
    return browser


def sideways(browser: webdriver.Chrome) -> int:
    """How far the page scrolls sideways (0: not at all)."""
    return int(browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"))  # fmt: skip


def broken_words(browser: webdriver.Chrome, selector: str) -> list[str]:
    """The text of each element shown that breaks across lines or is cut off."""
    return list(browser.execute_script(
        "return [...document.querySelectorAll(arguments[0])].filter(e => e.offsetParent !== null"
        " && (e.getClientRects().length > 1 || e.scrollWidth > e.clientWidth + 1))"
        ".map(e => e.textContent)", selector))  # fmt: skip


def axe_violations(browser: webdriver.Chrome) -> list[tuple[str, object]]:
    """What axe finds on the page as it stands: each rule broken, and its first element."""
    axe = Axe(browser)
    axe.inject()
    return [(v["id"], v["nodes"][0]["target"]) for v in axe.run()["violations"]]


@pytest.mark.parametrize("width", [400, 1280])
def test_the_clicked_order_opens_in_view_with_its_own_url_at_each_width(
    demo: GatewayProcess, make_browser: MakeBrowser, width: int
) -> None:
    browser = live_at(make_browser, demo.url + "/", width)
    wait_for(
        browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, "#sessions-table tbody tr")) == 1
    )
    assert sideways(browser) == 0
    # The sessions table is at the bottom of the page: click its order there.
    button = browser.find_element(
        By.XPATH, "//table[@id='sessions-table']//button[.='order ord_1004']"
    )
    browser.execute_script("arguments[0].scrollIntoView()", button)
    button.click()
    wait_for(browser, lambda b: text(b, "order-title") == "Order ord_1004")
    wait_for(browser, lambda b: "Checkout session" in text(b, "order-detail"))
    assert " expired, 7.00 USD" in text(browser, "order-detail")
    box = browser.execute_script(
        "const r = document.getElementById('order').getBoundingClientRect();"
        " return [r.top, r.left, r.bottom, r.right, innerWidth, innerHeight];")  # fmt: skip
    top, left, bottom, right, view_width, view_height = box
    # Whole in view, to the pixel (a scroll may leave it a fraction of one above the top).
    assert top > -1 and left >= 0 and bottom < view_height + 1 and right <= view_width
    assert browser.execute_script("return document.activeElement.id") == "order-title"
    assert browser.current_url.endswith("#order=ord_1004")
    # The URL is the order's: loaded again, it opens the order again.
    browser.refresh()
    wait_for(browser, lambda b: b.find_element(By.ID, "order").is_displayed()
             and text(b, "order-title") == "Order ord_1004")  # fmt: skip
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    wait_for(browser, lambda b: not b.find_element(By.ID, "order").is_displayed())
    assert "#order=" not in browser.current_url
    assert sideways(browser) == 0


@pytest.mark.parametrize("width", [400, 1280])
def test_retries_are_one_row_money_reads_one_way_and_headers_stay_whole(
    demo: GatewayProcess, make_browser: MakeBrowser, width: int
) -> None:
    browser = live_at(make_browser, demo.url + "/", width)
    wait_for(
        browser,
        lambda b: len(b.find_elements(By.CSS_SELECTOR, "#activity-list .entry.callback")) == 3,
    )
    rows = browser.find_elements(By.CSS_SELECTOR, "#activity-list .entry.callback .attempts")
    # Three callbacks (two payments and the session that expired), six attempts each.
    assert [row.text for row in rows] == ["6 attempts"] * 3
    assert sum(s.startswith("callback") for s in summaries(browser)) == 3
    wait_for(
        browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, "#pending-table tbody tr")) == 1
    )
    amounts = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "td.amount")]
    assert amounts == ["33.10 USD", "7.00 USD"]
    assert text(browser, "balance") == "49808.02"
    assert broken_words(browser, "th") == []
    assert sideways(browser) == 0


@pytest.mark.parametrize("width", [400, 1280])
def test_the_account_takes_the_pages_width_not_half_of_it(
    demo: GatewayProcess, make_browser: MakeBrowser, width: int
) -> None:
    browser = live_at(make_browser, demo.url + "/", width)
    script = ("return ['account', 'activity'].map(id => document.getElementById(id)"
              ".getBoundingClientRect().width)")  # fmt: skip
    account, activity = browser.execute_script(script)
    assert account == activity
    if width == 1280:  # its reset beside its facts, not under them
        facts = browser.find_element(By.CSS_SELECTOR, "#account .facts").rect
        reset = browser.find_element(By.ID, "reset-form").rect
        assert reset["x"] > facts["x"] + facts["width"] / 2 and reset["y"] < facts["y"] + 40


def test_at_400_px_each_table_row_is_a_card_whose_cells_say_their_column(
    demo: GatewayProcess, make_browser: MakeBrowser
) -> None:
    browser = live_at(make_browser, demo.url + "/", 400)
    wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#callbacks-table tbody tr"))
    script = """
      const row = document.querySelector('#callbacks-table tbody tr');
      return {head: getComputedStyle(document.querySelector('#callbacks-table thead')).display,
              row: getComputedStyle(row).display,
              labels: [...row.cells].map(td => getComputedStyle(td, '::before').content)};"""
    shown = browser.execute_script(script)
    assert (shown["head"], shown["row"]) == ("none", "block")
    assert shown["labels"] == ['"Order"', '"Sent"', '"State"', '"Attempts"', '"Next retry"',
                               '"Actions"']  # fmt: skip
    assert sideways(browser) == 0
    # At 1280 px it is a table again.
    at_width(browser, 1280)
    assert (
        browser.execute_script(
            "return getComputedStyle(document.querySelector('#callbacks-table tbody tr')).display"
        )
        == "table-row"
    )


@pytest.fixture
def every_api() -> Iterator[GatewayProcess]:
    """A gateway holding one payment of each API, oldest first: gateway, ticketing, PSP,
    article, card loader; then a checkout session nobody has tried to pay."""
    dead = f"http://127.0.0.1:{free_port()}/payments/confirm"
    with GatewayProcess("--callback-url", dead, "--callback-schedule", "600") as gateway:
        url = gateway.url
        requests.post(url + "/payments/orders", json={"order_id": "G-1", "amount": 10}, timeout=5)
        requests.post(url + "/ticketing/payments", timeout=5, json={
            "orderId": "9c5b94b1-35ad-49bb-b118-8e8fc24abf80",
            "customerId": "6b29fc40-ca47-1067-b31d-00dd010662da", "reservationId": None,
            "amount": 12.0, "currency": "USD", "paymentMethod": "credit_card"})  # fmt: skip
        requests.post(url + "/psp/transactions", headers={"x-customer-id": "1"}, timeout=5, json={
            "description": "Lightsaber", "amount": "2500", "payment_method": "credit_card",
            "card_number": "4111111111111111", "card_holder_name": "Luke Skywalker",
            "card_expiration_date": "10/35", "card_verification_code": "123"})  # fmt: skip
        created = requests.post(url + "/article/create-session", timeout=5, json={
            "amount": 25.5, "currency": "USD", "callback_url": dead, "transaction_id": 77,
        }).json()  # fmt: skip
        session = created["payment_url"].rsplit("/", 1)[1]
        requests.post(url + f"/checkout/sessions/{session}/complete",
                      json={"outcome": "paid"}, timeout=5)  # fmt: skip
        requests.post(url + "/cardloader/cards/1/load/",
                      json={"nonce": "fake-valid-nonce", "amount": "10.00"}, timeout=5)  # fmt: skip
        # A checkout session nobody has tried to pay yet: in the list as open.
        requests.post(url + "/checkout/sessions", json={"order_id": "S-1", "amount": 5},
                      timeout=5)  # fmt: skip
        yield gateway


def focused(browser: webdriver.Chrome) -> str:
    """The order of the list's button that has the focus ("" when none has)."""
    return str(browser.execute_script(
        "return document.activeElement.dataset.order || document.activeElement.id"))  # fmt: skip


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [400, 1280])
def test_one_list_of_every_apis_payments_and_the_chosen_ones_detail_by_mouse_and_keyboard(
    every_api: GatewayProcess, make_browser: MakeBrowser, width: int, scheme: str
) -> None:
    browser = make_browser()
    at_width(browser, width)
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )
    browser.get(every_api.url + "/")
    items = "#payments-list button.payment"
    wait_for(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, items)) == 6
             and "ticketing" in text(b, "payments-list"))  # fmt: skip
    rows = [e.text.split("\n") for e in browser.find_elements(By.CSS_SELECTOR, items)][1:]
    # Newest first, each with its state, amount and currency, and the API it came through.
    opened = browser.find_element(By.CSS_SELECTOR, items).text.split("\n")
    assert opened[:3] == ["S-1", "open", "5.00 USD · gateway"]
    assert [(row[0], row[1], row[2]) for row in rows] == [
        (rows[0][0], "paid", "10.00 USD · cardloader"),
        ("77", "paid", "25.50 USD · article"),
        (rows[2][0], "paid", "25.00 USD · psp"),
        ("9c5b94b1-35ad-49bb-b118-8e8fc24abf80", "paid", "12.00 USD · ticketing"),
        ("G-1", "paid", "10.00 USD · gateway"),
    ]
    assert rows[0][0].startswith("card-1-load-")
    # The mouse: the detail of the one clicked.
    browser.find_elements(By.CSS_SELECTOR, items)[2].click()
    wait_for(browser, lambda b: text(b, "order-title") == "Order 77"
             and "Paid 25.50 USD" in text(b, "order-detail"))  # fmt: skip
    chosen = browser.find_element(By.CSS_SELECTOR, items + "[aria-current='true']")
    assert chosen.get_attribute("data-order") == "77"
    detail, listed = (browser.find_element(By.ID, name).rect for name in ("order", "payments-list"))
    if width == 1280:
        # Beside the list, the focus left on the list for the arrow keys.
        assert detail["x"] >= listed["x"] + listed["width"] and detail["y"] < listed["y"] + 40
        assert focused(browser) == "77"
        ActionChains(browser).send_keys(Keys.ARROW_DOWN).perform()
        wait_for(browser, lambda b: text(b, "order-title") == f"Order {rows[2][0]}")
        assert focused(browser) == rows[2][0]
        ActionChains(browser).send_keys(Keys.HOME).perform()
        wait_for(browser, lambda b: text(b, "order-title") == "Order S-1"
                 and "Checkout session" in text(b, "order-detail"))  # fmt: skip
        # A payment made meanwhile redraws the list: the focus stays on the same payment.
        requests.post(every_api.url + "/payments/orders", json={"order_id": "late-1", "amount": 1},
                      timeout=5)  # fmt: skip
        wait_for(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, items)) == 7)
        assert focused(browser) == "S-1"
        ActionChains(browser).send_keys(Keys.ARROW_UP).perform()
        wait_for(browser, lambda b: text(b, "order-title") == "Order late-1")
    else:
        # Over the page, taking the focus; Escape gives the list back.
        assert focused(browser) == "order-title"
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
        wait_for(browser, lambda b: not b.find_element(By.ID, "order").is_displayed())
        browser.execute_script("document.querySelector(arguments[0]).focus()", items)
        ActionChains(browser).send_keys(
            Keys.ARROW_DOWN, Keys.ARROW_DOWN, Keys.ARROW_DOWN, Keys.ENTER
        ).perform()
        wait_for(browser, lambda b: text(b, "order-title") == f"Order {rows[2][0]}")
        assert focused(browser) == "order-title"
    # Find, in the header, opens each API's order by its id, by keyboard (Enter).
    search = browser.find_element(By.ID, "search")
    for row in [opened, *rows]:
        search.clear()
        search.send_keys(row[0] + Keys.ENTER)
        wait_for(browser, lambda b, shown=row[0]: text(b, "order-title") == f"Order {shown}"
                 and "Payment attempts" in text(b, "order-detail"))  # fmt: skip
    # Whole words, nothing sideways, and axe finds nothing in this theme at this width.
    assert broken_words(browser, "th, .payment-state, .payment-facts, button") == []
    assert sideways(browser) == 0
    assert axe_violations(browser) == []


@pytest.fixture
def showcase() -> Iterator[GatewayProcess]:
    """What a newcomer has after the README's tour: the default callback URL (no store on
    it yet), a few orders paid, one declined on purpose, one hosted checkout open."""
    # The next retry far off, so that the picture shows one attempt and when the next is.
    # Sent as the README's curl sends them (Host: localhost:5000), so that the copyable
    # commands in the picture show the documented address, not this test's port.
    readme = {"Host": "localhost:5000"}
    with GatewayProcess("--callback-schedule", "600") as gateway:
        rule = {"order_id": "ord_1003", "decline_code": "insufficient_funds"}
        requests.put(gateway.url + "/simulation", json={"rules": [rule]}, timeout=5,
                     headers=readme)  # fmt: skip
        for order, amount in (("ord_1001", 179.98), ("ord_1002", 35), ("ord_1003", 12.5)):
            requests.post(gateway.url + "/payments/orders", headers=readme,
                          json={"order_id": order, "amount": amount}, timeout=10)  # fmt: skip
        requests.put(gateway.url + "/simulation", json={}, timeout=5, headers=readme)
        requests.post(gateway.url + "/checkout/sessions", timeout=5, headers=readme,
                      json={"order_id": "ord_1004", "amount": 89.99, "description": "2 mugs"})  # fmt: skip
        yield gateway


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_on_clean_demo_data_with_no_accessibility_violations(
    showcase: GatewayProcess,
    make_browser: MakeBrowser,
    screenshot: Callable[[webdriver.Chrome, str], Path],
    scheme: str,
) -> None:
    browser = make_browser()
    at_width(browser, 1280)
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )
    browser.get(showcase.url + "/#order=ord_1001")
    wait_for(browser, lambda b: "Payment attempts" in text(b, "order-detail"))
    assert "Paid 179.98 USD; balance after: 49820.02 USD" in text(browser, "order-detail")
    (curl,) = [e.get_attribute("textContent") for e in
               browser.find_elements(By.CSS_SELECTOR, "#order-detail pre.curl")][:1]  # fmt: skip
    assert curl.startswith("curl -sS -X POST http://localhost:5000/payments/orders ")
    wait_for(
        browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, "#sessions-table tbody tr")) == 1
    )
    assert axe_violations(browser) == []
    shot = screenshot(browser, "dashboard" if scheme == "light" else "dashboard-dark")
    assert shot.stat().st_size > 10_000


def test_a_time_on_another_day_says_its_date(make_browser: MakeBrowser) -> None:
    # A clock started in 2020: "7/19/2020, 10:26:23 PM", not a bare "10:26:23 PM".
    start = "2020-07-19T22:26:23.000Z"
    with GatewayProcess("--clock-start", start, "--clock", "frozen") as gateway:
        requests.post(gateway.url + "/payments/orders", json={"order_id": "old-1", "amount": 1},
                      timeout=5)  # fmt: skip
        browser = live_at(make_browser, gateway.url + "/", 1280)
        shown = "#payments-list button.payment time"
        wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, shown))
        time = browser.find_element(By.CSS_SELECTOR, shown)
        assert time.get_attribute("title") == start
        assert "2020" in time.text and time.text != time.get_attribute("title")
