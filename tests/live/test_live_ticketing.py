"""The ticketing service's client, over real HTTP: what HttpClient.PostAsJsonAsync sends
(System.Text.Json's web defaults) and what its ReadFromJsonAsync reads back."""

from __future__ import annotations

import json

import pytest
import requests

from gateway_process import GatewayProcess

ORDER = "9c5b94b1-35ad-49bb-b118-8e8fc24abf80"
CUSTOMER = "6b29fc40-ca47-1067-b31d-00dd010662da"
# PaymentRequest(OrderId, CustomerId, ReservationId, Amount, Currency, PaymentMethod).
REQUEST = {"orderId": ORDER, "customerId": CUSTOMER, "reservationId": None,
           "amount": 120.0, "currency": "USD", "paymentMethod": "credit_card"}  # fmt: skip
# HttpClient's JsonContent: UTF-8 bytes and this exact media type; no Accept header.
HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def post(base: str, body: dict) -> requests.Response:  # type: ignore[type-arg]
    return requests.post(
        base + "/payments", data=json.dumps(body).encode(), headers=HEADERS, timeout=10
    )


@pytest.mark.parametrize("namespace", ["", "/ns/ticketing-ci"], ids=["default", "namespace"])
def test_the_services_client_pays_reads_back_and_meets_each_answer(namespace: str) -> None:
    with GatewayProcess() as gateway:
        root = gateway.url
        gateway.url += namespace  # the service's base URL, and every call below
        base = gateway.url + "/ticketing"
        paid = post(base, REQUEST)
        assert (paid.status_code, paid.headers["Content-Type"]) == (
            200, "application/json; charset=utf-8")  # fmt: skip
        payment = paid.json()["payment"]
        assert (paid.json()["success"], payment["status"], payment["amount"]) == (
            True, "succeeded", 120.0)  # fmt: skip
        assert requests.get(f"{base}/payments/{payment['id']}", timeout=5).json() == payment
        # The controller's BadRequest("...") reaches HttpClient as text.
        refused = post(base, {**REQUEST, "customerId": "00000000-0000-0000-0000-000000000000"})
        assert (refused.status_code, refused.headers["Content-Type"], refused.text) == (
            400, "text/plain; charset=utf-8", "Valid CustomerId is required")  # fmt: skip
        # The handler's step 0: an order paid already answers its payment again.
        again = post(base, REQUEST)
        assert (again.status_code, again.json()["payment"]) == (200, payment)
        rule = {"rules": [{"next": 1, "decline_code": "unauthorized"}]}
        requests.put(gateway.url + "/simulation", json=rule, timeout=5)
        other = {**REQUEST, "orderId": "9c5b94b1-35ad-49bb-b118-8e8fc24abf81"}
        unauthorized = post(base, other)
        assert (unauthorized.status_code, unauthorized.json()) == (
            401, {"success": False, "payment": None,
                  "errorMessage": "Unauthorized (simulation rule: unauthorized)"})  # fmt: skip
        balance = requests.get(gateway.url + "/balance", timeout=5).json()["balance"]
        order = requests.get(f"{gateway.url}/payments/orders/{ORDER}", timeout=5).json()
        elsewhere = requests.get(f"{root}/payments/orders/{ORDER}", timeout=5).status_code
    assert elsewhere == (404 if namespace else 200)
    # The service has no balance: the card pays and the one account is as it was, while
    # the order is paid in the one flow.
    assert balance == 50000.0 and order["state"] == "paid"
