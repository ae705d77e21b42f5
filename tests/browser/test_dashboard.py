"""The dashboard in a real Chromium against the real CLI and a real store."""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait
from selenium_axe_python import Axe

from gateway_process import GatewayProcess
from payments_server.callbacks.signing import DEV_WEBHOOK_SECRET
from payments_server.testing import StoreStub

from .conftest import MakeBrowser

OTHER_SECRET = "whsec_" + "QUJD" * 8


@pytest.fixture
def live() -> Iterator[tuple[GatewayProcess, StoreStub]]:
    # Retries far apart, so a failing callback stays pending while the test looks at it.
    with (
        StoreStub() as store,
        GatewayProcess("--callback-url", store.url, "--callback-schedule", "300") as gateway,
    ):
        yield gateway, store


def dashboard(gateway: GatewayProcess, make_browser: MakeBrowser) -> webdriver.Chrome:
    """A browser on the dashboard, once it follows the event stream."""
    browser = make_browser()
    browser.get(gateway.url + "/")
    wait_for(browser, lambda b: text(b, "connection").startswith("Live"))
    return browser


def text(browser: webdriver.Chrome, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).text


def wait_for(browser: webdriver.Chrome, condition: Callable[[webdriver.Chrome], object]) -> None:
    try:
        # The live views redraw their rows on every change: a row read as it is replaced
        # is stale, and the condition is looked at again.
        WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,)).until(
            condition
        )
    except TimeoutException:
        # What the page showed, and what its scripts said, to see why.
        raise AssertionError(
            f"{browser.find_element(By.TAG_NAME, 'body').text}\n{browser.get_log('browser')}"
        ) from None


def summaries(browser: webdriver.Chrome) -> list[str]:
    return [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#activity-list .summary")]


def click(browser: webdriver.Chrome, scope: str, label: str) -> None:
    # The live views replace their rows on every change: a row found may be gone by the
    # click, so find and click again until one lands.
    button = f"{scope}//button[normalize-space()='{label}']"
    WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda b: b.find_element(By.XPATH, button).click() or True
    )


def pay(gateway: GatewayProcess, order_id: object, amount: object = 10) -> requests.Response:
    return requests.post(
        gateway.url + "/payments/orders", json={"order_id": order_id, "amount": amount}, timeout=5
    )


