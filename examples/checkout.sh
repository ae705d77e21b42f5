#!/usr/bin/env bash
# The seed's complete example script, made runnable: the store creates the cart and the
# checkout, payments_server takes the payment, and the store is asked for the order.
# Needs curl and jq. PAYMENTS_URL and STORE_URL default to the seed's ports.
PAYMENTS_URL="${PAYMENTS_URL:-http://localhost:5000}"
STORE_URL="${STORE_URL:-http://localhost:8000}"

# store_server creates the cart and the checkout
cart_id=$(curl -s -X POST "$STORE_URL/carts" | jq -r '.cart_id')
curl -s -X POST "$STORE_URL/carts/$cart_id/items" \
  -H "Content-Type: application/json" \
  -d '{"product_id": 1, "quantity": 2}' > /dev/null
checkout=$(curl -s -X POST "$STORE_URL/carts/$cart_id/checkout")
order_id=$(echo "$checkout" | jq -r '.order_id')
total=$(echo "$checkout" | jq -r '.total')

echo "Processing payment for order: $order_id, amount: $total"

# Pay via payments_server
payment=$(curl -s -X POST "$PAYMENTS_URL/payments/orders" \
  -H "Content-Type: application/json" \
  -d "{\"order_id\": \"$order_id\", \"amount\": $total}")

echo "Payment response:"
echo "$payment" | jq '.'

# Check if notified store
status=$(echo "$payment" | jq -r '.status')
shop_notified=$(echo "$payment" | jq '.shop_notified')
if [ "$shop_notified" = "true" ]; then
  echo "✓ Store was notified, checking order status..."
  sleep 1
  curl -s "$STORE_URL/orders/$order_id" | jq '.status'
elif [ "$status" != "success" ]; then
  echo "✗ Payment failed: $(echo "$payment" | jq -r '.message')"
  echo "Order status at the store:"
  curl -s "$STORE_URL/orders/$order_id" | jq '.status'
else
  echo "✗ Store notification failed"
fi
