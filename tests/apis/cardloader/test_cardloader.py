"""The Braintree prepaid-card loader (seed 003) at /cardloader: the documented answers and
errors, Braintree's sandbox nonces and amounts, and the compliance limits on the clock."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import pytest
from flask.testing import FlaskClient

from helpers import MakeClient
from payments_server.apis.cardloader.prepaid_cards import parse_limits

OK = {"status": "ok", "errors": []}
NOT_FOUND = (
    "The requested URL was not found on the server. If you entered the URL manually please"
    " check your spelling and try again."
)
# Room for Braintree's test amounts (2000.00 to 5001.00) under the limits.
ROOMY = parse_limits("1d=100000")


def load(client: FlaskClient, card: int, nonce: str = "fake-valid-visa-nonce",
         amount: str = "10.00") -> tuple[int, object]:  # fmt: skip
    answer = client.post(f"/cardloader/cards/{card}/load/", json={"nonce": nonce, "amount": amount})
    return answer.status_code, answer.get_json()


def error(*found: tuple[str, str]) -> dict[str, object]:
    return {"status": "error", "errors": [{"code": c, "message": m} for c, m in found]}


def balance(client: FlaskClient) -> Decimal:
    return Decimal(str(client.get("/balance").get_json()["balance"]))


def card(client: FlaskClient, number: int) -> dict[str, object]:
    found: dict[str, object] = client.get(f"/cardloader/cards/{number}/").get_json()
    return found


def test_a_client_token_is_base64_json_a_client_sdk_starts_from(client: FlaskClient) -> None:
    answer = client.post("/cardloader/tokens/", json={})
    assert answer.status_code == 200 and list(answer.get_json()) == ["client_token"]
    token = json.loads(base64.b64decode(answer.get_json()["client_token"]))
    assert (token["environment"], token["version"]) == ("sandbox", 2)
    assert client.post("/cardloader/tokens/", json={}).get_json() != answer.get_json()


def test_a_load_goes_onto_the_card_paid_by_the_customers_card(client: FlaskClient) -> None:
    assert load(client, 1) == (200, OK)
    assert load(client, 1, "fake-valid-nonce", "2.50") == (200, OK)
    shown = card(client, 1)
    assert (shown["id"], shown["balance"], shown["currency"]) == (1, "12.50", "USD")
    assert [entry["amount"] for entry in shown["loads"]] == ["2.50", "10.00"]  # type: ignore[attr-defined]
    # Braintree charges the customer's card, as at the real loader: not the one account.
    assert balance(client) == Decimal(50000)
    order = shown["loads"][0]["order_id"]  # type: ignore[index]
    record = client.get(f"/payments/orders/{order}").get_json()
    assert (record["state"], record["amount"]) == ("paid", 2.5)
    assert card(client, 2)["balance"] == "0.00"


def test_cards_one_to_ten_exist_and_others_are_the_flask_404(client: FlaskClient) -> None:
    cards = client.get("/cardloader/cards/").get_json()
    assert [c["id"] for c in cards] == list(range(1, 11))
    assert {c["balance"] for c in cards} == {"0.00"}
    for path in ("/cardloader/cards/11/load/", "/cardloader/cards/0/load/"):
        answer = client.post(path, json={"nonce": "fake-valid-nonce", "amount": "1.00"})
        assert (answer.status_code, answer.get_json()) == (404, error(("http-404", NOT_FOUND)))
    for path in ("/cardloader/cards/11/", "/cardloader/cards/x/load/", "/cardloader/nothing"):
        assert client.get(path).get_json() == error(("http-404", NOT_FOUND))
    assert balance(client) == Decimal(50000)


def test_malformed_json_is_http_400_with_the_decoders_message(client: FlaskClient) -> None:
    answer = client.post(
        "/cardloader/cards/1/load/", data='{"amount" "10.00"}', content_type="application/json"
    )
    assert (answer.status_code, answer.get_json()) == (400, error(
        ("http-400", "Failed to decode JSON object: Expecting ':' delimiter: line 1 column 11"
                     " (char 10)")))  # fmt: skip


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        ({}, ["invalid-nonce", "invalid-amount"]),
        ({"nonce": "fake-valid-nonce", "amount": 10.001}, ["invalid-amount"]),
        ({"nonce": "fake-valid-nonce", "amount": True}, ["invalid-amount"]),
        ({"nonce": "fake-valid-nonce", "amount": "10.001"}, ["invalid-amount"]),
        ({"nonce": "fake-valid-nonce", "amount": "0.00"}, ["invalid-amount"]),
        ({"nonce": "fake-valid-nonce", "amount": "-5"}, ["invalid-amount"]),
        ({"nonce": "fake-valid-nonce", "amount": "NaN"}, ["invalid-amount"]),
        ({"nonce": "", "amount": "1.00"}, ["invalid-nonce"]),
        ({"nonce": ["fake-valid-nonce"], "amount": "1.00"}, ["invalid-nonce"]),
        ([1], ["invalid-body"]),
    ],
)
def test_bad_input_is_400_in_the_loaders_shape_and_changes_nothing(
    client: FlaskClient, body: object, codes: list[str]
) -> None:
    answer = client.post("/cardloader/cards/1/load/", json=body)
    assert answer.status_code == 400 and answer.get_json()["status"] == "error"
    assert [e["code"] for e in answer.get_json()["errors"]] == codes
    assert card(client, 1)["balance"] == "0.00" and balance(client) == Decimal(50000)


def test_the_compliance_limit_is_the_seeds_500_over_one_day(client: FlaskClient) -> None:
    assert load(client, 1, amount="485.00") == (200, OK)
    assert load(client, 1) == (200, OK)
    assert load(client, 1) == (400, error(("compliance-1-day", "495.00 + 10.00 > 500 (1 day)")))
    assert load(client, 1, amount="5.00") == (200, OK)
    assert load(client, 2, amount="500.00") == (200, OK)  # another card has its own limit
    assert card(client, 1)["balance"] == "500.00"
    assert balance(client) == Decimal(50000)  # the customer's card pays


def test_the_window_follows_the_clock(make_client: MakeClient) -> None:
    client = make_client(clock="frozen", card_load_limits=parse_limits("1d=500"))
    assert load(client, 3, amount="500.00") == (200, OK)
    client.post("/clock/advance", json={"seconds": 86399})
    assert load(client, 3, amount="0.01")[0] == 400
    client.post("/clock/advance", json={"seconds": 1})
    assert load(client, 3, amount="500.00") == (200, OK)


def test_the_real_loaders_limits_hold_by_default_month_year_and_balance(
    make_client: MakeClient,
) -> None:
    # 500 a day, 800 in 30 days, 2,000 a year, 1,000 on the card at once: three loads of
    # 400.00 on three days are refused on the third (the real loader refuses it too).
    client = make_client(clock="frozen")
    assert load(client, 1, amount="400.00") == (200, OK)
    client.post("/clock/advance", json={"seconds": 86400})
    assert load(client, 1, amount="400.00") == (200, OK)
    client.post("/clock/advance", json={"seconds": 86400})
    assert load(client, 1, amount="400.00") == (
        400, error(("compliance-30-days", "800.00 + 400.00 > 800 (30 days)")))  # fmt: skip
    capped = make_client(clock="frozen", card_load_limits=parse_limits("1d=5000,balance=1000"))
    assert load(capped, 2, amount="995.00") == (200, OK)
    assert load(capped, 2) == (
        400, error(("compliance-balance", "995.00 + 10.00 > 1000 (balance)")))  # fmt: skip


def test_a_form_and_a_json_number_load_as_the_real_loader_reads_them(client: FlaskClient) -> None:
    form = client.post("/cardloader/cards/1/load/",
                       data={"nonce": "fake-valid-visa-nonce", "amount": "12.34"})  # fmt: skip
    assert (form.status_code, form.get_json()) == (200, OK)
    number = client.post("/cardloader/cards/1/load/",
                         json={"nonce": "fake-valid-visa-nonce", "amount": 10.5})  # fmt: skip
    assert (number.status_code, number.get_json()) == (200, OK)
    assert card(client, 1)["balance"] == "22.84"


def test_other_windows_are_configured_in_the_same_wording(make_client: MakeClient) -> None:
    client = make_client(clock="frozen", card_load_limits=parse_limits("1d=500,7d=800"))
    assert load(client, 1, amount="450.00") == (200, OK)
    client.post("/clock/advance", json={"seconds": 86400})
    assert load(client, 1, amount="350.00") == (200, OK)
    client.post("/clock/advance", json={"seconds": 86400})
    assert load(client, 1, amount="0.01") == (
        400, error(("compliance-7-days", "800.00 + 0.01 > 800 (7 days)")))  # fmt: skip


@pytest.mark.parametrize(
    ("nonce", "found"),
    [
        ("fake-processor-declined-visa-nonce", ("2000", "Do Not Honor")),
        ("fake-processor-declined-mastercard-nonce", ("2000", "Do Not Honor")),
        ("fake-processor-declined-amex-nonce", ("2000", "Do Not Honor")),
        ("fake-processor-declined-discover-nonce", ("2000", "Do Not Honor")),
        ("fake-processor-failure-jcb-nonce", ("3000", "Processor Network Unavailable - Try Again")),
        ("fake-gateway-rejected-fraud-nonce", ("fraud", "")),
        ("fake-consumed-nonce", ("91564", "Cannot use a payment_method_nonce more than once.")),
        ("fake-luhn-invalid-nonce", ("81715", "Credit card number is invalid.")),
        ("a-nonce-braintree-never-made", ("91565", "Unknown payment_method_nonce.")),
    ],
)
def test_each_class_of_failing_nonce(
    client: FlaskClient, nonce: str, found: tuple[str, str]
) -> None:
    assert load(client, 1, nonce) == (400, error(found))
    assert card(client, 1)["balance"] == "0.00" and balance(client) == Decimal(50000)


@pytest.mark.parametrize(
    "nonce",
    ["fake-valid-nonce", "fake-valid-visa-nonce", "fake-valid-amex-nonce",
     "fake-valid-mastercard-nonce", "fake-valid-discover-nonce", "fake-valid-prepaid-nonce",
     "fake-valid-debit-nonce", "fake-apple-pay-visa-nonce", "fake-paypal-one-time-nonce"],
)  # fmt: skip
def test_each_valid_nonce_loads(client: FlaskClient, nonce: str) -> None:
    assert load(client, 4, nonce) == (200, OK)


@pytest.mark.parametrize(
    ("amount", "found"),
    [
        ("2000.00", ("2000", "Do Not Honor")),
        ("2001.00", ("2001", "Insufficient Funds")),
        ("2003.50", ("2003", "Cardholder's Activity Limit Exceeded")),
        ("2046.00", ("2046", "Declined")),
        ("2999.99", ("2999", "Processor Declined")),
        ("3000.99", ("3000", "Processor Network Unavailable - Try Again")),
        ("5001.00", ("application_incomplete", "")),
    ],
)
def test_braintrees_test_amounts_decline_with_their_response(
    make_client: MakeClient, amount: str, found: tuple[str, str]
) -> None:
    client = make_client(card_load_limits=ROOMY)
    assert load(client, 5, amount=amount) == (400, error(found))
    assert balance(client) == Decimal(50000)


@pytest.mark.parametrize("amount", ["1999.99", "3001.00", "5000.99", "5001.01"])
def test_amounts_around_them_load(make_client: MakeClient, amount: str) -> None:
    assert load(make_client(card_load_limits=ROOMY), 5, amount=amount) == (200, OK)


def test_the_gateways_simulation_applies_as_processor_responses_and_not_its_funds(
    make_client: MakeClient,
) -> None:
    client = make_client(card_load_limits=ROOMY, initial_balance=Decimal(100))
    client.put("/simulation", json={"rules": [{"next": 1, "decline_code": "insufficient_funds"}]})
    assert load(client, 1) == (400, error(("2001", "Insufficient Funds")))
    client.put("/simulation", json={"rules": [{"next": 1, "decline_code": "stolen_card"}]})
    assert load(client, 1) == (400, error(("2013", "Processor Declined - Possible Stolen Card")))
    assert card(client, 1)["balance"] == "0.00"
    # More than the account holds loads: the customer's card pays (no account balance).
    assert load(client, 1, amount="100.01") == (200, OK)
    assert card(client, 1)["balance"] == "100.01" and balance(client) == Decimal(100)


def test_a_declined_load_does_not_count_against_the_limit(make_client: MakeClient) -> None:
    client = make_client()
    assert load(client, 6, "fake-processor-declined-visa-nonce", "400.00")[0] == 400
    assert load(client, 6, amount="500.00") == (200, OK)


def test_a_reset_empties_every_card(client: FlaskClient) -> None:
    assert load(client, 7, amount="500.00") == (200, OK)
    client.post("/reset", json={})
    assert card(client, 7) == {"id": 7, "balance": "0.00", "currency": "USD", "loads": []}
    assert load(client, 7, amount="500.00") == (200, OK)


def test_a_load_is_in_the_activity_log_under_its_api(client: FlaskClient) -> None:
    load(client, 1)
    [entry] = [e for e in client.get("/activity").get_json()["activity"] if e["kind"] == "request"]
    assert entry["summary"] == "POST /cardloader/cards/1/load/ 200"
    assert entry["detail"]["api"] == "cardloader"
    assert entry["order_id"].startswith("card-1-load-")
