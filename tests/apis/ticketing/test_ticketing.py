"""The ticketing platform's payment service (seed 001) at /ticketing: POST /payments as its
ASP.NET Core controller answers, for requests shaped as its C# DTOs serialize."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from flask.testing import FlaskClient

from helpers import MakeClient

ORDER = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
CUSTOMER = "6b29fc40-ca47-1067-b31d-00dd010662da"
EMPTY = "00000000-0000-0000-0000-000000000000"
# HttpClient.PostAsJsonAsync(new PaymentRequest(...)): System.Text.Json's web defaults.
CAMEL = {"orderId": ORDER, "customerId": CUSTOMER, "reservationId": None, "amount": 25.5,
         "currency": "USD", "paymentMethod": "credit_card"}  # fmt: skip
JSON = "application/json; charset=utf-8"


def post(client: FlaskClient, body: object, **headers: str) -> tuple[int, str, object]:
    answer = client.post(
        "/ticketing/payments",
        data=body if isinstance(body, str | bytes) else json.dumps(body),
        headers={"Content-Type": JSON, **headers},
    )
    text = answer.get_data(as_text=True)
    parsed = json.loads(text) if answer.mimetype.endswith("json") else text
    return answer.status_code, answer.headers["Content-Type"], parsed


def balance(client: FlaskClient) -> Decimal:
    return Decimal(str(client.get("/balance").get_json()["balance"]))


def test_a_payment_succeeds_with_the_controllers_camel_case_answer(client: FlaskClient) -> None:
    status, content_type, body = post(client, CAMEL)
    assert (status, content_type) == (200, JSON)
    assert isinstance(body, dict)
    payment = body["payment"]
    assert body == {"success": True, "payment": payment, "errorMessage": None}
    assert payment == {
        "id": payment["id"], "orderId": ORDER, "customerId": CUSTOMER, "reservationId": None,
        "amount": 25.5, "currency": "USD", "paymentMethod": "credit_card",
        "status": "succeeded", "errorCode": None, "errorMessage": None, "failureReason": None,
        "createdAt": payment["createdAt"], "processedAt": payment["processedAt"],
        "isSimulated": True, "simulatedResponse": payment["simulatedResponse"],
    }  # fmt: skip
    # As the real simulator words it; the card pays, not the one account.
    assert re.fullmatch(r"Success - TransactionId: txn_[0-9a-f]{16}", payment["simulatedResponse"])
    assert balance(client) == Decimal(50000)
    again = client.get(f"/ticketing/payments/{payment['id']}")
    assert again.get_json() == payment
    listed = client.get(f"/ticketing/payments?orderId={ORDER}").get_json()
    assert listed == [payment]


def test_the_platforms_front_end_gets_its_success_and_a_guest_checkout_its_400(
    client: FlaskClient,
) -> None:
    # The platform's web front end (frontend/lib/api/payment.ts, processPayment): fetch's
    # default Accept, no reservationId when the cart has none; success read from the JSON,
    # and on a refusal its errorMessage or error, else "Payment failed: <status> <text>".
    shop = {"orderId": ORDER, "customerId": CUSTOMER, "amount": 12.5, "currency": "USD",
            "paymentMethod": "credit_card"}  # fmt: skip
    status, content_type, body = post(client, shop, Accept="*/*")
    assert (status, content_type) == (200, JSON)
    assert isinstance(body, dict) and (body["success"], body["errorMessage"]) == (True, None)
    assert body["payment"]["status"] == "succeeded"
    # A guest checkout sends customerId "guest-user", which binds to no Guid: the
    # controller's text, which the front end does not read, so it shows its own words.
    guest = post(client, {**shop, "customerId": "guest-user"}, Accept="*/*")
    assert guest == (400, "text/plain; charset=utf-8", "Payment request is required")


def test_property_names_bind_in_any_case_and_amounts_may_be_strings(client: FlaskClient) -> None:
    pascal = {"OrderId": ORDER.upper(), "CUSTOMERID": CUSTOMER, "Amount": "10.00",
              "PaymentMethod": "debit_card", "Unknown": [1, 2]}  # fmt: skip
    status, _, body = post(client, pascal)
    assert status == 200 and isinstance(body, dict)
    assert (body["payment"]["orderId"], body["payment"]["currency"]) == (ORDER, "USD")
    assert body["payment"]["amount"] == 10.00


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Payment request is required"),
        ("null", "Payment request is required"),
        ("[1]", "Payment request is required"),
        ("{not json", "Payment request is required"),
        ({**CAMEL, "orderId": "not-a-guid"}, "Payment request is required"),
        ({**CAMEL, "amount": True}, "Payment request is required"),
        ({k: v for k, v in CAMEL.items() if k != "orderId"}, "Valid OrderId is required"),
        ({**CAMEL, "orderId": EMPTY}, "Valid OrderId is required"),
        ({**CAMEL, "customerId": EMPTY, "amount": 0}, "Valid CustomerId is required"),
        ({**CAMEL, "amount": 0}, "Amount must be greater than zero"),
        ({**CAMEL, "amount": -3}, "Amount must be greater than zero"),
    ],
)
def test_the_controllers_checks_answer_its_bad_request_text_and_change_nothing(
    client: FlaskClient, body: object, message: str
) -> None:
    assert post(client, body) == (400, "text/plain; charset=utf-8", message)
    # Asked for JSON, ASP.NET Core writes the same string as a JSON string.
    assert post(client, body, Accept="application/json") == (400, JSON, message)
    assert balance(client) == Decimal("50000")


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        ("order_not_found", 404, "Order not found (simulation rule: order_not_found)"),
        ("order_validation_failed", 400,
         "Order validation failed (simulation rule: order_validation_failed)"),
        ("reservation_validation_failed", 400,
         "Reservation validation failed (simulation rule: reservation_validation_failed)"),
        ("unauthorized", 401, "Unauthorized (simulation rule: unauthorized)"),
        ("internal_error", 500, "Payment gateway error (simulation rule: internal_error)"),
    ],
)  # fmt: skip
def test_each_failure_class_of_the_controller_comes_from_a_rule_for_the_order(
    client: FlaskClient, code: str, status: int, message: str
) -> None:
    client.put("/simulation", json={"rules": [{"order_id": ORDER, "decline_code": code}]})
    assert post(client, CAMEL) == (
        status, JSON, {"success": False, "payment": None, "errorMessage": message}
    )  # fmt: skip
    assert balance(client) == Decimal("50000")


def test_a_decline_is_422_payment_failed_with_the_failed_payment(client: FlaskClient) -> None:
    client.put("/simulation", json={"rules": [{"order_id": ORDER, "decline_code": "lost_card"}]})
    status, _, body = post(client, CAMEL)
    assert status == 422 and isinstance(body, dict)
    assert body["errorMessage"] == "Payment failed: Your card was declined (lost_card)"
    payment = body["payment"]
    assert (payment["status"], payment["errorCode"], payment["failureReason"]) == (
        "failed", "LOST_CARD", "card_declined")  # fmt: skip
    # The service has no balance: more than the account holds pays.
    too_much = {**CAMEL, "orderId": "aaaaaaaa-0000-0000-0000-000000000001", "amount": 60000}
    assert post(client, too_much)[0] == 200


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("10.13", ("CARD_DECLINED", "Your card was declined", "card_declined")),
        ("10.66", ("INSUFFICIENT_FUNDS", "Insufficient funds on card", "insufficient_funds")),
        ("10.99", ("PROCESSOR_TIMEOUT", "Payment processor timeout", "timeout")),
        ("999999.99", ("AMOUNT_TOO_LARGE", "Amount exceeds maximum limit", "processor_error")),
    ],
)
def test_the_real_simulators_test_amounts_fail_in_its_words(
    client: FlaskClient, amount: str, error: tuple[str, str, str]
) -> None:
    status, _, body = post(client, {**CAMEL, "amount": amount})
    assert status == 422 and isinstance(body, dict)
    assert body["errorMessage"] == f"Payment failed: {error[1]}"
    payment = body["payment"]
    assert (payment["errorCode"], payment["errorMessage"], payment["failureReason"]) == error


def test_a_missing_payment_method_is_a_credit_card(client: FlaskClient) -> None:
    status, _, body = post(client, {k: v for k, v in CAMEL.items() if k != "paymentMethod"})
    assert status == 200 and body["payment"]["paymentMethod"] == "credit_card"  # type: ignore[index]


def test_a_paid_order_answers_its_payment_again(client: FlaskClient) -> None:
    # The handler's step 0: idempotent per order.
    first = post(client, CAMEL)
    assert first[0] == 200 and post(client, CAMEL) == first
    # An order paid through another API is an order validation failure, as before.
    other = "bbbbbbbb-0000-0000-0000-000000000002"
    client.post("/payments/orders", json={"order_id": other, "amount": 1})
    assert post(client, {**CAMEL, "orderId": other}) == (
        400, JSON,
        {"success": False, "payment": None,
         "errorMessage": f"Order validation failed: order {other} is already paid"},
    )  # fmt: skip


def test_a_pending_payment_stays_pending_until_decided(make_client: MakeClient) -> None:
    client = make_client(clock="frozen")
    client.put("/simulation", json={"rules": [{"order_id": ORDER, "outcome": "pending"}]})
    status, _, body = post(client, CAMEL)
    assert status == 200 and isinstance(body, dict)
    assert (body["success"], body["payment"]["status"]) == (True, "pending")
    payment_id = body["payment"]["id"]
    assert client.get(f"/ticketing/payments/{payment_id}").get_json()["status"] == "pending"
    client.post("/clock/advance", json={"seconds": 2})
    decided = client.get(f"/ticketing/payments/{payment_id}").get_json()
    assert decided["status"] == "succeeded" and decided["processedAt"] is not None


def test_what_reaches_no_action_is_problem_details(client: FlaskClient) -> None:
    wrong_type = client.post("/ticketing/payments", data="x", content_type="text/plain")
    assert (wrong_type.status_code, wrong_type.headers["Content-Type"]) == (
        415, "application/problem+json; charset=utf-8")  # fmt: skip
    assert wrong_type.get_json() == {
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.16",
        "title": "Unsupported Media Type", "status": 415,
    }  # fmt: skip
    unknown = client.get(f"/ticketing/payments/{ORDER}")
    assert (unknown.status_code, unknown.get_json()["title"]) == (404, "Not Found")
    wrong_method = client.delete("/ticketing/payments")
    assert wrong_method.get_json() == {
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.6",
        "title": "Method Not Allowed", "status": 405, "detail": "Method not allowed",
    }  # fmt: skip


def test_the_timeline_says_which_api_a_payment_came_through(client: FlaskClient) -> None:
    post(client, CAMEL)
    (entry,) = client.get("/activity?kind=request").get_json()["activity"]
    assert (entry["detail"]["api"], entry["order_id"], entry["summary"]) == (
        "ticketing", ORDER, "POST /ticketing/payments 200")  # fmt: skip


def test_the_payments_of_an_order_no_payment_had_are_none(client: FlaskClient) -> None:
    assert client.get("/ticketing/payments?orderId=not-a-guid").get_json() == []
    missing = client.get("/ticketing/payments")
    assert (missing.status_code, missing.get_json()["detail"]) == (400, "orderId is required")


def test_payments_come_back_after_a_restart_as_each_ended(
    make_client: MakeClient, tmp_path: object
) -> None:
    state_file = f"{tmp_path}/state.jsonl"
    client = make_client(state_file=state_file, clock="frozen")
    orders = [f"3f2504e0-4f89-11d3-9a0c-0305e82c33{n:02d}" for n in range(3)]
    rules = [{"order_id": orders[1], "decline_code": "card_declined"},
             {"order_id": orders[2], "outcome": "pending", "decide_after_ms": 60_000,
              "then": "paid"}]  # fmt: skip
    client.put("/simulation", json={"rules": rules})
    made = [post(client, {**CAMEL, "orderId": order})[2] for order in orders]
    before = [client.get(f"/ticketing/payments/{m['payment']['id']}").get_json() for m in made]  # type: ignore[index]
    assert [b["status"] for b in before] == ["succeeded", "failed", "pending"]
    again = make_client(state_file=state_file, clock="frozen")
    after = [again.get(f"/ticketing/payments/{m['payment']['id']}").get_json() for m in made]  # type: ignore[index]
    assert after == before
    assert again.get(f"/ticketing/payments?orderId={orders[0]}").get_json() == [before[0]]
