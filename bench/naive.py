"""BASELINE ONLY, NOT payments_server: the straightforward implementation, kept as the
benchmark's reference point (bench/run.py). Flask's development server, a float balance,
and a new `requests.post` connection for every store callback. Do not use it."""

from __future__ import annotations

import sys
import threading
from typing import Any

import requests
from flask import Flask, jsonify, request

app = Flask(__name__)
lock = threading.Lock()
state: dict[str, Any] = {"balance": 50000.0, "transactions": []}
CALLBACK_URL = sys.argv[2] if len(sys.argv) > 2 else "http://localhost:8000/payments/confirm"


@app.get("/balance")
def balance() -> Any:
    return jsonify(status="success", account_id="ACC-001", holder="John Doe",
                   balance=state["balance"])  # fmt: skip


def debit(head: dict[str, Any]) -> dict[str, Any] | None:
    """Take the amount off the float balance; None if it is too low."""
    amount = float(request.get_json()["amount"])
    with lock:
        if amount > state["balance"]:
            return None
        state["balance"] -= amount
        transaction = {**head, "amount": amount, "balance_after": state["balance"]}
        state["transactions"].append(transaction)
    return transaction


@app.post("/pay")
def pay() -> Any:
    transaction = debit({"recipient": request.get_json()["recipient"]})
    if transaction is None:
        return jsonify(status="failed", message="Insufficient funds"), 402
    return jsonify(status="success", balance=state["balance"], transaction=transaction)


@app.post("/payments/orders")
def pay_order() -> Any:
    order_id = request.get_json()["order_id"]
    transaction = debit({"order_id": order_id})
    if transaction is None:
        return jsonify(status="failed", message="Insufficient funds"), 402
    try:
        notified = requests.post(
            CALLBACK_URL, json={"order_id": order_id, "status": "success"}, timeout=5
        ).ok
    except requests.RequestException:
        notified = False
    return jsonify(status="success", balance=state["balance"], transaction=transaction,
                   shop_notified=notified)  # fmt: skip


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
