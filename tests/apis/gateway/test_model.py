"""Model-based: random sequences of requests against the real app, checked against a model.

The model is a few lines of plain Python: a balance, the list of transactions, the orders
paid, refunded and pending, the spending limits with what the day has spent, and the
gateway's clock: frozen at the start, it moves only when the machine advances it, and
the pending payments that fall due are decided then, in due order. After every step the
app must agree with it exactly, the balance must equal start - payments + refunds and
never go negative, and no answer may be a 5xx.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from hypothesis.stateful import run_state_machine_as_test as run_machine

from helpers import MakeClient, Num, exact_json

START = Decimal("50000.00")
ORDER_ROUTES = ("/payments/orders", "/pay/order")

# Amounts as a store writes them, 0.01 to 60,000.00 (sometimes more than the balance).
cents = st.integers(min_value=1, max_value=6_000_000)
amount_texts = st.one_of(
    cents.map(lambda c: f"{Decimal(c) / 100:.2f}"),
    st.integers(min_value=1, max_value=20_000).map(lambda c: f"{Decimal(c) / 100:.2f}"),
    st.integers(min_value=1, max_value=60_000).map(str),
    st.sampled_from(["0.01", "0.1", "12.5", "179.98", "49999.99", "50000", "50000.01"]),
)
# A small pool, so orders repeat; 42 and "42" are the same order.
order_ids = st.one_of(st.integers(min_value=0, max_value=12), st.sampled_from(["a", "42", "ø"]))
recipients = st.text(min_size=1, max_size=12).filter(lambda s: s != "")
# Limits small enough that a few payments reach them, and some no payment reaches.
limits = (
    st.none()
    | st.sampled_from(["0.10", "12.50", "100", "60000"]).map(Decimal)
    | cents.map(lambda c: Decimal(c) / 100)
)
# Pending payments are decided an hour after they are made: through the API, or when the
# machine moves the clock past them.
PENDING_MS = 3_600_000
PENDING = timedelta(milliseconds=PENDING_MS)
DAY = timedelta(days=1)
# Steps of the clock that land on, just before and past the hour and the day.
advances = st.sampled_from([1, 59, 3599, 3600, 86399, 86400, 90000])
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
    # Orders with a payment pending, oldest first: the amount as sent, how it is to be
    # decided, and when.
    pending: dict[str, tuple[str, str, timedelta]] = field(default_factory=dict)
    # The simulation: pending rules by order, the limits, and what the day has spent (and
    # when), counted from when the limits were set.
    pending_rules: dict[str, tuple[int | str, str]] = field(default_factory=dict)
    per_payment: Decimal | None = None
    per_day: Decimal | None = None
    day: list[tuple[timedelta, Decimal]] = field(default_factory=list)
    # The gateway's clock, from the start (or the last reset).
    now: timedelta = timedelta(0)

    @property
    def day_spent(self) -> Decimal:
        """What the last 24 hours of the clock have spent."""
        return sum((amount for at, amount in self.day if at > self.now - DAY), Decimal(0))

    def over_limit(self, amount_text: str) -> dict[str, object] | None:
        """The 402 a payment of this amount gets from the limits, if any."""
        amount = Decimal(amount_text)
        if self.per_payment is not None and amount > self.per_payment:
            event("over the limit per payment")
            detail = f"{amount:.2f} > {self.per_payment:.2f} (per payment)"
            return {"status": "failed", "message": "Limit exceeded", "limit": "per payment",
                    "detail": detail}  # fmt: skip
        if self.per_day is not None and self.day_spent + amount > self.per_day:
            event("over the day's limit")
            detail = f"{self.day_spent:.2f} + {amount:.2f} > {self.per_day:.2f} (1 day)"
            return {"status": "failed", "message": "Limit exceeded", "limit": "1 day",
                    "detail": detail}  # fmt: skip
        return None

    def spend(self, amount: Decimal) -> None:
        """Count a payment (or, negative, a refund) in the day, while a day limit is set."""
        if self.per_day is not None:
            self.day.append((self.now, amount))

    def debit(self, head: dict[str, object], amount_text: str) -> dict[str, object]:
        """Record a payment; return its transaction as the API writes it."""
        self.balance -= Decimal(amount_text)
        self.spend(Decimal(amount_text))
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
        if (refused := self.model.over_limit(amount)) is not None:
            assert (status, body) == (402, refused)
            return
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
        if key in self.model.pending:
            assert (status, body) == (
                409, {"status": "failed", "message": f"Order {order_id} has a payment pending"})  # fmt: skip
            return
        if key in self.model.pending_rules:
            event("pending")
            due = self.model.now + PENDING
            self.model.pending[key] = (amount, self.model.pending_rules[key][1], due)
            message = f"Payment of {amount} for order {order_id} is pending"
            assert (status, body) == (202, {"status": "pending", "message": message,
                "order_id": exact_json(json.dumps(order_id)), "amount": Num(amount),
                "decide_after_ms": Num(str(PENDING_MS)), "shop_notified": False})  # fmt: skip
            return
        if (refused := self.model.over_limit(amount)) is not None:
            assert (status, body) == (402, refused)
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
        if (answer := self._order_action(order_id, "refunds", data)) is None:
            return
        key, status, body = answer
        model = self.model
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
        model.spend(-Decimal(text))
        model.refunded[key] = model.refunded.get(key, Decimal(0)) + Decimal(text)
        entry = {"type": "refund", "refund_of": model.orders[key], "amount": Num(text),
                 "balance_after": Num(balance_text(model.balance))}  # fmt: skip
        model.transactions.append(entry)
        assert status == 200 and isinstance(body, dict)
        assert (body["refund"], body["balance"]) == (entry, Num(balance_text(model.balance)))

    @precondition(lambda self: self.model.pending_rules)
    @rule(data=st.data(), amount=amount_texts)
    def pay_an_order_with_a_pending_rule(self, data: st.DataObject, amount: str) -> None:
        key = data.draw(st.sampled_from(sorted(self.model.pending_rules)))
        self.pay_order(self.model.pending_rules[key][0], amount, ORDER_ROUTES[0])

    @precondition(lambda self: self.model.pending)
    @rule(data=st.data(), outcome=st.sampled_from([None, "paid", "declined"]))
    def decide_a_pending_payment(self, data: st.DataObject, outcome: str | None) -> None:
        self.decide(data.draw(st.sampled_from(sorted(self.model.pending))), outcome)

    @rule(order_id=order_ids, outcome=st.sampled_from([None, "paid", "declined"]))
    def decide(self, order_id: int | str, outcome: str | None) -> None:
        data = "" if outcome is None else json.dumps({"outcome": outcome})
        if (answer := self._order_action(order_id, "decide", data)) is None:
            return
        key, status, body = answer
        model = self.model
        if key not in model.pending:
            assert (status, body) == (
                409, {"status": "failed", "message": f"Order {key} has no payment pending"})  # fmt: skip
            return
        state = self._decided(key, outcome)
        assert status == 200 and isinstance(body, dict)
        assert (body["message"], body["order"]["state"]) == (f"Order {key} is {state}", state)

    def _decided(self, key: str, outcome: str | None) -> str:
        """Decide the model's pending payment now, as the gateway does; its new state."""
        model = self.model
        amount, then, _ = model.pending.pop(key)
        state = "failed"
        fits = model.over_limit(amount) is None and Decimal(amount) <= model.balance
        if (outcome or then) == "paid" and fits:
            model.debit({"order_id": model.orders[key]}, amount)
            model.paid[key] = amount
            state = "paid"
        event(f"decided: {state}")
        return state

    @rule(seconds=advances)
    def advance(self, seconds: int) -> None:
        status, body = self._post("/clock/advance", json.dumps({"seconds": seconds}))
        assert status == 200 and isinstance(body, dict)
        model = self.model
        target = model.now + timedelta(seconds=seconds)
        due = sorted(
            (key for key, (_, _, at) in model.pending.items() if at <= target),
            key=lambda key: model.pending[key][2],
        )
        for key in due:
            # Each decided at its own due time, the day's window as it stood then.
            model.now = model.pending[key][2]
            self._decided(key, None)
        model.now = target
        if due:
            event("the clock decided pending payments")
        ran = [job for job in body["ran"] if job["kind"] == "pending_payment"]
        assert [job["id"] for job in ran] == due

    @rule(per_payment=limits, per_day=limits)
    def set_limits(self, per_payment: Decimal | None, per_day: Decimal | None) -> None:
        self.model.per_payment, self.model.per_day = per_payment, per_day
        self._put_simulation()

    @initialize(pending=st.dictionaries(order_ids, st.sampled_from(["paid", "declined"]),
                                        max_size=4))  # fmt: skip
    def start_with_pending_rules(self, pending: dict[int | str, str]) -> None:
        self.set_pending_rules(pending)

    @rule(pending=st.dictionaries(order_ids, st.sampled_from(["paid", "declined"]), max_size=4))
    def set_pending_rules(self, pending: dict[int | str, str]) -> None:
        # One rule per order id as sent; 42 and "42" are one order, and its first rule applies.
        self.model.pending_rules = {}
        for order_id, then in pending.items():
            self.model.pending_rules.setdefault(str(order_id), (order_id, then))
        self._put_simulation(list(pending.items()))

    def _put_simulation(self, pending: list[tuple[int | str, str]] | None = None) -> None:
        """Send the model's whole simulation; any PUT starts the day again."""
        model = self.model
        listed = pending if pending is not None else [
            (order_id, then) for order_id, then in model.pending_rules.values()]  # fmt: skip
        rules = [{"order_id": order_id, "outcome": "pending", "decide_after_ms": PENDING_MS,
                  "then": then} for order_id, then in listed]  # fmt: skip
        number = lambda value: "null" if value is None else f"{value:.2f}"  # noqa: E731
        text = (f'{{"rules": {json.dumps(rules)}, "limit_per_payment": {number(model.per_payment)},'
                f' "limit_per_day": {number(model.per_day)}}}')  # fmt: skip
        response = self.client.put("/simulation", data=text, content_type="application/json")
        assert response.status_code == 200, response.get_json()
        model.day = []

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
        # A reset forgets the account and the day, not the simulation.
        old = self.model
        self.model = Model(start=balance, balance=balance, pending_rules=old.pending_rules,
                           per_payment=old.per_payment, per_day=old.per_day)  # fmt: skip

    @precondition(lambda self: self.model.orders)
    @rule(data=st.data())
    def look_up_an_order(self, data: st.DataObject) -> None:
        key, model = data.draw(st.sampled_from(sorted(self.model.orders))), self.model
        record = exact_json(self.client.get(f"/payments/orders/{quote(key)}").get_data())
        assert isinstance(record, dict)
        if key in model.paid:
            back = model.refunded.get(key, Decimal(0))
            assert record["state"] == ("refunded" if back == Decimal(model.paid[key]) else "paid")
            assert record["amount"] == Num(model.paid[key])
        else:
            assert record["state"] == ("pending" if key in model.pending else "failed")
            assert record["amount"] is None

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

    def _order_action(
        self, order_id: int | str, action: str, data: str
    ) -> tuple[str, int, object] | None:
        """POST an order's refunds or decide: the model's key, status and body; None when
        the model knows no such order, and the app said 404."""
        status, body = self._post(f"/payments/orders/{quote(str(order_id))}/{action}", data)
        key = str(order_id)
        if key not in self.model.orders:
            assert (status, body) == (
                404, {"status": "failed", "message": f"No payment found for order {key}"})  # fmt: skip
            return None
        return key, status, body

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
        lambda: GatewayMachine(make_client(callback_retries=0, clock="frozen")),
        settings=settings(
            max_examples=150,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
        ),
    )
