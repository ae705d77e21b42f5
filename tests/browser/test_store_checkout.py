"""The seed's flow end to end in a browser: the example store's Pay button, the gateway's
page, and back to the store with the order paid."""

from __future__ import annotations

from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.wait import WebDriverWait

from gateway_process import GatewayProcess, free_port

from .conftest import MakeBrowser

STORE_APP = Path(__file__).resolve().parents[2] / "examples" / "store_server" / "app.py"


class StoreProcess(GatewayProcess):
    """examples/store_server/app.py on a free port, paying at `gateway_url`."""

    command = (str(STORE_APP),)
    ready = "store_server listening on"


def test_pay_in_the_store_pay_on_the_gateway_page_and_come_back_to_a_paid_order(
    make_browser: MakeBrowser,
) -> None:
    # Each picks its port when made, so each can be told the other's before either starts.
    store_port = free_port()
    gateway = GatewayProcess("--callback-url", f"http://127.0.0.1:{store_port}/payments/confirm")
    store = StoreProcess("--gateway-url", gateway.url)
    store.port, store.url = store_port, f"http://127.0.0.1:{store_port}"
    store.args = ["--port", str(store_port), "--gateway-url", gateway.url]
    with store, gateway:
        browser = make_browser()
        browser.get(store.url + "/shop")
        browser.find_element(By.XPATH, "//button[normalize-space()='Pay 89.99']").click()
        WebDriverWait(browser, 10).until(ready.url_contains("/checkout/cs_"))
        assert "Mechanical keyboard" in browser.page_source
        for field, value in (("number", "4242424242424242"), ("expiry", "12/35"), ("cvc", "123")):
            browser.find_element(By.ID, field).send_keys(value)
        browser.find_element(By.XPATH, "//button[normalize-space()='Pay']").click()
        WebDriverWait(browser, 10).until(ready.url_contains("/shop/orders/"))
        assert browser.find_element(By.ID, "status").text == "paid"
