"""The seed's checkout script, unchanged, against the example store and the real gateway."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
import responses

from gateway_process import GatewayProcess
from payments_server.callbacks.signing import DEV_WEBHOOK_SECRET, Signer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CHECKOUT = EXAMPLES / "checkout.sh"


class StoreProcess(GatewayProcess):
    """examples/store_server/app.py on a free port."""

    command = (str(EXAMPLES / "store_server" / "app.py"),)
    ready = "store_server listening on"


def run_checkout(gateway: GatewayProcess, store: StoreProcess) -> list[str]:
    assert shutil.which("curl") and shutil.which("jq"), "checkout.sh needs curl and jq on PATH"
    result = subprocess.run(
        ["bash", str(CHECKOUT)],
        env={**os.environ, "PAYMENTS_URL": gateway.url, "STORE_URL": store.url},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stderr == ""
    return result.stdout.splitlines()


def payment_response(lines: list[str]) -> dict:
    start = lines.index("Payment response:") + 1
    end = next(i for i, line in enumerate(lines) if line.startswith(("✓", "✗")))
    return json.loads("\n".join(lines[start:end]))


def test_the_checkout_script_pays_the_order_and_the_store_marks_it_paid() -> None:
    with (
        StoreProcess() as store,
        GatewayProcess("--callback-url", store.url + "/payments/confirm") as gateway,
    ):
        lines = run_checkout(gateway, store)
        order_id = re.fullmatch(
            r"Processing payment for order: (ord_[0-9a-f]{12}), amount: 179.98", lines[0]
        ).group(1)
        order = requests.get(f"{store.url}/orders/{order_id}", timeout=5).json()
    payment = payment_response(lines)
    assert payment["status"] == "success"
    assert payment["message"] == f"Payment of 179.98 for order {order_id} completed"
    assert payment["shop_notified"] is True
    assert lines[-2:] == ["✓ Store was notified, checking order status...", '"paid"']
    assert order == {"order_id": order_id, "total": 179.98, "status": "paid"}


def test_with_the_account_emptied_the_script_takes_the_failure_branch() -> None:
    with (
        StoreProcess() as store,
        GatewayProcess("--callback-url", store.url + "/payments/confirm") as gateway,
    ):
        requests.post(gateway.url + "/reset", json={"balance": 0}, timeout=5)
        lines = run_checkout(gateway, store)
    payment = payment_response(lines)
    assert payment == {
        "status": "failed",
        "message": "Insufficient funds",
        "balance": 0.0,
        "requested": 179.98,
    }
    assert lines[-3:] == [
        "✗ Payment failed: Insufficient funds",
        "Order status at the store:",
        '"failed"',
    ]


def test_the_store_refuses_a_forged_callback_and_acts_once_per_event() -> None:
    with (
        StoreProcess() as store,
        GatewayProcess("--callback-url", store.url + "/payments/confirm") as gateway,
    ):
        cart = requests.post(store.url + "/carts", timeout=5).json()["cart_id"]
        requests.post(f"{store.url}/carts/{cart}/items", json={"product_id": 2}, timeout=5)
        order = requests.post(f"{store.url}/carts/{cart}/checkout", timeout=5).json()
        forged = requests.post(
            store.url + "/payments/confirm",
            json={"order_id": order["order_id"], "status": "success"},
            timeout=5,
        )
        assert forged.status_code == 400
        assert requests.get(f"{store.url}/orders/{order['order_id']}").json()["status"] == "pending"
        paid = requests.post(
            gateway.url + "/payments/orders",
            json={"order_id": order["order_id"], "amount": order["total"]},
            timeout=10,
        )
        (callback,) = requests.get(gateway.url + "/callbacks", timeout=5).json()["callbacks"]
        # A validly signed event with an id already handled changes nothing.
        body = json.dumps({"order_id": order["order_id"], "status": "failed"}).encode()
        headers = Signer(DEV_WEBHOOK_SECRET).headers(callback["id"], int(time.time()), body)
        repeat = requests.post(store.url + "/payments/confirm", data=body, headers=headers)
        status = requests.get(f"{store.url}/orders/{order['order_id']}", timeout=5).json()
    assert order["total"] == 9.99
    assert paid.json()["shop_notified"] is True
    assert (repeat.status_code, repeat.json()) == (200, {"result": "already handled"})
    assert status["status"] == "paid"


def _store_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("store_app", EXAMPLES / "store_server" / "app.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@responses.activate
def test_the_store_opens_a_checkout_session_and_sends_the_customer_to_its_page() -> None:
    # The gateway is stubbed here; tests/browser/test_store_checkout.py runs the real one.
    page = "http://gateway.test/checkout/cs_" + "0" * 32
    responses.post(
        "http://gateway.test/checkout/sessions",
        status=201,
        json={"status": "success", "session": {"id": "cs_" + "0" * 32, "url": page}},
    )
    store = _store_module().create_store(DEV_WEBHOOK_SECRET, "http://gateway.test").test_client()
    bought = store.post("/shop/buy", data={"product_id": "1"})
    assert (bought.status_code, bought.headers["Location"]) == (303, page)
    (call,) = responses.calls
    sent = json.loads(call.request.body)
    order_id = sent["order_id"]
    assert '"amount": 89.99,' in call.request.body  # the exact price, not a float
    assert sent["success_url"] == "http://localhost/shop/orders/{ORDER_ID}"
    assert sent["cancel_url"] == "http://localhost/shop"
    assert call.request.headers["Idempotency-Key"] == order_id
    assert "pending" in store.get(f"/shop/orders/{order_id}").get_data(as_text=True)


@responses.activate
def test_a_refusing_gateway_is_a_502_from_the_store() -> None:
    responses.post(
        "http://gateway.test/checkout/sessions",
        status=409,
        json={"status": "failed", "message": "Order x has already been paid"},
    )
    store = _store_module().create_store(DEV_WEBHOOK_SECRET, "http://gateway.test").test_client()
    refused = store.post("/shop/buy", data={"product_id": "2"})
    assert refused.status_code == 502
    assert refused.get_json()["gateway"]["message"] == "Order x has already been paid"


@responses.activate
def test_a_gateway_that_is_down_is_a_page_that_says_so_not_a_traceback() -> None:
    responses.post(
        "http://gateway.test/checkout/sessions",
        body=requests.ConnectionError("Connection refused"),
    )
    store = _store_module().create_store(DEV_WEBHOOK_SECRET, "http://gateway.test").test_client()
    down = store.post("/shop/buy", data={"product_id": "2"})
    assert (down.status_code, down.mimetype) == (503, "text/html")
    page = down.get_data(as_text=True)
    assert "could not reach the payments gateway at <code>http://gateway.test</code>" in page
    assert "--gateway-url" in page and "Traceback" not in page


def test_new_order_sh_takes_the_stores_url_and_says_when_it_cannot_reach_it() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}"
    done = subprocess.run(["bash", str(EXAMPLES / "new_order.sh"), url],
                          check=False, capture_output=True, text=True, timeout=30)  # fmt: skip
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"new_order.sh: the store at {url} did not answer:")


def test_signed_with_another_secret_the_example_store_refuses_even_what_is_right() -> None:
    # Signed with the right secret it passes all 13 checks: check-store.md's command, run as
    # typed (test_commands_as_typed.py).
    with StoreProcess() as store:
        new_order = f"STORE_URL={store.url} bash {EXAMPLES / 'new_order.sh'}"
        other = "whsec_" + "QUJD" * 11
        command = [sys.executable, "-m", "payments_server", "check-store",
                   store.url + "/payments/confirm", "--new-order", new_order,
                   "--order-status", store.url + "/orders/{order_id}", "--secret", other,
                   "--json"]  # fmt: skip
        wrong = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        report = json.loads(wrong.stdout)
        assert (wrong.returncode, report["passed"]) == (1, False)
        failed = {check["name"] for check in report["checks"] if check["passed"] is False}
        assert "signed-success-is-accepted" in failed


def test_check_store_refuses_a_store_on_another_machine_unless_allowed() -> None:
    remote = subprocess.run(
        [sys.executable, "-m", "payments_server", "check-store", "http://shop.example/confirm"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert remote.returncode == 2
    assert remote.stderr.strip() == (
        "payments-server check-store: error: shop.example is not on this machine: give"
        " --allow-remote to check it"
    )


def test_a_store_whose_port_is_taken_says_so_in_one_line() -> None:
    with StoreProcess() as store:
        taken = subprocess.run(
            [sys.executable, str(EXAMPLES / "store_server" / "app.py"), "--port", str(store.port)],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    assert taken.returncode == 2
    assert taken.stderr.splitlines() == [
        f"store_server: cannot listen on 127.0.0.1:{store.port}: Address already in use"
        " (is a store running there already? choose another with --port)"
    ]
