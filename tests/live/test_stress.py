"""32 clients x 200 requests on the real server and a real store: no cent lost or doubled,
with payments, order payments, refunds and invalid requests racing each other."""

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
from payments_server.testing import StoreStub

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
            elif roll < 0.7:
                path = rng.choice(["/payments/orders", "/pay/order"])
                number = rng.randrange(ORDER_POOL)
                # 7 and "7" are the same order, so clients race for it under either type.
                payload = {"order_id": number if rng.random() < 0.5 else str(number),
                           "amount": amount}  # fmt: skip
            else:
                path, payload = rng.choice(["/pay", "/payments/orders"]), None
            sent = (
                payload
                if payload is None or "refund_of" not in payload
                else {"amount": payload["amount"]}
            )
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
            "--callback-url", store.url, "--initial-balance", str(START), "--quiet"
        ) as gateway,
    ):
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
        order_attempts = [
            r for r in results if r.payload and "order_id" in r.payload and r.status in (200, 402)
        ]
        refunds = [r for r in results if r.payload and "refund_of" in r.payload]
        refunded = [r for r in refunds if r.status == 200]
        callbacks = store.wait_for(len(order_attempts) + len(refunded), timeout=30)
        balance = requests.get(gateway.url + "/balance", timeout=5).json()["balance"]
        ledger = requests.get(gateway.url + "/transactions", timeout=30).text
        assert gateway.stop() == 0

    assert len(results) == CLIENTS * REQUESTS_EACH
    statuses = Counter(r.status for r in results)
    assert set(statuses) <= {200, 400, 402, 404, 409}, statuses
    assert statuses[200] > 1000 and statuses[402] > 0 and statuses[409] > 0, statuses
    assert len(refunded) > 20 and {r.status for r in refunds} <= {200, 404, 409}
    assert all(r.status == 400 for r in results if r.payload is None)

    paid = [r for r in results if r.status == 200 and r.payload and "refund_of" not in r.payload]
    spent = sum((Decimal(str(r.payload["amount"])) for r in paid if r.payload), Decimal(0))
    given_back = sum((Decimal(str(r.body["refund"]["amount"])) for r in refunded), Decimal(0))
    assert Decimal(str(balance)) == START - spent + given_back
    assert Decimal(str(balance)) >= 0

    # Every 200 has exactly one entry, and the ledger holds nothing else.
    transactions = json.loads(ledger, parse_float=Decimal)["transactions"]
    assert len(transactions) == len(paid) + len(refunded)
    answered = Counter(json.dumps(r.body["transaction"], sort_keys=True) for r in paid)
    answered.update(json.dumps(r.body["refund"], sort_keys=True) for r in refunded)
    stored = Counter(json.dumps(t, sort_keys=True) for t in json.loads(ledger)["transactions"])
    assert answered == stored
    # The running balance is exact at every step, in ledger order.
    running = START
    for transaction in transactions:
        change = Decimal(str(transaction["amount"]))
        running += change if transaction.get("type") == "refund" else -change
        assert Decimal(str(transaction["balance_after"])) == running
    assert running == Decimal(str(balance))
    # No order got back more than it paid.
    paid_amounts = {str(t["order_id"]): t["amount"] for t in transactions if "order_id" in t}
    back: Counter[str] = Counter()
    for transaction in transactions:
        if transaction.get("type") == "refund":
            back[str(transaction["refund_of"])] += transaction["amount"]
    assert all(back[order] <= paid_amounts[order] for order in back)

    # Every order is paid at most once, and a 409 only ever follows someone's 200.
    paid_orders = Counter(str(t["order_id"]) for t in transactions if "order_id" in t)
    assert max(paid_orders.values()) == 1
    refused = {
        str(r.payload["order_id"])
        for r in results
        if r.status == 409 and r.payload and "order_id" in r.payload
    }
    assert refused <= set(paid_orders)

    # The store heard once about every order attempt that reached the account.
    expected = Counter(
        (str(r.payload["order_id"]), "success" if r.status == 200 else "failed")
        for r in order_attempts
        if r.payload
    )
    expected.update((str(r.payload["refund_of"]), "refunded") for r in refunded if r.payload)
    heard = Counter((str(c.json["order_id"]), c.json["status"]) for c in callbacks)
    assert len(callbacks) == len(order_attempts) + len(refunded)
    assert heard == expected
