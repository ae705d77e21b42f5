"""What a payment came to, as a value each API surface maps to its own answer.

The mapping from an outcome (or a session's end) to what the store is told lives here
and only here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..callbacks.deliveries import Delivery, State
from ..core.checkout_session import CheckoutSession, SessionState
from ..core.money import Amount
from ..core.refusals import (
    InsufficientFundsError,
    LimitExceededError,
    OrderAlreadyPaidError,
    OrderPendingError,
    PaymentDeclinedError,
)
from ..core.transactions import OrderId, Transaction

# Decided against: nothing was debited, and the store is told "failed".
DeclineReason = PaymentDeclinedError | InsufficientFundsError | LimitExceededError
# Refused before any decision: nothing was recorded, and the store is told nothing (an order
# already paid was told "success" then; a pending payment's decision will tell it).
RefusalReason = OrderAlreadyPaidError | OrderPendingError


@dataclass(frozen=True, slots=True)
class Paid:
    """The account was debited."""

    transaction: Transaction
    delivery: Delivery | None = None


@dataclass(frozen=True, slots=True)
class Declined:
    """Decided against: declined, insufficient funds or over a limit."""

    reason: DeclineReason
    delivery: Delivery | None = None

    @property
    def code(self) -> str:
        """The decline code: the simulation's or a test card's, "insufficient_funds" or
        "limit_exceeded"; each API words it its own way."""
        if isinstance(self.reason, PaymentDeclinedError):
            return self.reason.decline_code
        if isinstance(self.reason, InsufficientFundsError):
            return "insufficient_funds"
        return "limit_exceeded"


@dataclass(frozen=True, slots=True)
class Pending:
    """Left pending on purpose (simulation): decided at `due`, or earlier through the API."""

    order_id: OrderId
    amount: Amount
    after_ms: int
    due: datetime


@dataclass(frozen=True, slots=True)
class Refused:
    """Not decided at all: the order is paid already, or has a payment pending."""

    reason: RefusalReason


Outcome = Paid | Declined | Pending | Refused


def callback_status(outcome: Outcome) -> str | None:
    """What the store is told of an order payment's outcome; None: nothing, now."""
    if isinstance(outcome, Paid):
        return "success"
    if isinstance(outcome, Declined):
        return "failed"
    return None


# What the store is told when a checkout session ends: "success" when paid, else the API's
# word for unpaid (failed, canceled, expired: the reason is in the session). A shape is the
# key that names the order and that word: the seed's is {"order_id", "status": "success" |
# "failed"}; another API that opens sessions gives its own (Checkout.callback_shapes).
DEFAULT_CALLBACK_SHAPE = ("order_id", "failed")


def session_callback(
    session: CheckoutSession, shape: tuple[str, str] = DEFAULT_CALLBACK_SHAPE
) -> tuple[str, dict[str, object]]:
    """The status a finished session tells its store, and the callback's body."""
    key, unpaid = shape
    status = "success" if session.state is SessionState.PAID else unpaid
    # The order as the store named it: a session may pay it under an order id of its own.
    reference = session.order_id if session.reference is None else session.reference
    return status, {key: reference, "status": status}


def notified(delivery: Delivery | None) -> bool:
    """`shop_notified`: the store answered the first attempt with a 2xx."""
    return delivery is not None and delivery.state is State.DELIVERED
