#!/usr/bin/env bash
# Prints the id of a new order awaiting payment at the example store (make store): a cart
# with one keyboard, checked out. For `payments-server check-store --new-order`.
#
#   bash examples/new_order.sh [STORE_URL]    (default: $STORE_URL, else http://127.0.0.1:8000)
set -euo pipefail
store="${1:-${STORE_URL:-http://127.0.0.1:8000}}"
fail() { echo "new_order.sh: $1" >&2; exit 1; }
cart=$(curl -sS -f -X POST "$store/carts" 2>&1) || fail "the store at $store did not answer: $cart (start it with make store, or pass its URL)"
cart=$(jq -r .cart_id <<<"$cart")
curl -sS -f -X POST "$store/carts/$cart/items" -H 'Content-Type: application/json' -d '{"product_id": 1}' > /dev/null \
    || fail "the store at $store refused to add an item to cart $cart"
curl -sS -f -X POST "$store/carts/$cart/checkout" | jq -r .order_id