def test_a_payment_made_with_curl_appears_live_escaped(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    gateway, store = live
    browser = dashboard(gateway, make_browser)
    assert text(browser, "balance") == "50000.00"
    pay(gateway, "<img src=x onerror=alert(1)>", 179.98)
    wait_for(browser, lambda b: len(summaries(b)) == 3)
    assert summaries(browser)[2] == "order <img src=x onerror=alert(1)>: paid"
    assert summaries(browser)[0] == "POST /payments/orders 200"
    # Each row names its order once, as the link that opens it ("order X: paid", not
    # "order X: paid order X").
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#activity-list li.entry")]
    assert all(r.count("order <img src=x onerror=alert(1)>") == 1 for r in rows), rows
    assert browser.find_elements(By.CSS_SELECTOR, "#activity-list img") == []
    wait_for(browser, lambda b: text(b, "balance") == "49820.02")
    wait_for(browser, lambda b: "Delivered 1" in text(b, "callback-counts"))
    pay(gateway, "A-1002", 35)
    requests.put(gateway.url + "/simulation", json={"rules": [{"order_id": "A-1003",
                 "decline_code": "lost_card"}]}, timeout=5)  # fmt: skip
    pay(gateway, "A-1003", 12)
    wait_for(browser, lambda b: "order A-1003: declined" in " ".join(summaries(b)))
    # The order's whole chain, each request and callback copyable as curl.
    browser.find_element(By.XPATH, "//ol[@id='activity-list']//button[.='order A-1002']").click()
    wait_for(browser, lambda b: "Callbacks" in text(b, "order-detail"))
    curls = [e.get_attribute("textContent") for e in
             browser.find_elements(By.CSS_SELECTOR, "#order-detail pre.curl")]  # fmt: skip
    assert curls[0] == (
        f"curl -sS -X POST {gateway.url}/payments/orders -H 'Content-Type: application/json'"
        """ --data-binary '{"order_id": "A-1002", "amount": 35}'"""
    )
    assert curls[1].startswith(f"curl -sS -X POST {store.url} -H 'User-Agent: payments_server/")
    assert "paid 35" in text(browser, "order-detail")
    # Where its callback went, said without opening an attempt.
    assert f": success for order A-1002 to {store.url}, delivered" in text(browser, "order-detail")


def test_a_failing_store_shows_pending_then_delivered_after_resend(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    gateway, store = live
    said = b"{\"detail\": \"status must be either 'success' or 'failed' <b>\"}"
    store.respond_with(400, body=said)
    browser = dashboard(gateway, make_browser)
    pay(gateway, "slow-store")
    row = "//table[@id='callbacks-table']//tr[td[normalize-space()='order slow-store']]"
    wait_for(browser, lambda b: b.find_elements(By.XPATH, row + "/td[@class='state'][.='pending']"))
    # What the store answered the newest attempt, in the row, and when it was sent.
    assert browser.find_element(By.XPATH, row + "//span[@class='last-answer']").text == "HTTP 400"
    sent = browser.find_element(By.XPATH, row + "/td[2]/time")
    assert sent.get_attribute("title") == sent.get_attribute("datetime")
    assert sent.get_attribute("datetime").endswith("Z") and sent.text
    store.respond_with(200)
    click(browser, row, "Resend")
    wait_for(
        browser, lambda b: b.find_elements(By.XPATH, row + "/td[@class='state'][.='delivered']")
    )
    detail = text(browser, "callback-detail")
    assert "delivered: store answered 200" in detail and "Attempt 2" in detail
    assert len(store.received) == 2

    # Why the first attempt failed, in the store's own words (as text, not markup).
    def first_attempt_answer(b: webdriver.Chrome) -> list[str]:
        (first, _) = b.find_elements(By.CSS_SELECTOR, "#callback-detail details")
        if not first.get_attribute("open"):
            first.find_element(By.TAG_NAME, "summary").click()
        return [p.text for p in first.find_elements(By.CSS_SELECTOR, "p, pre.answer")][-3:]

    WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda b: first_attempt_answer(b)[0] == "The store answered 400:"
    )
    assert first_attempt_answer(browser)[2] == said.decode()


def test_the_simulation_banner_appears_and_disappears(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    gateway, _ = live
    browser = dashboard(gateway, make_browser)
    banner = browser.find_element(By.ID, "simulation-banner")
    assert not banner.is_displayed()
    rate = browser.find_element(By.ID, "sim-rate")
    rate.clear()
    rate.send_keys("0.5")
    click(browser, "//form[@id='simulation-form']", "Save")
    wait_for(browser, lambda b: banner.is_displayed())
    assert "decline rate 0.5 (card_declined)" in banner.text
    assert (
        requests.get(gateway.url + "/simulation", timeout=5).json()["simulation"]["decline_rate"]
        == 0.5
    )
    # Turned off elsewhere (a script), the page follows.
    requests.put(gateway.url + "/simulation", json={}, timeout=5)
    pay(gateway, "after-off")
    wait_for(browser, lambda b: not banner.is_displayed())


def test_saving_the_form_keeps_the_faults_and_pending_rate_a_script_set(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    gateway, _ = live
    browser = dashboard(gateway, make_browser)
    faults = [{"fault": "reorder", "order_id": "R-1", "delay_ms": 500}]
    requests.put(gateway.url + "/simulation", json={"callback_faults": faults,
                 "pending_rate": 0.25}, timeout=5)  # fmt: skip
    pay(gateway, "nudge")  # a change the page hears of
    banner = browser.find_element(By.ID, "simulation-banner")
    wait_for(browser, lambda b: "pending rate 0.25, 1 webhook fault;" in banner.text)
    # The open page's form now shows them, and saving another setting keeps them.
    wait_for(
        browser, lambda b: b.find_element(By.ID, "sim-pending").get_attribute("value") == "0.25"
    )
    rate = browser.find_element(By.ID, "sim-rate")
    rate.clear()
    rate.send_keys("0.1")
    click(browser, "//form[@id='simulation-form']", "Save")
    wait_for(browser, lambda b: text(b, "simulation-result") == "Saved.")
    settings = requests.get(gateway.url + "/simulation", timeout=5).json()["simulation"]
    assert (settings["decline_rate"], settings["pending_rate"], settings["callback_faults"]) == (
        0.1, 0.25, faults)  # fmt: skip
    # A bad list is refused on the page, and nothing is sent.
    box = browser.find_element(By.ID, "sim-faults")
    box.clear()
    box.send_keys("[{")
    click(browser, "//form[@id='simulation-form']", "Save")
    wait_for(browser, lambda b: text(b, "simulation-result").startswith(
        "Webhook faults must be a JSON list"))  # fmt: skip
    assert requests.get(gateway.url + "/simulation", timeout=5).json()["simulation"] == settings


def test_reset_asks_first_then_empties_the_views(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    gateway, _ = live
    pay(gateway, 1)
    browser = dashboard(gateway, make_browser)
    wait_for(browser, lambda b: len(summaries(b)) == 3)
    browser.find_element(By.ID, "reset-balance").send_keys("100")
    click(browser, "//form[@id='reset-form']", "Reset…")
    assert requests.get(gateway.url + "/balance", timeout=5).json()["balance"] == 49990.0
    click(browser, "//form[@id='reset-form']", "Yes, reset")
    wait_for(browser, lambda b: text(b, "balance") == "100.00")
    wait_for(browser, lambda b: summaries(b) == ["POST /reset 200"])
    assert browser.find_elements(By.CSS_SELECTOR, "#callbacks-table tbody tr") == []
    assert text(browser, "reset-result") == "Account reset to balance 100"


def test_the_signature_check_says_yes_for_the_right_secret_and_no_for_a_wrong_one(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    gateway, store = live
    pay(gateway, "sig-1")
    delivery = store.wait_for(1)[0].headers["webhook-id"]
    browser = dashboard(gateway, make_browser)
    for secret, answer in ((DEV_WEBHOOK_SECRET, "Yes: "), (OTHER_SECRET, "No: ")):
        for field, value in (("verify-id", delivery), ("verify-value", secret)):
            browser.find_element(By.ID, field).clear()
            browser.find_element(By.ID, field).send_keys(value)
        click(browser, "//form[@id='verify-form']", "Check")
        wait_for(browser, lambda b, answer=answer: text(b, "verify-result").startswith(answer))
    assert f"Signed content: {delivery}." in text(browser, "verify-signed")


@pytest.fixture
def one_stream() -> Iterator[GatewayProcess]:
    """A gateway on 4 threads: one stream at most, so who holds it shows from outside (and
    logging at debug, where a stream's end is a line)."""
    with (
        StoreStub() as store,
        GatewayProcess(
            "--callback-url", store.url, "--threads", "4", "--log-level", "debug"
        ) as gateway,
    ):
        yield gateway


def test_with_the_stream_refused_the_page_polls(
    one_stream: GatewayProcess, make_browser: MakeBrowser
) -> None:
    gateway = one_stream  # this test holds its one stream
    held = socket.create_connection(("127.0.0.1", gateway.port), timeout=5)
    held.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert held.recv(64).startswith(b"HTTP/1.1 200")
    browser = make_browser()
    browser.get(gateway.url + "/dashboard")
    wait_for(browser, lambda b: text(b, "connection").startswith("Polling every 2 s"))
    pay(gateway, "polled")
    wait_for(browser, lambda b: "order polled: paid" in summaries(b))
    held.close()


def test_a_hidden_tab_gives_its_stream_back_and_catches_up_when_shown(
    one_stream: GatewayProcess, make_browser: MakeBrowser
) -> None:
    gateway = one_stream
    browser = dashboard(gateway, make_browser)
    page = browser.current_window_handle
    assert requests.get(gateway.url + "/events", timeout=5).status_code == 503  # held
    browser.switch_to.new_window("tab")  # the dashboard's tab is hidden now
    ended = 'stream "GET /events" 200 open for'  # the access log's line for an ended stream
    deadline = time.monotonic() + 10
    for attempt in itertools.count():
        # Notices make the server write, and so see that the stream was closed.
        pay(gateway, f"while-hidden-{attempt}")
        try:
            gateway.wait_for_line(ended, timeout=0.3)
            break
        except AssertionError:
            assert time.monotonic() < deadline, "the hidden tab kept its stream"
    browser.switch_to.window(page)
    wait_for(browser, lambda b: text(b, "connection").startswith("Live"))
    wait_for(browser, lambda b: "order while-hidden-0: paid" in summaries(b))


def test_no_accessibility_violations(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    gateway, _ = live
    pay(gateway, "a11y")
    requests.post(
        gateway.url + "/checkout/sessions", json={"order_id": "cs", "amount": 1}, timeout=5
    )
    browser = dashboard(gateway, make_browser)
    wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#sessions-table tbody tr"))
    click(browser, "//table[@id='callbacks-table']", "Details")
    wait_for(browser, lambda b: b.find_element(By.ID, "callback-detail").is_displayed())
    axe = Axe(browser)
    axe.inject()
    violations = axe.run()["violations"]
    assert violations == [], axe.report(violations)


def test_pause_holds_the_rows_still_and_counts_what_is_new_and_filters_narrow_them(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    gateway, _ = live
    pay(gateway, "F-1")
    browser = dashboard(gateway, make_browser)
    wait_for(browser, lambda b: len(summaries(b)) == 3)
    click(browser, "//form[@id='activity-filters']", "Pause")
    pay(gateway, "F-2")
    wait_for(browser, lambda b: text(b, "new-count") == "3 new")
    assert len(summaries(browser)) == 3  # nothing moved under the cursor
    click(browser, "//form[@id='activity-filters']", "Resume")
    wait_for(browser, lambda b: len(summaries(b)) == 6)
    assert not browser.find_element(By.ID, "new-count").is_displayed()
    browser.find_element(By.ID, "filter-order").send_keys("F-2")
    assert len(summaries(browser)) == 3
    browser.find_element(By.ID, "filter-outcome").send_keys("paid")
    assert summaries(browser) == ["order F-2: paid"]


def test_a_pending_payment_can_be_decided_from_the_order_detail(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    gateway, store = live
    rule = {"order_id": "P-9", "outcome": "pending", "decide_after_ms": 600000}
    requests.put(gateway.url + "/simulation", json={"rules": [rule]}, timeout=5)
    assert pay(gateway, "P-9").status_code == 202
    browser = dashboard(gateway, make_browser)
    wait_for(browser, lambda b: "order P-9: pending" in " ".join(summaries(b)))
    browser.find_element(By.XPATH, "//ol[@id='activity-list']//button[.='order P-9']").click()
    wait_for(browser, lambda b: "The payment is pending" in text(b, "order-detail"))
    click(browser, "//div[@id='order-detail']", "Decide: paid")
    wait_for(browser, lambda b: "pending 10" in text(b, "order-detail")
             and "paid 10" in text(b, "order-detail"))  # fmt: skip
    assert [c.json for c in store.wait_for(1)] == [{"order_id": "P-9", "status": "success"}]
    wait_for(browser, lambda b: text(b, "balance") == "49990.00")


def test_the_pending_panel_lists_what_waits_and_decides_it(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    gateway, store = live
    browser = dashboard(gateway, make_browser)
    wait_for(browser, lambda b: b.find_element(By.ID, "pending-empty").is_displayed())
    rules = [{"order_id": order, "outcome": "pending", "decide_after_ms": 600000}
             for order in ("W-1", "<b>W-2</b>")]  # fmt: skip
    requests.put(gateway.url + "/simulation", json={"rules": rules}, timeout=5)
    assert pay(gateway, "W-1", 4).status_code == 202
    assert pay(gateway, "<b>W-2</b>", 6).status_code == 202

    def rows(b: webdriver.Chrome) -> list[str]:
        # Read at once: the rows are replaced on every change.
        script = (
            "return [...document.querySelectorAll('#pending-table tbody tr')].map(r => r.innerText)"
        )
        return b.execute_script(script)  # type: ignore[no-any-return]

    # Live, newest first, escaped: the markup in the order id is shown as text.
    wait_for(browser, lambda b: [r.split()[1] for r in rows(b)] == ["<b>W-2</b>", "W-1"])
    assert not browser.find_element(By.ID, "pending-empty").is_displayed()
    assert browser.find_elements(By.CSS_SELECTOR, "#pending-table b") == []
    click(browser, "//table[@id='pending-table']//tr[td[1]='order W-1']", "Decide: declined")
    wait_for(browser, lambda b: [r.split()[1] for r in rows(b)] == ["<b>W-2</b>"])
    click(browser, "//table[@id='pending-table']//tr[td[1]='order <b>W-2</b>']", "Decide: paid")
    wait_for(browser, lambda b: b.find_element(By.ID, "pending-empty").is_displayed())
    assert [c.json for c in store.wait_for(2)] == [
        {"order_id": "W-1", "status": "failed"}, {"order_id": "<b>W-2</b>", "status": "success"}]  # fmt: skip
    wait_for(browser, lambda b: text(b, "balance") == "49994.00")


def test_a_callback_faulted_on_purpose_carries_a_badge(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    gateway, store = live
    faults = [{"fault": "duplicate", "order_id": "D-1"}]
    requests.put(gateway.url + "/simulation", json={"callback_faults": faults}, timeout=5)
    pay(gateway, "D-1")
    pay(gateway, "plain")
    assert len(store.wait_for(3)) == 3
    browser = dashboard(gateway, make_browser)
    script = ("return [...document.querySelectorAll('#callbacks-table tbody tr')]"
              ".map(r => [r.cells[0].innerText, [...r.querySelectorAll('.fault')].map(b => b.innerText)])")  # fmt: skip
    wait_for(browser, lambda b: b.execute_script(script) == [
        ["order plain", []], ["order D-1", ["duplicate"]]])  # fmt: skip
    click(browser, "//table[@id='callbacks-table']//tr[td[1]='order D-1']", "Details")
    wait_for(browser, lambda b: [s.text for s in b.find_elements(
        By.CSS_SELECTOR, "#callback-detail summary .fault")] == ["duplicate", "duplicate"])  # fmt: skip


def test_the_order_drawer_shows_the_api_faults_its_requests_met(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    gateway, store = live
    faults = [{"route": "POST /payments/orders", "fault": "lost_answer", "order_id": "L-1"},
              {"route": "POST /payments/orders", "fault": "status", "status": 503,
               "order_id": "S-1"}]  # fmt: skip
    requests.put(gateway.url + "/simulation", json={"api_faults": faults}, timeout=5)
    assert pay(gateway, "L-1").status_code == 502
    assert pay(gateway, "S-1").status_code == 503
    browser = dashboard(gateway, make_browser)
    for order_id, said in (
        ("L-1", "POST /payments/orders: answer lost after it was carried out (502 answered)"),
        ("S-1", "POST /payments/orders: answered 503 on purpose"),
    ):
        wait_for(browser, lambda b, o=order_id: b.find_elements(
            By.XPATH, f"//ol[@id='activity-list']//button[.='order {o}']"))  # fmt: skip
        click_order = f"//ol[@id='activity-list']//button[.='order {order_id}']"
        browser.find_element(By.XPATH, click_order).click()
        wait_for(browser, lambda b, o=order_id: text(b, "order-title") == f"Order {o}"
                 and "Callbacks" in text(b, "order-detail"))  # fmt: skip
        marks = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#order-detail .api-fault")]
        assert len(marks) == 1, marks
        assert marks[0].endswith(f" on purpose {said}"), marks
        browser.find_element(By.ID, "order-close").click()
        wait_for(browser, lambda b: not b.find_element(By.ID, "order").is_displayed())
    # The lost answer's payment went through and its store was told; the 503's did not.
    assert [c.json for c in store.wait_for(1)] == [{"order_id": "L-1", "status": "success"}]


def test_the_search_finds_an_order_of_each_api_a_session_a_callback_and_a_card(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    gateway, store = live
    pay(gateway, "G-1")
    ticketing = "9c5b94b1-35ad-49bb-b118-8e8fc24abf80"
    requests.post(gateway.url + "/ticketing/payments", timeout=5, json={
        "orderId": ticketing, "customerId": "6b29fc40-ca47-1067-b31d-00dd010662da",
        "reservationId": None, "amount": 12.0, "currency": "USD",
        "paymentMethod": "credit_card"})  # fmt: skip
    psp = requests.post(gateway.url + "/psp/transactions", headers={"x-customer-id": "1"},
                        timeout=5, json={
        "description": "Lightsaber", "amount": "2500", "payment_method": "credit_card",
        "card_number": "4111111111111111", "card_holder_name": "Luke Skywalker",
        "card_expiration_date": "10/35", "card_verification_code": "123"}).json()["id"]  # fmt: skip
    created = requests.post(gateway.url + "/article/create-session", timeout=5, json={
        "amount": 25.5, "currency": "USD", "callback_url": store.url, "transaction_id": 77,
    }).json()  # fmt: skip
    session_id = created["payment_url"].rsplit("/", 1)[1]
    requests.post(gateway.url + f"/checkout/sessions/{session_id}/complete",
                  json={"outcome": "paid"}, timeout=5)  # fmt: skip
    callback_id = requests.get(gateway.url + "/callbacks?order_id=G-1",
                               timeout=5).json()["callbacks"][0]["id"]  # fmt: skip
    for amount in ("10.00", "5.00"):  # a prepaid card: found by its id, its newest load
        requests.post(gateway.url + "/cardloader/cards/1/load/",
                      json={"nonce": "fake-valid-nonce", "amount": amount}, timeout=5)  # fmt: skip
    newest_load = requests.get(gateway.url + "/payments/orders?limit=1",
                               timeout=5).json()["orders"][0]["order_id"]  # fmt: skip
    assert newest_load.startswith("card-1-load-")
    browser = dashboard(gateway, make_browser)
    search = browser.find_element(By.ID, "search")
    for term, title in (("G-1", "Order G-1"), (ticketing, f"Order {ticketing}"),
                        (psp, f"Order {psp}"), ("77", "Order 77"),
                        (session_id, "Order 77"), (callback_id, "Order G-1"),
                        ("card 1", f"Order {newest_load}"), ("1", f"Order {newest_load}")):  # fmt: skip
        search.clear()
        search.send_keys(term + "\n")  # the keyboard: Enter submits
        wait_for(browser, lambda b, t=title: text(b, "order-title") == t
                 and "Payment attempts" in text(b, "order-detail"))  # fmt: skip
        browser.find_element(By.ID, "order-close").click()
    search.clear()
    search.send_keys("no-such-order\n")
    wait_for(browser, lambda b: text(b, "search-result") == "Nothing found for no-such-order")
    assert not browser.find_element(By.ID, "order").is_displayed()


def test_a_frozen_clock_shows_in_a_banner_whose_advance_runs_what_falls_due(
    live: tuple[GatewayProcess, StoreStub],
    make_browser: MakeBrowser,
    screenshot: Callable[[webdriver.Chrome, str], Path],
) -> None:
    gateway, store = live
    browser = dashboard(gateway, make_browser)
    assert not browser.find_element(By.ID, "clock-banner").is_displayed()
    requests.put(gateway.url + "/clock", json={"frozen": True}, timeout=5)
    session = requests.post(
        gateway.url + "/checkout/sessions",
        json={"order_id": "clock-1", "amount": 3, "expires_in": 60},
        timeout=5,
    ).json()["session"]
    wait_for(browser, lambda b: b.find_element(By.ID, "clock-banner").is_displayed())
    wait_for(browser, lambda b: text(b, "clock-state") == "frozen")
    wait_for(browser, lambda b: session["id"] in text(b, "clock-next"))
    # In words and local time, the UTC original on hover: not "session_expiry ... Z".
    assert text(browser, "clock-next").startswith("next: session expiry ")
    assert "Z" not in text(browser, "clock-now") + text(browser, "clock-next")
    assert browser.find_element(By.ID, "clock-now").get_attribute("title").endswith("Z")
    field = browser.find_element(By.ID, "clock-seconds")
    field.clear()
    field.send_keys("60")
    screenshot(browser, "dashboard-clock")
    click(browser, "//form[@id='clock-form']", "Advance")
    wait_for(browser, lambda b: text(b, "clock-result") == "ran 1 job")
    wait_for(browser, lambda b: text(b, "clock-next") == "nothing scheduled")
    assert [c.json for c in store.received] == [{"order_id": "clock-1", "status": "failed"}]
    state = requests.get(f"{gateway.url}/checkout/sessions/{session['id']}", timeout=5).json()
    assert state["session"]["state"] == "expired"
    # 60 s ahead of real time: back to real time is refused, saying why; nothing moves.
    click(browser, "//div[@id='clock-banner']", "Back to real time")
    wait_for(browser, lambda b: "ahead of real time and never goes back" in text(b, "clock-result"))
    assert requests.get(gateway.url + "/clock", timeout=5).json()["frozen"] is True


def test_back_to_real_time_from_the_banner_runs_what_fell_due_and_hides_the_banner(
    make_browser: MakeBrowser,
) -> None:
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    with (
        StoreStub() as store,
        GatewayProcess(
            "--callback-url", store.url, "--clock", "frozen", "--clock-start", an_hour_ago
        ) as gateway,  # fmt: skip
    ):
        session = requests.post(
            gateway.url + "/checkout/sessions",
            json={"order_id": "real-1", "amount": 3, "expires_in": 60},
            timeout=5,
        ).json()["session"]
        browser = dashboard(gateway, make_browser)
        wait_for(browser, lambda b: session["id"] in text(b, "clock-next"))
        # An hour behind: on real time again, the session's expiry (due 59 minutes ago)
        # runs on the way, and the banner goes.
        click(browser, "//div[@id='clock-banner']", "Back to real time")
        wait_for(browser, lambda b: not b.find_element(By.ID, "clock-banner").is_displayed())
        assert [c.json for c in store.received] == [{"order_id": "real-1", "status": "failed"}]
        clock = requests.get(gateway.url + "/clock", timeout=5).json()
        assert (clock["real_time"], clock["frozen"], clock["scheduled"]) == (True, False, [])


def test_reveal_asks_for_the_secret_which_the_page_does_not_carry(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    gateway, _ = live
    browser = dashboard(gateway, make_browser)
    assert DEV_WEBHOOK_SECRET not in browser.page_source
    assert text(browser, "secret") == "whsec_••••••••"
    click(browser, "//dd", "Reveal")
    wait_for(browser, lambda b: text(b, "secret") == DEV_WEBHOOK_SECRET)
    click(browser, "//dd", "Hide")
    wait_for(browser, lambda b: text(b, "secret") == "whsec_••••••••")


def test_a_card_load_and_a_psp_transaction_show_under_their_api_without_the_card_number(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    gateway, _ = live
    browser = dashboard(gateway, make_browser)
    requests.post(gateway.url + "/cardloader/cards/1/load/",
                  json={"nonce": "fake-valid-nonce", "amount": "10.00"}, timeout=5)  # fmt: skip
    psp = {"description": "<b>Lightsaber</b>", "amount": 2500, "payment_method": "debit_card",
           "card_number": "4000056655665556", "card_holder_name": "Luke",
           "card_expiration_date": "12/99", "card_verification_code": "987"}  # fmt: skip
    requests.post(gateway.url + "/psp/transactions", json=psp,
                  headers={"x-customer-id": "m-1"}, timeout=5)  # fmt: skip
    wait_for(browser, lambda b: {"POST /cardloader/cards/1/load/ 200",
                                 "POST /psp/transactions 201"} <= set(summaries(b)))  # fmt: skip
    badges = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#activity-list .badge.api")]
    assert badges == ["psp", "cardloader"]
    # What the rows hold, folded request bodies included (read at once: rows are redrawn live).
    shown = browser.execute_script("return document.getElementById('activity-list').textContent")
    assert "****5556" in shown and "<b>Lightsaber</b>" in shown  # escaped, as text
    assert "4000056655665556" not in browser.page_source and '"987"' not in browser.page_source


def test_the_store_check_button_grades_the_callback_url_and_shows_the_fixes(
    make_browser: MakeBrowser,
) -> None:
    # A store that takes anything, unsigned or stale: it fails the signature checks.
    with StoreStub() as store, GatewayProcess("--callback-url", store.url) as gateway:
        browser = dashboard(gateway, make_browser)
        browser.find_element(By.ID, "store-check").click()
        wait_for(browser, lambda b: "The store failed" in text(b, "store-check-report"))
        summary = browser.find_element(By.CSS_SELECTOR, "#store-check-report .result").text
        marks = {e.text.split(" ", 1)[1]: e.text.split(" ", 1)[0] for e in
                 browser.find_elements(By.CSS_SELECTOR, "#store-check-report .check strong")}  # fmt: skip
    # How many ran, failed and were skipped, and how to run the rest, in words.
    assert summary.startswith("The store failed 4 of the 5 checks that ran. 8 more need an order")
    assert "--new-order" not in summary and "check-store" in summary
    assert marks["bad-signature-is-refused"] == "FAIL"
    assert marks["missing-signature-is-refused"] == "FAIL"
    assert marks["signed-success-is-accepted"] == "SKIP"
    assert len(marks) == 13


def test_the_namespace_picker_opens_a_namespaces_dashboard_which_shows_only_its_own(
    live: tuple[GatewayProcess, StoreStub], make_browser: MakeBrowser
) -> None:
    gateway, _ = live
    requests.post(gateway.url + "/ns/team-a/payments/orders",
                  json={"order_id": "a-1", "amount": 5}, timeout=5)  # fmt: skip
    browser = dashboard(gateway, make_browser)
    names = browser.find_elements(By.CSS_SELECTOR, "#namespace-names option")
    assert [o.get_attribute("value") for o in names] == ["default", "team-a"]
    picker = browser.find_element(By.ID, "namespace-picker")
    assert picker.get_attribute("value") == "default"
    picker.clear()
    picker.send_keys("team-a")
    browser.find_element(By.XPATH, "//form[@id='namespace-form']//button").click()
    wait_for(browser, lambda b: b.current_url == gateway.url + "/ns/team-a/dashboard")
    wait_for(browser, lambda b: text(b, "connection").startswith("Live"))
    wait_for(browser, lambda b: text(b, "balance") == "49995.00")
    pay(gateway, "in-default", 1)
    requests.post(gateway.url + "/ns/team-a/payments/orders",
                  json={"order_id": "a-2", "amount": 7}, timeout=5)  # fmt: skip
    wait_for(browser, lambda b: text(b, "balance") == "49988.00")
    shown = " ".join(summaries(browser))
    assert "order a-2: paid" in shown and "in-default" not in shown


def test_a_short_run_logs_a_line_per_request_a_user_made_plus_the_callbacks(
    make_browser: MakeBrowser,
) -> None:
    # The dashboard open and live while one payment of each API is made: its own fetches,
    # static files and event stream stay at DEBUG; each request a person or a client made
    # is one INFO line, and each callback one more.
    with StoreStub() as store, GatewayProcess("--callback-url", store.url) as gateway:
        browser = dashboard(gateway, make_browser)
        base = gateway.url
        pay(gateway, "G-1")
        requests.post(base + "/ticketing/payments", timeout=5, json={
            "orderId": "9c5b94b1-35ad-49bb-b118-8e8fc24abf80", "customerId": "c-1",
            "reservationId": None, "amount": 12.0, "currency": "USD",
            "paymentMethod": "credit_card"})  # fmt: skip
        requests.post(base + "/psp/transactions", headers={"x-customer-id": "1"}, timeout=5,
                      json={"description": "Lightsaber", "amount": "2500",
                            "payment_method": "credit_card",
                            "card_number": "4111111111111111", "card_holder_name": "Luke",
                            "card_expiration_date": "10/35",
                            "card_verification_code": "123"})  # fmt: skip
        created = requests.post(base + "/article/create-session", timeout=5, json={
            "amount": 25.5, "currency": "USD", "callback_url": store.url, "transaction_id": 7,
        }).json()  # fmt: skip
        session_id = created["payment_url"].rsplit("/", 1)[1]
        requests.post(base + f"/checkout/sessions/{session_id}/complete",
                      json={"outcome": "paid"}, timeout=5)  # fmt: skip
        store.wait_for(2)  # the gateway's callback and the article's
        wait_for(browser, lambda b: "order 7: paid" in " ".join(summaries(b)))
        browser.refresh()  # a person reloading the page: one more line
        wait_for(browser, lambda b: text(b, "connection").startswith("Live"))
        browser.quit()
        assert gateway.stop() == 0
    access = [
        line.split(" INFO ", 1)[1]
        for line in gateway.lines
        if " INFO " in line and '"' in line and "callback" not in line
    ]
    asked = [entry.split('"')[1] for entry in access]
    assert asked == [
        "GET /", "POST /payments/orders", "POST /ticketing/payments", "POST /psp/transactions",
        "POST /article/create-session", f"POST /checkout/sessions/{session_id}/complete",
        "GET /",
    ]  # fmt: skip
    callbacks = [line for line in gateway.lines if " INFO callback " in line]
    assert len(callbacks) == 2, callbacks
