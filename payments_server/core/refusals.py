"""Why the account refuses a payment or a refund; nothing is changed by any of them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from .money import Amount
from .transactions import OrderId


class InsufficientFundsError(Exception):
    """The balance is lower than the amount asked for; nothing was debited."""

    def __init__(self, balance: Decimal, requested: Amount) -> None:
        super().__init__(f"balance {balance} is lower than {requested.value}")
        self.balance = balance
        self.requested = requested


class OrderAlreadyPaidError(Exception):
    """The order has a successful payment already; nothing was debited."""

    def __init__(self, order_id: OrderId) -> None:
        super().__init__(f"order {order_id} has already been paid")
        self.order_id = order_id


class PaymentDeclinedError(Exception):
    """The payment was declined on purpose (simulation); nothing was debited."""

    def __init__(self, decline_code: str) -> None:
        super().__init__(f"declined: {decline_code}")
        self.decline_code = decline_code


class OrderNotPaidError(Exception):
    """A refund for an order that has no successful payment."""

    def __init__(self, order_id: OrderId) -> None:
        super().__init__(f"Order {order_id} has not been paid: there is nothing to refund")
        self.order_id = order_id


class NothingToRefundError(Exception):
    """A refund for an order already refunded in full."""

    def __init__(self, order_id: OrderId) -> None:
        super().__init__(f"Order {order_id} has been refunded in full")
        self.order_id = order_id


class RefundTooLargeError(Exception):
    """A refund of more than what is left of the payment."""

    def __init__(self, order_id: OrderId, requested: Amount, left: Decimal) -> None:
        super().__init__(
            f"A refund of {requested.sent} is more than the {left:.2f} left to refund on"
            f" order {order_id}"
        )
        self.left = left


class OrderPendingError(Exception):
    """A payment for an order whose earlier payment is still pending; nothing recorded."""

    def __init__(self, order_id: OrderId) -> None:
        super().__init__(f"Order {order_id} has a payment pending")
        self.order_id = order_id


class PaymentPendingError(Exception):
    """The payment was left pending on purpose (simulation): recorded, not yet decided."""

    def __init__(self, order_id: OrderId, amount: Amount, after_ms: int, due: datetime) -> None:
        super().__init__(f"Payment of {amount.sent} for order {order_id} is pending")
        self.order_id, self.amount, self.after_ms, self.due = order_id, amount, after_ms, due


class NotPendingError(Exception):
    """A decision asked for an order with no payment pending."""

    def __init__(self, order_id: OrderId) -> None:
        super().__init__(f"Order {order_id} has no payment pending")
        self.order_id = order_id
