"""Model-based: random sequences of requests against the real app, checked against a model.

The model is a few lines of plain Python: a balance, the list of transactions and the
orders paid. After every step the app must agree with it exactly, the balance must equal
start - sum(amounts) and never go negative, and no answer may be a 5xx.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import quote

from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from hypothesis.stateful import run_state_machine_as_test as run_machine

from helpers import MakeClient, Num, exact_json

START = Decimal("50000.00")
ORDER_ROUTES = ("/payments/orders", "/pay/order")

# Amounts as a store writes them, 0.01 to 60,000.00 (sometimes more than the balance).
cents = st.integers(min_value=1, max_value=6_000_000)
amount_texts = st.one_of(
    cents.map(lambda c: f"{Decimal(c) / 100:.2f}"),
    st.integers(min_value=1, max_value=60_000).map(str),
    st.sampled_from(["0.01", "0.1", "12.5", "179.98", "49999.99", "50000", "50000.01"]),
)
# A small pool, so orders repeat; 42 and "42" are the same order.
order_ids = st.one_of(st.integers(min_value=0, max_value=12), st.sampled_from(["a", "42", "ø"]))
recipients = st.text(min_size=1, max_size=12).filter(lambda s: s != "")
BAD_BODIES = [
    "",
    "not json",
    "[]",
    '"text"',
    "{",
    '{"amount": "10", "recipient": "x"}',
    '{"amount": -1, "recipient": "x"}',
    '{"amount": 0, "recipient": "x"}',
    '{"amount": 0.001, "recipient": "x"}',
    '{"amount": 1e13, "recipient": "x"}',
    '{"amount": NaN, "recipient": "x"}',
    '{"amount": true, "order_id": "x"}',
    '{"amount": 10, "order_id": ""}',
    '{"amount": 10, "order_id": 1.5}',
    '{"amount": 10, "order_id": ["x"]}',
    '{"amount": 10, "recipient": 7}',
    '{"order_id": "x"}',
    "[" * 5000,
]


def balance_text(value: Decimal) -> str:
    """How the API writes a balance: cents, with one trailing zero dropped (50000.0)."""
    text = f"{value:.2f}"
    return text[:-1] if text.endswith("0") else text


@dataclass
class Model:
    """What the account should hold."""

    start: Decimal = START
    balance: Decimal = START
    transactions: list[dict[str, object]] = field(default_factory=list)
    amounts: list[Decimal] = field(default_factory=list)
    paid: dict[str, str] = field(default_factory=dict)
    # Every order an attempt reached the account for, as its first attempt wrote its id.
    orders: dict[str, object] = field(default_factory=dict)
    refunded: dict[str, Decimal] = field(default_factory=dict)

    def debit(self, head: dict[str, object], amount_text: str) -> dict[str, object]:
        """Record a payment; return its transaction as the API writes it."""
        self.balance -= Decimal(amount_text)
        self.amounts.append(Decimal(amount_text))
        transaction = {
            **head,
            "amount": Num(amount_text),
            "balance_after": Num(balance_text(self.balance)),
        }
        self.transactions.append(transaction)
        return transaction


class GatewayMachine(RuleBasedStateMachine):
    """Drives one fresh app per run through random payments, bad bodies and resets."""

    def __init__(self, client: FlaskClient) -> None:
        super().__init__()
        self.client = client
        self.model = Model()

    def _post(self, path: str, data: str) -> tuple[int, object]:
        response = self.client.post(path, data=data, content_type="application/json")
        assert response.status_code < 500, response.get_data(as_text=True)
        assert response.mimetype == "application/json"
        return response.status_code, exact_json(response.get_data())

    @rule(amount=amount_texts, recipient=recipients)
    def pay(self, amount: str, recipient: str) -> None:
        data = f'{{"amount": {amount}, "recipient": {json.dumps(recipient)}}}'
        status, body = self._post("/pay", data)
        if Decimal(amount) > self.model.balance:
            assert (status, body) == (402, self._insufficient(amount))
            return
        transaction = self.model.debit({"recipient": recipient}, amount)
        assert status == 200
        assert body == {
            "status": "success",
            "message": f"Payment of {amount} to {recipient} completed",
            "balance": Num(balance_text(self.model.balance)),
            "transaction": transaction,
        }

    @rule(order_id=order_ids, amount=amount_texts, route=st.sampled_from(ORDER_ROUTES))
    def pay_order(self, order_id: int | str, amount: str, route: str) -> None:
        data = f'{{"order_id": {json.dumps(order_id)}, "amount": {amount}}}'
        status, body = self._post(route, data)
        key = str(order_id)
        self.model.orders.setdefault(key, exact_json(json.dumps(order_id)))
        if key in self.model.paid:
            assert (status, body) == (
                409,
                {"status": "failed", "message": f"Order {order_id} has already been paid"},
            )
            return
        if Decimal(amount) > self.model.balance:
            assert (status, body) == (402, self._insufficient(amount))
            return
        transaction = self.model.debit({"order_id": exact_json(json.dumps(order_id))}, amount)
        self.model.paid[key] = amount
        assert status == 200
        assert isinstance(body, dict)
        assert body == {
            "status": "success",
            "message": f"Payment of {amount} for order {order_id} completed",
            "balance": Num(balance_text(self.model.balance)),
            "transaction": transaction,
            "shop_notified": body["shop_notified"],
        }

    @rule(order_id=order_ids, amount=st.none() | amount_texts)
    def refund(self, order_id: int | str, amount: str | None) -> None:
        data = "" if amount is None else f'{{"amount": {amount}}}'
        status, body = self._post(f"/payments/orders/{quote(str(order_id))}/refunds", data)
        key, model = str(order_id), self.model
        if key not in model.orders:
            assert (status, body) == (
                404, {"status": "failed", "message": f"No payment found for order {key}"})  # fmt: skip
            return
        if key not in model.paid:
            assert (status, body) == (409, {"status": "failed", "message": f"Order {key} has not"
                                            " been paid: there is nothing to refund"})  # fmt: skip
            return
        left = Decimal(model.paid[key]) - model.refunded.get(key, Decimal(0))
        if amount is None and left == 0:
            assert (status, body) == (
                409, {"status": "failed", "message": f"Order {key} has been refunded in full"})  # fmt: skip
            return
        text = str(left) if amount is None else amount
        if Decimal(text) > left:
            assert (status, body) == (409, {"status": "failed", "message": f"A refund of {text}"
                                            f" is more than the {left:.2f} left to refund on"
                                            f" order {key}"})  # fmt: skip
            return
        model.balance += Decimal(text)
        model.refunded[key] = model.refunded.get(key, Decimal(0)) + Decimal(text)
        entry = {"type": "refund", "refund_of": model.orders[key], "amount": Num(text),
                 "balance_after": Num(balance_text(model.balance))}  # fmt: skip
        model.transactions.append(entry)
        assert status == 200 and isinstance(body, dict)
        assert (body["refund"], body["balance"]) == (entry, Num(balance_text(model.balance)))

    @rule(path=st.sampled_from(["/pay", *ORDER_ROUTES]), data=st.sampled_from(BAD_BODIES))
    def bad_body(self, path: str, data: str) -> None:
        status, body = self._post(path, data)
        assert status == 400
        assert isinstance(body, dict)
        assert body["status"] == "failed"
        assert set(body) == {"status", "message"}

    @rule(junk=st.binary(max_size=40))
    def junk_body(self, junk: bytes) -> None:
        # 40 random bytes are never a valid payment, so this is always refused.
        response = self.client.post("/pay", data=junk)
        assert response.status_code == 400, response.get_data()
        assert response.mimetype == "application/json"

    @rule(cents=st.none() | st.integers(min_value=0, max_value=10_000_000))
    def reset(self, cents: int | None) -> None:
        balance = START if cents is None else Decimal(cents) / 100
        data = "" if cents is None else f'{{"balance": {balance:.2f}}}'
        status, body = self._post("/reset", data)
        assert status == 200
        assert isinstance(body, dict)
        assert body["balance"] == Num(balance_text(balance))
        self.model = Model(start=balance, balance=balance)

    @precondition(lambda self: self.model.paid)
    @rule(data=st.data())
    def look_up_a_paid_order(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.model.paid)))
        record = exact_json(self.client.get(f"/payments/orders/{key}").get_data())
        assert isinstance(record, dict)
        back = self.model.refunded.get(key, Decimal(0))
        assert record["state"] == ("refunded" if back == Decimal(self.model.paid[key]) else "paid")
        assert record["amount"] == Num(self.model.paid[key])

    @invariant()
    def balance_matches(self) -> None:
        body = exact_json(self.client.get("/balance").get_data())
        assert isinstance(body, dict)
        assert body["balance"] == Num(balance_text(self.model.balance))
        back = sum(self.model.refunded.values(), Decimal(0))
        assert self.model.balance == self.model.start - sum(self.model.amounts, Decimal(0)) + back
        assert self.model.balance >= 0

    @invariant()
    def transactions_match(self) -> None:
        body = exact_json(self.client.get("/transactions").get_data())
        assert isinstance(body, dict)
        assert body["transactions"] == self.model.transactions

    def _insufficient(self, amount: str) -> dict[str, object]:
        return {
            "status": "failed",
            "message": "Insufficient funds",
            "balance": Num(balance_text(self.model.balance)),
            "requested": Num(amount),
        }


def test_the_app_agrees_with_the_model_after_every_step(make_client: MakeClient) -> None:
    # A fresh app for every run, so that no run sees what an earlier one left.
    run_machine(
        lambda: GatewayMachine(make_client(callback_retries=0)),
        settings=settings(
            max_examples=60,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
        ),
    )
