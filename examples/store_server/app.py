"""A small store for trying payments_server end to end: products, carts, checkout, orders.

Run it with `make store` (or `python examples/store_server/app.py --port 8000`). Orders
are paid at payments_server, which confirms each one by POSTing a signed callback to
/payments/confirm; the store verifies the signature and acts once per webhook-id.
"""

from __future__ import annotations

import argparse
import html
import os
import secrets
import sys
import threading
from decimal import Decimal
from typing import Any

import requests
import simplejson
from flask import Flask, Response, request
from standardwebhooks import Webhook, WebhookVerificationError
from waitress import create_server

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


SHOP_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Example store</title></head><body><h1>Example store</h1><ul>{items}</ul></body></html>"""
ITEM = """<li>{name}, {price} <form method="post" action="/shop/buy"><input type="hidden"
 name="product_id" value="{id}"><button type="submit">Pay {price}</button></form></li>"""
GATEWAY_DOWN = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Payment unavailable</title></head><body><main><h1>Payment is unavailable</h1>
<p>The store could not reach the payments gateway at <code>{url}</code> ({why}).</p>
<p>Start it with <code>make run</code>, or give this store its address with
<code>--gateway-url</code>, then try again.</p><p><a href="/shop">Back to the shop</a></p>
</main></body></html>"""
ORDER_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Order {order_id}</title></head><body>
<h1>Order {order_id}: <span id="status">{status}</span></h1><p>Total {total}</p>
<p><a href="/shop">Back to the shop</a></p></body></html>"""


def create_store(secret: str, gateway_url: str = "http://127.0.0.1:5000") -> Flask:
    """The store app, with its own carts and orders; hosted checkout goes to gateway_url."""
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

    _add_shop(app, lock, orders, gateway_url)

    @app.post("/payments/confirm")
    def confirm_payment() -> Response:
        try:
            # The raw bytes: parsing and writing the JSON again would break the signature.
            event = webhook.verify(request.get_data(), dict(request.headers))
        except WebhookVerificationError as error:
            return answer({"error": str(error)}, 400)
        except ValueError:  # signed, but not JSON
            return answer({"error": "the body is not JSON"}, 400)
        if not isinstance(event, dict) or "order_id" not in event:
            return answer({"error": "the body names no order_id"}, 400)
        with lock:
            event_id = request.headers["webhook-id"]
            if event_id in handled_events:
                return answer({"result": "already handled"})
            found = orders.get(str(event["order_id"]))
            if found is None:
                # 410 Gone tells the gateway to stop retrying an event for an unknown order.
                return answer({"error": f"no order {event['order_id']}"}, 410)
            handled_events.add(event_id)
            # A paid order stays paid (a late "failed" does not unpay it), and a status this
            # store does not handle (a refund, say) is acknowledged and changes nothing.
            if found["status"] != "paid" and event.get("status") in ("success", "failed"):
                found["status"] = "paid" if event["status"] == "success" else "failed"
            return answer({"order_id": found["order_id"], "status": found["status"]})

    return app


def _add_shop(
    app: Flask, lock: threading.Lock, orders: dict[str, dict[str, Any]], gateway_url: str
) -> None:
    """The shop in a browser: a Pay button per product, paid on the gateway's page."""

    @app.get("/shop")
    def shop() -> Response:
        items = "".join(ITEM.format(**product) for product in PRODUCTS.values())
        return Response(SHOP_PAGE.format(items=items), mimetype="text/html")

    @app.post("/shop/buy")
    def buy() -> Response:
        """Hosted checkout: open a session at the gateway and send the customer there."""
        product = PRODUCTS.get(int(request.form.get("product_id", "0")))
        if product is None:
            return answer({"error": "no such product"}, 404)
        order_id = "ord_" + secrets.token_hex(6)
        with lock:
            orders[order_id] = {
                "order_id": order_id,
                "total": product["price"],
                "status": "pending",
            }
        here = request.host_url.rstrip("/")
        try:
            session = _open_session(gateway_url, order_id, product, here)
        except requests.RequestException as exc:
            # The gateway is down or elsewhere: say so to the customer, not a traceback.
            page = GATEWAY_DOWN.format(url=html.escape(gateway_url), why=html.escape(str(exc)))
            return Response(page, status=503, mimetype="text/html")
        if session.status_code != 201:
            return answer({"error": "the gateway refused", "gateway": session.json()}, 502)
        return Response(status=303, headers={"Location": session.json()["session"]["url"]})

    def _open_session(
        gateway_url: str, order_id: str, product: dict[str, Any], here: str
    ) -> requests.Response:
        return requests.post(
            f"{gateway_url}/checkout/sessions",
            data=simplejson.dumps({
                "order_id": order_id,
                "amount": product["price"],
                "description": product["name"],
                "success_url": here + "/shop/orders/{ORDER_ID}",
                "cancel_url": here + "/shop",
            }, use_decimal=True),
            headers={"Content-Type": "application/json", "Idempotency-Key": order_id},
            timeout=10,
        )  # fmt: skip

    @app.get("/shop/orders/<order_id>")
    def order_page(order_id: str) -> Response:
        with lock:
            found = orders.get(order_id)
        if found is None:
            return Response("no such order", status=404, mimetype="text/plain")
        page = ORDER_PAGE.format(**{k: html.escape(str(v)) for k, v in found.items()})
        return Response(page, mimetype="text/html")


def main(argv: list[str] | None = None) -> int:
    """Serve the store until Ctrl+C."""
    parser = argparse.ArgumentParser(description="The example store for payments_server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--gateway-url",
        default=os.environ.get("PAYMENTS_GATEWAY_URL", "http://127.0.0.1:5000"),
        help="where payments_server listens (default: http://127.0.0.1:5000)",
    )
    args = parser.parse_args(argv)
    app = create_store(os.environ.get("PAYMENTS_WEBHOOK_SECRET", DEV_SECRET), args.gateway_url)
    # Bound before it says so: a script that waits for the line finds the port answering.
    try:
        server = create_server(app, host=args.host, port=args.port, threads=8)
    except OSError as exc:
        print(f"store_server: cannot listen on {args.host}:{args.port}: {exc.strerror}"
              " (is a store running there already? choose another with --port)",
              file=sys.stderr)  # fmt: skip
        return 2
    print(
        f"store_server listening on http://{args.host}:{args.port}; open /shop to buy",
        file=sys.stderr,
        flush=True,
    )
    server.run()  # until Ctrl+C, which waitress takes as the end
    return 0


if __name__ == "__main__":
    sys.exit(main())
