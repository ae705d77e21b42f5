"""A small store for trying payments_server end to end: products, carts, checkout, orders.

Run it with `make store` (or `python examples/store_server/app.py --port 8000`). Orders
are paid at payments_server, which confirms each one by POSTing a signed callback to
/payments/confirm; the store verifies the signature and acts once per webhook-id.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import threading
from decimal import Decimal
from typing import Any

import simplejson
from flask import Flask, Response, request
from standardwebhooks import Webhook, WebhookVerificationError
from waitress import serve

# payments_server's development secret; set PAYMENTS_WEBHOOK_SECRET if the gateway has another.
DEV_SECRET = "whsec_cGF5bWVudHNfc2VydmVyLWRldi1zZWNyZXQtbm90LWZvci1wcm9k"
CATEGORIES = [{"id": 1, "name": "Keyboards"}, {"id": 2, "name": "Cables"}]
PRODUCTS = {
    1: {"id": 1, "name": "Mechanical keyboard", "category_id": 1, "price": Decimal("89.99")},
    2: {"id": 2, "name": "USB-C cable", "category_id": 2, "price": Decimal("9.99")},
}


def answer(payload: object, status: int = 200) -> Response:
    """JSON with exact amounts: a Decimal price goes out as the number it is."""
    body = simplejson.dumps(payload, use_decimal=True)
    return Response(body, status, mimetype="application/json")


def create_store(secret: str) -> Flask:
    """The store app, with its own carts and orders."""
    app = Flask(__name__)
    webhook = Webhook(secret)
    lock = threading.Lock()
    carts: dict[str, list[dict[str, Any]]] = {}
    orders: dict[str, dict[str, Any]] = {}
    handled_events: set[str] = set()

    @app.get("/categories")
    def categories() -> Response:
        return answer(CATEGORIES)

    @app.get("/products")
    def products() -> Response:
        return answer(list(PRODUCTS.values()))

    @app.post("/carts")
    def new_cart() -> Response:
        cart_id = "cart_" + secrets.token_hex(4)
        with lock:
            carts[cart_id] = []
        return answer({"cart_id": cart_id, "items": []}, 201)

    @app.post("/carts/<cart_id>/items")
    def add_item(cart_id: str) -> Response:
        body = request.get_json(force=True, silent=True) or {}
        product = PRODUCTS.get(body.get("product_id"))
        quantity = body.get("quantity", 1)
        if product is None or not isinstance(quantity, int) or quantity < 1:
            return answer({"error": "give a known product_id and a quantity of at least 1"}, 400)
        with lock:
            if cart_id not in carts:
                return answer({"error": f"no cart {cart_id}"}, 404)
            carts[cart_id].append({"product_id": product["id"], "quantity": quantity})
            return answer({"cart_id": cart_id, "items": carts[cart_id]})

    @app.post("/carts/<cart_id>/checkout")
    def checkout(cart_id: str) -> Response:
        with lock:
            items = carts.pop(cart_id, None)
            if not items:
                return answer({"error": f"no cart {cart_id} with items"}, 404)
            total = sum(
                (PRODUCTS[item["product_id"]]["price"] * item["quantity"] for item in items),
                Decimal("0"),
            )
            order_id = "ord_" + secrets.token_hex(6)
            orders[order_id] = {"order_id": order_id, "total": total, "status": "pending"}
            return answer({"order_id": order_id, "total": total, "status": "pending"}, 201)

    @app.get("/orders/<order_id>")
    def order(order_id: str) -> Response:
        with lock:
            found = orders.get(order_id)
            return answer(found) if found else answer({"error": f"no order {order_id}"}, 404)

    @app.post("/payments/confirm")
    def confirm_payment() -> Response:
        try:
            # The raw bytes: parsing and writing the JSON again would break the signature.
            event = webhook.verify(request.get_data(), dict(request.headers))
        except WebhookVerificationError as error:
            return answer({"error": str(error)}, 400)
        with lock:
            event_id = request.headers["webhook-id"]
            if event_id in handled_events:
                return answer({"result": "already handled"})
            found = orders.get(str(event["order_id"]))
            if found is None:
                # 410 Gone tells the gateway to stop retrying an event for an unknown order.
                return answer({"error": f"no order {event['order_id']}"}, 410)
            handled_events.add(event_id)
            found["status"] = "paid" if event["status"] == "success" else "failed"
            return answer({"order_id": found["order_id"], "status": found["status"]})

    return app


def main(argv: list[str] | None = None) -> int:
    """Serve the store until Ctrl+C."""
    parser = argparse.ArgumentParser(description="The example store for payments_server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    app = create_store(os.environ.get("PAYMENTS_WEBHOOK_SECRET", DEV_SECRET))
    print(f"store_server listening on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    serve(app, host=args.host, port=args.port, threads=8, _quiet=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
