"""Why the gateway refuses a payment, a refund or a decision; nothing is changed by any.

Each refusal carries the HTTP status and the message the seed's API answers with (like
moto's exceptions), so every surface words it the same way and one handler writes it.
`details` are the extra keys of the JSON answer.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from .money import Amount, format_balance
from .transactions import OrderId


class RefusedError(Exception):
    """A request refused for the state it found; its status, message and details."""

    status = 409

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InsufficientFundsError(RefusedError):
    """The balance is lower than the amount asked for; nothing was debited."""

    status = 402

    def __init__(self, balance: Decimal, requested: Amount) -> None:
        super().__init__(
            "Insufficient funds", balance=format_balance(balance), requested=requested.sent
        )
        self.balance = balance
        self.requested = requested


class PaymentDeclinedError(RefusedError):
    """The payment was declined on purpose (simulation, a test card); nothing was debited."""

    status = 402

    def __init__(self, decline_code: str) -> None:
        super().__init__("Payment declined", decline_code=decline_code)
        self.decline_code = decline_code


class LimitExceededError(RefusedError):
    """A payment over a limit; nothing was debited. `limit` names it ("per payment", "1 day")
    and `detail` is the seed's compliance wording (`003_…`): "495.00 + 10.00 > 500.00 (1 day)"."""

    status = 402

    def __init__(self, limit: str, detail: str) -> None:
        super().__init__("Limit exceeded", limit=limit, detail=detail)
        self.limit = limit
        self.detail = detail


class OrderAlreadyPaidError(RefusedError):
    """The order has a successful payment already; nothing was debited."""

    def __init__(self, order_id: OrderId) -> None:
        super().__init__(f"Order {order_id} has already been paid")
        self.order_id = order_id


class OrderNotFoundError(RefusedError):
    """No payment ever reached the account for this order."""

    status = 404

    def __init__(self, order_id: OrderId) -> None:
        super().__init__(f"No payment found for order {order_id}")
        self.order_id = order_id


class OrderNotPaidError(RefusedError):
    """A refund for an order that has no successful payment."""

    def __init__(self, order_id: OrderId) -> None:
        super().__init__(f"Order {order_id} has not been paid: there is nothing to refund")
        self.order_id = order_id


class NothingToRefundError(RefusedError):
    """A refund for an order already refunded in full."""

    def __init__(self, order_id: OrderId) -> None:
        super().__init__(f"Order {order_id} has been refunded in full")
        self.order_id = order_id


class RefundTooLargeError(RefusedError):
    """A refund of more than what is left of the payment: a conflict with the order's
    state, as "already paid" is (the request itself is well formed)."""

    def __init__(self, order_id: OrderId, requested: Amount, left: Decimal) -> None:
        super().__init__(
            f"A refund of {requested.sent} is more than the {left:.2f} left to refund on"
            f" order {order_id}"
        )
        self.left = left


class OrderPendingError(RefusedError):
    """A payment for an order whose earlier payment is still pending; nothing recorded."""

    def __init__(self, order_id: OrderId) -> None:
        super().__init__(f"Order {order_id} has a payment pending")
        self.order_id = order_id


class NotPendingError(RefusedError):
    """A decision asked for an order with no payment pending."""

    def __init__(self, order_id: OrderId) -> None:
        super().__init__(f"Order {order_id} has no payment pending")
        self.order_id = order_id


class PaymentPendingError(Exception):
    """The payment was left pending on purpose (simulation): recorded, not yet decided.
    Not a refusal: the flow answers it as an outcome (202)."""

    def __init__(self, order_id: OrderId, amount: Amount, after_ms: int, due: datetime) -> None:
        super().__init__(f"Payment of {amount.sent} for order {order_id} is pending")
        self.order_id, self.amount, self.after_ms, self.due = order_id, amount, after_ms, due


class NotTheAccountsMoneyError(RefusedError):
    """A refund of an order a card outside the account paid: nothing of the account's."""

    def __init__(self, order_id: OrderId) -> None:
        super().__init__(
            f"Order {order_id} was paid by a card outside the account: the account has"
            " nothing of it to give back"
        )


class RefundOwnedElsewhereError(RefusedError):
    """The order was paid through an API that keeps its own record of the payment and has no
    refunds (a card load, a PSP transaction, a ticketing payment); a refund here would leave
    the account and that API disagreeing, so nothing is given back."""

    def __init__(self, order_id: OrderId, why: str) -> None:
        super().__init__(f"Order {order_id} cannot be refunded here: {why}")
