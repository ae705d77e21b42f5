"""The payment page as plain HTML forms (no JavaScript), through the test client."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from flask.testing import FlaskClient

from helpers import MakeClient
from payments_server.testing import StoreStub
from payments_server.ui.cards import card_name

FUTURE = f"12/{(datetime.now(UTC).year + 2) % 100:02d}"


def open_session(client: FlaskClient, **body: object) -> dict:  # type: ignore[type-arg]
    payload = {"order_id": "A-1", "amount": 25, "success_url": "https://shop.test/ok?s={CHECKOUT_SESSION_ID}",
               "cancel_url": "https://shop.test/cart", **body}  # fmt: skip
    return client.post("/checkout/sessions", json=payload).get_json()["session"]


def pay(client: FlaskClient, session: dict, number: str, expiry: str = FUTURE, cvc: str = "123"):  # type: ignore[no-untyped-def,type-arg]
    return client.post(
        f"/checkout/{session['id']}/pay",
        data={"number": number, "expiry": expiry, "cvc": cvc, "name": "Ada Lovelace"},
    )


def balance(client: FlaskClient) -> Decimal:
    return Decimal(str(client.get("/balance").get_json()["balance"]))


def test_the_page_shows_the_order_escaped_with_the_standard_card_fields_and_a_strict_policy(
    client: FlaskClient,
) -> None:
    session = open_session(client, order_id="<script>alert(1)</script>", description="<b>mugs</b>")
    page = client.get(f"/checkout/{session['id']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "<script>alert(1)</script>" not in html and "<b>mugs</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;mugs&lt;/b&gt;" in html
    for token in ("cc-number", "cc-exp", "cc-csc", "cc-name"):
        assert f'autocomplete="{token}"' in html
    assert '<button type="submit" class="pay">Pay</button>' in html
    assert '<button type="submit" class="cancel">Cancel</button>' in html
    assert "4000 0027 6000 3184" in html and "Pay 25" in html
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    # No other site may frame the card form.
    assert "frame-ancestors 'none'" in csp and page.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in html.replace(
        '<script src="/ui/static/checkout.js" defer></script>', ""
    )
    assert client.get("/ui/static/checkout.js").status_code == 200


def test_the_success_card_pays_and_sends_the_customer_to_success_url(
    client: FlaskClient, store: StoreStub
) -> None:
    session = open_session(client)
    paid = pay(client, session, "4242 4242 4242 4242")
    assert paid.status_code == 303
    assert paid.headers["Location"] == f"https://shop.test/ok?s={session['id']}"
    assert balance(client) == Decimal("49975.0")
    assert [c.body for c in store.received] == [b'{"order_id":"A-1","status":"success"}']
    shown = client.get(f"/checkout/sessions/{session['id']}").get_json()["session"]
    assert shown["state"] == "paid"
    assert shown["attempts"][0]["card"] == {"brand": "visa", "last4": "4242"}
    page = client.get(f"/checkout/{session['id']}").get_data(as_text=True)
    assert "Payment received" in page and 'name="number"' not in page  # never the form again


@pytest.mark.parametrize(
    ("number", "code"),
    [("4000000000000002", "card_declined"), ("4000000000009995", "insufficient_funds"),
     ("4000000000009987", "lost_card"), ("4000000000000127", "incorrect_cvc")],
)  # fmt: skip
def test_a_declining_card_says_why_and_leaves_the_page_open_for_another_card(
    client: FlaskClient, store: StoreStub, number: str, code: str
) -> None:
    session = open_session(client)
    declined = pay(client, session, number)
    assert (declined.status_code, declined.headers["Location"]) == (
        303, f"/checkout/{session['id']}",
    )  # fmt: skip
    html = client.get(declined.headers["Location"]).get_data(as_text=True)
    assert '<p class="decline">' in html and f"<code>{code}</code>" in html
    assert f"ending in {number[-4:]}. Try another card, or go back to the store." in html
    assert 'name="number"' in html  # the form, for another card
    shown = client.get(f"/checkout/sessions/{session['id']}").get_json()["session"]
    assert (shown["state"], [a["decline_code"] for a in shown["attempts"]]) == ("open", [code])
    assert balance(client) == Decimal("50000.0") and store.received == []  # nothing told yet
    paid = pay(client, session, "4242424242424242")
    assert paid.headers["Location"] == f"https://shop.test/ok?s={session['id']}"
    assert balance(client) == Decimal("49975.0")
    assert [c.body for c in store.received] == [b'{"order_id":"A-1","status":"success"}']
    shown = client.get(f"/checkout/sessions/{session['id']}").get_json()["session"]
    assert [a["outcome"] for a in shown["attempts"]] == ["declined", "paid"]


def test_a_session_left_after_a_decline_tells_the_store_failed_once_when_it_ends(
    make_client: MakeClient, store: StoreStub
) -> None:
    client = make_client(clock="frozen")
    session = open_session(client)
    pay(client, session, "4000000000000002")
    pay(client, session, "4000000000009995")
    assert store.received == []
    client.post("/clock/advance", json={"seconds": 3600})
    assert [c.body for c in store.wait_for(1)] == [b'{"order_id":"A-1","status":"failed"}']
    shown = client.get(f"/checkout/sessions/{session['id']}").get_json()["session"]
    assert shown["state"] == "expired"
    assert [a["decline_code"] for a in shown["attempts"]] == ["card_declined", "insufficient_funds"]
    assert "This payment page has expired" in client.get(f"/checkout/{session['id']}").get_data(
        as_text=True
    )


def test_every_problem_of_the_card_shows_at_once_each_beside_its_field(
    client: FlaskClient, store: StoreStub
) -> None:
    session = open_session(client)
    page = pay(client, session, "4242424242424241", "13/20", "12")
    html = page.get_data(as_text=True)
    problems = ("The card number is not valid.", "The expiry date must be MM/YY.",
                "The CVC must be 3 or 4 digits.")  # fmt: skip
    assert page.status_code == 400
    assert f'<p class="error" role="alert">{" ".join(problems)}</p>' in html
    for field, problem in zip(("number", "expiry", "cvc"), problems, strict=True):
        (tag,) = re.findall(rf'<input id="{field}"[^>]*>', html)
        assert f'aria-invalid="true" aria-describedby="{field}-problem"' in tag
        assert f'<p id="{field}-problem" class="field-error">{problem}</p>' in html
    # The name and the expiry typed come back; the number and the CVC do not.
    assert 'value="13/20"' in html
    assert balance(client) == Decimal("50000.0") and store.received == []


@pytest.mark.parametrize(
    ("number", "expiry", "cvc", "error"),
    [("4242424242424241", FUTURE, "123", "The card number is not valid."),
     ("4242", FUTURE, "123", "The card number is not valid."),
     ("4242424242424242", "01/20", "123", "The card has expired."),
     ("4242424242424242", "13/30", "123", "The expiry date must be MM/YY."),
     ("4242424242424242", FUTURE, "12", "The CVC must be 3 or 4 digits."),
     ("4242424242424242", FUTURE, "12a4", "The CVC must be 3 or 4 digits."),
     # Digits to str.isdigit(), not on any card: superscript twos (int() refused them with
     # a 500), full-width 4242... (once kept as a full-width last4), Arabic-Indic digits.
     ("\u00b2" * 16, FUTURE, "123", "The card number is not valid."),
     ("\uff14\uff12" * 8, FUTURE, "123", "The card number is not valid."),
     ("4242424242424242", FUTURE, "\u0661\u0662\u0663", "The CVC must be 3 or 4 digits."),
     ("4242424242424242", "\u0661\u0662/\u0663\u0660", "123", "The expiry date must be MM/YY.")],
)  # fmt: skip
def test_a_bad_card_is_a_form_error_that_changes_nothing(
    client: FlaskClient, store: StoreStub, number: str, expiry: str, cvc: str, error: str
) -> None:
    session = open_session(client)
    page = pay(client, session, number, expiry, cvc)
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and f'<p class="error" role="alert">{error}</p>' in html
    # The number typed is not sent back: the field comes back empty.
    (number_field,) = re.findall(r'<input id="number"[^>]*>', html)
    assert "value=" not in number_field
    shown = client.get(f"/checkout/sessions/{session['id']}").get_json()["session"]
    assert (shown["state"], shown["attempts"]) == ("open", [])
    assert balance(client) == Decimal("50000.0") and store.received == []


@pytest.mark.parametrize(
    ("number", "action", "state", "code"),
    [("4000002760003184", "complete", "paid", None),
     # Declined after its step, the session stays open for another card.
     ("4000002760003184", "fail", "open", "authentication_required"),
     ("4000008260003178", "complete", "open", "insufficient_funds")],
)  # fmt: skip
def test_three_d_secure_comes_first_for_its_cards(
    client: FlaskClient, number: str, action: str, state: str, code: str | None
) -> None:
    session = open_session(client)
    asked = pay(client, session, number)
    assert asked.status_code == 303
    assert asked.headers["Location"] == f"/checkout/{session['id']}/authenticate"
    step = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert "Complete authentication" in step and "Fail authentication" in step
    assert "ending " + number[-4:] in step
    client.post(f"/checkout/{session['id']}/authenticate", data={"action": action})
    shown = client.get(f"/checkout/sessions/{session['id']}").get_json()["session"]
    assert shown["state"] == state and shown["attempts"][-1]["decline_code"] == code


def test_cancel_sends_the_customer_to_cancel_url_and_the_store_hears_failed(
    client: FlaskClient, store: StoreStub
) -> None:
    session = open_session(client)
    canceled = client.post(f"/checkout/{session['id']}/cancel")
    assert (canceled.status_code, canceled.headers["Location"]) == (303, "https://shop.test/cart")
    assert [c.body for c in store.received] == [b'{"order_id":"A-1","status":"failed"}']
    assert "Payment canceled" in client.get(f"/checkout/{session['id']}").get_data(as_text=True)


def test_without_return_urls_the_gateway_shows_its_own_result_page(client: FlaskClient) -> None:
    session = client.post("/checkout/sessions", json={"order_id": "n", "amount": 1}).get_json()[
        "session"
    ]
    paid = pay(client, session, "4242424242424242")
    assert paid.headers["Location"] == f"/checkout/{session['id']}"
    assert "Payment received" in client.get(paid.headers["Location"]).get_data(as_text=True)


def test_the_full_number_and_cvc_appear_in_no_answer(client: FlaskClient) -> None:
    session = open_session(client)
    pay(client, session, "4000 0000 0000 9995", cvc="7319")
    # Declined, the page is the form again, whose table of test cards holds that number:
    # canceled, it is the result page, which holds nothing of the card but its last four.
    client.post(f"/checkout/{session['id']}/cancel")
    answers = "".join(
        client.get(path).get_data(as_text=True)
        for path in (f"/checkout/sessions/{session['id']}", "/checkout/sessions", "/callbacks",
                     "/transactions", f"/checkout/{session['id']}", "/payments/orders/A-1")
    )  # fmt: skip
    assert "4000000000009995" not in answers and "4000 0000 0000 9995" not in answers
    # Bounded by non-hex characters: ids and times are hex and digits, and may hold it by chance.
    assert not re.search(r"(?<![0-9a-f])7319(?![0-9a-f])", answers) and "9995" in answers


def test_an_unknown_session_page_is_a_404_page(client: FlaskClient) -> None:
    page = client.get("/checkout/cs_nope")
    assert page.status_code == 404 and "No such payment" in page.get_data(as_text=True)


def test_a_card_waiting_for_3d_secure_is_held_per_gateway_and_forgotten_by_reset(
    make_client: MakeClient,
) -> None:
    one, other = make_client(), make_client()
    session = open_session(one)
    assert pay(one, session, "4000002760003184").status_code == 303
    # Another gateway in the same process knows nothing of it.
    assert other.get(f"/checkout/{session['id']}/authenticate").status_code == 404
    one.post("/reset")
    step = one.post(f"/checkout/{session['id']}/authenticate", data={"action": "complete"})
    assert (step.status_code, step.headers["Location"]) == (303, f"/checkout/{session['id']}")
    assert balance(one) == Decimal("50000.0")


def test_the_page_reads_like_a_real_one_amounts_currency_and_words(
    make_client: MakeClient,
) -> None:
    client = make_client(currency="EUR")
    session = open_session(client, amount=7)
    html = client.get(f"/checkout/{session['id']}").get_data(as_text=True)
    assert "<h1>Pay 7.00 EUR</h1>" in html
    # The test-card table in words, not codes.
    assert "Declined: insufficient funds" in html and "insufficient_funds" not in html
    pay(client, session, "4000000000009995")
    declined = client.get(f"/checkout/{session['id']}").get_data(as_text=True)
    assert '<p class="decline">Your card has insufficient funds.</p>' in declined
    assert "<h1>Pay 7.00 EUR</h1>" in declined


@pytest.mark.parametrize(
    ("number", "text"),
    [("4000000000000002", "Your card was declined."),
     ("4000000000009979", "Your card was declined."),  # stolen: no more said, as at Stripe
     ("4000000000000069", "Your card has expired."),
     ("4000000000000127", "Your card&#39;s security code is incorrect.")],
)  # fmt: skip
def test_each_decline_is_worded_as_stripe_words_it(
    client: FlaskClient, number: str, text: str
) -> None:
    session = open_session(client)
    pay(client, session, number)
    html = client.get(f"/checkout/{session['id']}").get_data(as_text=True)
    assert f'<p class="decline">{text}</p>' in html


def test_after_a_form_error_the_fields_that_are_not_secret_are_kept(client: FlaskClient) -> None:
    session = open_session(client)
    html = pay(client, session, "4242424242424241", "11/39", "3141").get_data(as_text=True)
    assert 'value="11/39"' in html and 'value="Ada Lovelace"' in html
    assert "4242424242424241" not in html and "3141" not in html


def test_3d_secure_names_the_brand_and_the_amount(client: FlaskClient) -> None:
    session = open_session(client, amount=7.5)
    pay(client, session, "4000002760003184")
    html = client.get(f"/checkout/{session['id']}/authenticate").get_data(as_text=True)
    assert "the payment of 7.50 USD for order" in html and "the Visa card ending 3184" in html


def test_a_card_is_named_as_the_customer_knows_it() -> None:
    assert [card_name(b) for b in ("visa", "mastercard", "amex", "card")] == [
        "Visa card", "Mastercard card", "American Express card", "card"]  # fmt: skip
