"""32 clients x 200 requests on the real server and a real store: no cent lost or doubled,
with payments, order payments, pending payments decided by the timer or by a client,
refunds and invalid requests racing each other."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

import requests
import simplejson

from gateway_process import GatewayProcess
from payments_server.testing import ReceivedCallback, StoreStub

CLIENTS = 32
REQUESTS_EACH = 200
START = Decimal("10000.00")
ORDER_POOL = 400
BAD_BODIES = [
    '{"amount": -1, "recipient": "x"}',
    '{"amount": 0.001, "recipient": "x"}',
    '{"amount": "5", "recipient": "x"}',
    '{"recipient": "x"}',
    '{"order_id": "", "amount": 5}',
    '{"order_id": true, "amount": 5}',
    "not json",
    "[]",
]


@dataclass(frozen=True)
class Sent:
    """One request a client made and the answer it got."""

    path: str
    payload: dict[str, object] | None
    status: int
    body: dict[str, object]


def _client(url: str, seed: int, results: list[Sent], lock: threading.Lock) -> None:
    rng = random.Random(seed)
    mine: list[Sent] = []
    with requests.Session() as session:
        for index in range(REQUESTS_EACH):
            amount = Decimal(rng.randint(1, 999)) / 100  # 0.01 to 9.99
            roll = rng.random()
            payload: dict[str, object] | None
            if roll < 0.35:
                path = "/pay"
                payload = {"amount": amount, "recipient": f"c{seed}-{index}"}
            elif roll < 0.45:
                # A small refund of some order of the pool: paid or not, refunded or not.
                number = rng.randrange(ORDER_POOL)
                path = f"/payments/orders/{number}/refunds"
                payload = {"amount": Decimal(rng.randint(1, 300)) / 100, "refund_of": number}
            elif roll < 0.5:
                # Decide an order of the pool now: pending or not, racing the timer.
                number = rng.randrange(ORDER_POOL)
                path = f"/payments/orders/{number}/decide"
                payload = {"decide_of": number}
            elif roll < 0.75:
                path = rng.choice(["/payments/orders", "/pay/order"])
                number = rng.randrange(ORDER_POOL)
                # 7 and "7" are the same order, so clients race for it under either type.
                payload = {"order_id": number if rng.random() < 0.5 else str(number),
                           "amount": amount}  # fmt: skip
            else:
                path, payload = rng.choice(["/pay", "/payments/orders"]), None
            sent = payload
            if payload is not None and "refund_of" in payload:
                sent = {"amount": payload["amount"]}
            elif payload is not None and "decide_of" in payload:
                sent = {}
            data = (
                rng.choice(BAD_BODIES) if sent is None else simplejson.dumps(sent, use_decimal=True)
            )
            response = session.post(url + path, data=data, timeout=30)
            mine.append(Sent(path, payload, response.status_code, response.json()))
    with lock:
        results.extend(mine)


def test_concurrent_clients_never_lose_or_double_a_cent() -> None:
    with (
        StoreStub() as store,
        GatewayProcess(
            "--callback-url",
            store.url,
            "--initial-balance",
            str(START),
            "--quiet",
            "--refund-callbacks",
        ) as gateway,
    ):
        # Some order payments are left pending, and decided paid 2 s later (or sooner by a
        # client), under the balance of that moment.
        pending = {"pending_rate": 0.15, "seed": 7}
        assert requests.put(gateway.url + "/simulation", json=pending, timeout=5).ok
        results: list[Sent] = []
        lock = threading.Lock()
        threads = [
            threading.Thread(target=_client, args=(gateway.url, seed, results, lock))
            for seed in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        expected = _answered_events(results) + len(_answered(results, 202))
        # Every pending payment is decided once, by the timer or a client, and then heard of.
        store.wait_for(expected, timeout=30)
        balance = Decimal(str(requests.get(gateway.url + "/balance", timeout=5).json()["balance"]))
        ledger = requests.get(gateway.url + "/transactions", timeout=30).text
        assert gateway.stop() == 0
        callbacks = store.received  # all of them, one sent late included

    assert len(results) == CLIENTS * REQUESTS_EACH
    statuses = Counter(r.status for r in results)
    assert set(statuses) <= {200, 202, 400, 402, 404, 409}, statuses
    assert statuses[200] > 1000 and statuses[402] > 0 and statuses[409] > 0, statuses
    refunds = [r for r in results if r.payload and "refund_of" in r.payload]
    assert len(_answered(refunds, 200)) > 20 and {r.status for r in refunds} <= {200, 404, 409}
    waited = _answered(results, 202)
    assert len(waited) > 50 and all(r.path in ("/payments/orders", "/pay/order") for r in waited)
    assert {r.status for r in results if r.payload and "decide_of" in r.payload} <= {200, 404, 409}
    assert all(r.status == 400 for r in results if r.payload is None)
    assert len(callbacks) == expected
    paid_later = _check_decisions(results, callbacks)
    _check_ledger(results, paid_later, balance, ledger)


def _answered(results: list[Sent], status: int) -> list[Sent]:
    return [r for r in results if r.status == status]


def _answered_events(results: list[Sent]) -> int:
    """How many callbacks the answers promise: one per order attempt and refund."""
    return len(_order_attempts(results)) + len(_refunded(results))


def _order_attempts(results: list[Sent]) -> list[Sent]:
    return [r for r in results if r.payload and "order_id" in r.payload and r.status in (200, 402)]


def _refunded(results: list[Sent]) -> list[Sent]:
    return [r for r in results if r.payload and "refund_of" in r.payload and r.status == 200]


def _check_decisions(results: list[Sent], callbacks: list[ReceivedCallback]) -> set[str]:
    """The store heard once of every answered attempt and refund, and once of the decision
    on each pending payment; return the orders whose pending payment was decided paid."""
    expected = Counter(
        (str(r.payload["order_id"]), "success" if r.status == 200 else "failed")
        for r in _order_attempts(results)
        if r.payload
    )
    expected.update(
        (str(r.payload["refund_of"]), "refunded") for r in _refunded(results) if r.payload
    )
    heard = Counter((str(c.json["order_id"]), c.json["status"]) for c in callbacks)
    decided = heard - expected
    assert heard == expected + decided
    assert Counter(order for order, _ in decided.elements()) == Counter(
        str(r.payload["order_id"]) for r in _answered(results, 202) if r.payload
    )
    # A client's decision agrees with what the store was told.
    for r in results:
        if r.payload and "decide_of" in r.payload and r.status == 200:
            state = r.body["order"]["state"]  # type: ignore[index]
            assert (
                str(r.payload["decide_of"]),
                "success" if state == "paid" else "failed",
            ) in decided
    return {order for order, status in decided if status == "success"}


def _check_ledger(results: list[Sent], paid_later: set[str], balance: Decimal, ledger: str) -> None:
    """The balance and every transaction are exactly what the answers and the pending
    payments decided paid add up to, and no order is paid twice or refunded beyond."""
    paid = [r for r in results if r.status == 200 and r.payload
            and ("order_id" in r.payload or "recipient" in r.payload)]  # fmt: skip
    refunded = _refunded(results)
    transactions = json.loads(ledger, parse_float=Decimal)["transactions"]
    later = [t for t in transactions if str(t.get("order_id")) in paid_later]
    assert len(later) == len(paid_later)
    pending_amounts: dict[str, set[Decimal]] = {}
    for r in _answered(results, 202):
        assert r.payload is not None
        pending_amounts.setdefault(str(r.payload["order_id"]), set()).add(
            Decimal(str(r.payload["amount"]))
        )
    assert all(t["amount"] in pending_amounts[str(t["order_id"])] for t in later)
    spent = sum((Decimal(str(r.payload["amount"])) for r in paid if r.payload), Decimal(0))
    spent += sum((t["amount"] for t in later), Decimal(0))
    given_back = sum((Decimal(str(r.body["refund"]["amount"])) for r in refunded), Decimal(0))  # type: ignore[index]
    assert balance == START - spent + given_back
    assert balance >= 0

    # Every 200 has exactly one entry, each pending payment decided paid one, and the
    # ledger holds nothing else.
    assert len(transactions) == len(paid) + len(refunded) + len(later)
    answered = Counter(json.dumps(r.body["transaction"], sort_keys=True) for r in paid)
    answered.update(json.dumps(r.body["refund"], sort_keys=True) for r in refunded)
    as_sent = json.loads(ledger)["transactions"]
    stored = Counter(json.dumps(t, sort_keys=True) for t in as_sent)
    decided = Counter(json.dumps(t, sort_keys=True) for t in as_sent
                      if str(t.get("order_id")) in paid_later)  # fmt: skip
    assert stored == answered + decided
    # The running balance is exact at every step, in ledger order.
    running = START
    for transaction in transactions:
        change = Decimal(str(transaction["amount"]))
        running += change if transaction.get("type") == "refund" else -change
        assert Decimal(str(transaction["balance_after"])) == running
    assert running == balance
    # No order got back more than it paid.
    paid_amounts = {str(t["order_id"]): t["amount"] for t in transactions if "order_id" in t}
    back: Counter[str] = Counter()
    for transaction in transactions:
        if transaction.get("type") == "refund":
            back[str(transaction["refund_of"])] += transaction["amount"]
    assert all(back[order] <= paid_amounts[order] for order in back)

    # Every order is paid at most once, and a 409 to a payment only ever follows someone's
    # 200 or 202 for that order.
    paid_orders = Counter(str(t["order_id"]) for t in transactions if "order_id" in t)
    assert max(paid_orders.values()) == 1
    refused = {
        str(r.payload["order_id"])
        for r in results
        if r.status == 409 and r.payload and "order_id" in r.payload
    }
    assert refused <= set(paid_orders) | set(pending_amounts)
