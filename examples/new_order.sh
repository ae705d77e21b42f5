#!/usr/bin/env bash
# Prints the id of a new order awaiting payment at the example store (make store): a cart
# with one keyboard, checked out. For `payments-server check-store --new-order`.
set -euo pipefail
store="${STORE_URL:-http://127.0.0.1:8000}"
cart=$(curl -sf -X POST "$store/carts" | jq -r .cart_id)
curl -sf -X POST "$store/carts/$cart/items" -H 'Content-Type: application/json' -d '{"product_id": 1}' > /dev/null
curl -sf -X POST "$store/carts/$cart/checkout" | jq -r .order_id
