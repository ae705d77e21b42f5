"""One hosted checkout session: its states, its card attempts, its line in the state file.

A session is immutable: every change makes a new version. Cards appear only as brand and
last four digits, because that is all a session ever holds, so its state-file line (the
whole session as it stands after a change) holds no more.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .jsonio import format_time
from .money import Amount, parse_amount
from .refusals import RefusedError
from .transactions import OrderId, as_order_id

ID_PREFIX = "cs_"
MIN_EXPIRES_IN = 10
MAX_EXPIRES_IN = 86_400
DEFAULT_EXPIRES_IN = 1_800
EVENT = "session"
TEXT_FIELDS = (
    "success_url", "cancel_url", "callback_url", "description", "callback_id", "currency",
)  # fmt: skip
# The API a session was opened through, when its line names none (written before APIs).
DEFAULT_API = "gateway"


class SessionState(StrEnum):
    """Where a session stands; every state but open is final."""

    OPEN = "open"
    PAID = "paid"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"


class SessionNotOpenError(RefusedError):
    """The session has already finished; nothing was changed."""

    def __init__(self, session: CheckoutSession) -> None:
        super().__init__(f"Checkout session {session.id} is {session.state.value}, not open")
        self.session = session


@dataclass(frozen=True, slots=True)
class Card:
    """What the gateway keeps of a card: its brand and last four digits, never more."""

    brand: str
    last4: str


@dataclass(frozen=True, slots=True)
class CardAttempt:
    """One try on the page (or through the API): never the card number, only its brand and
    last four digits."""

    at: datetime
    outcome: str
    decline_code: str | None = None
    brand: str | None = None
    last4: str | None = None

    def to_json(self) -> dict[str, object]:
        """The attempt as the session object shows it."""
        return {
            "at": format_time(self.at),
            "outcome": self.outcome,
            "decline_code": self.decline_code,
            "card": None if self.last4 is None else {"brand": self.brand, "last4": self.last4},
        }


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    """One payment session for one order."""

    id: str
    order_id: OrderId
    amount: Amount
    created_at: datetime
    expires_at: datetime
    success_url: str | None = None
    cancel_url: str | None = None
    callback_url: str | None = None
    description: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    state: SessionState = SessionState.OPEN
    attempts: tuple[CardAttempt, ...] = ()
    callback_id: str | None = None
    # The currency the store named (the account's; shown on the page), if it named one.
    currency: str | None = None
    # The API it was opened through: the shape of its callback (flow/outcomes.py).
    api: str = DEFAULT_API
    # The store's own name of the order, when the session pays it under another order id
    # (the article's transaction id reused after its shop restarted); None: the order id.
    reference: OrderId | None = None

    @property
    def open(self) -> bool:
        """True until the session is paid, failed, canceled or expired."""
        return self.state is SessionState.OPEN

    def to_json(
        self, url: str, callback_state: str | None, currency: str | None = None
    ) -> dict[str, object]:
        """The session object of the API; `url` is its payment page, `currency` the
        account's, shown when the store named none (as the page shows it)."""
        return {
            "id": self.id,
            "order_id": self.order_id,
            "amount": self.amount.sent,
            "currency": self.currency or currency,
            "state": self.state.value,
            "url": url,
            "created_at": format_time(self.created_at),
            "expires_at": format_time(self.expires_at),
            "success_url": self.success_url,
            "cancel_url": self.cancel_url,
            "callback_url": self.callback_url,
            "description": self.description,
            "metadata": dict(self.metadata),
            "attempts": [attempt.to_json() for attempt in self.attempts],
            "api": self.api,
            "callback": None
            if self.callback_id is None
            else {"id": self.callback_id, "state": callback_state},
        }


def new_session_id() -> str:
    """cs_ and 128 random bits: the page's URL is all a customer needs, so it is unguessable."""
    return ID_PREFIX + secrets.token_hex(16)


def to_event(session: CheckoutSession) -> dict[str, Any]:
    """The state-file line for this session as it stands."""
    return {
        "event": EVENT,
        "id": session.id,
        "order_id": session.order_id,
        "amount": session.amount.sent,
        "state": session.state.value,
        "created_at": session.created_at.isoformat(),
        "expires_at": session.expires_at.isoformat(),
        **{name: getattr(session, name) for name in TEXT_FIELDS},
        "api": session.api,
        **({} if session.reference is None else {"reference": session.reference}),
        "metadata": dict(session.metadata),
        "attempts": [
            {
                "at": attempt.at.isoformat(),
                "outcome": attempt.outcome,
                "decline_code": attempt.decline_code,
                "brand": attempt.brand,
                "last4": attempt.last4,
            }
            for attempt in session.attempts
        ],
    }


def from_event(event: object) -> CheckoutSession:
    """The session a state-file line holds; raise ValueError saying what is wrong with it."""
    if not isinstance(event, dict):
        raise ValueError("a session that is not an object")
    session_id = event.get("id")
    order_id = as_order_id(event.get("order_id"))
    if not isinstance(session_id, str) or order_id is None:
        raise ValueError("a session without a valid id and order_id")
    try:
        return _session(session_id, order_id, event)
    except ValueError as exc:
        raise ValueError(f"session {session_id}: {exc}") from None


def _session(session_id: str, order_id: OrderId, event: dict[str, Any]) -> CheckoutSession:
    amount = parse_amount(event.get("amount"))  # AmountError is a ValueError
    texts = {name: event.get(name) for name in TEXT_FIELDS}
    metadata, attempts = event.get("metadata"), event.get("attempts")
    api = event.get("api", DEFAULT_API)
    reference = None if event.get("reference") is None else as_order_id(event["reference"])
    if (
        (event.get("reference") is not None and reference is None)
        or not isinstance(api, str)
        or any(value is not None and not isinstance(value, str) for value in texts.values())
        or not isinstance(metadata, dict)
        or not isinstance(attempts, list)
    ):
        raise ValueError("a field of the wrong type")
    try:
        state = SessionState(str(event.get("state")))
    except ValueError:
        raise ValueError(f"an unknown state {event.get('state')!r}") from None
    return CheckoutSession(
        id=session_id,
        order_id=order_id,
        amount=amount,
        created_at=_time(event, "created_at"),
        expires_at=_time(event, "expires_at"),
        metadata=metadata,
        state=state,
        attempts=tuple(_attempt(attempt) for attempt in attempts),
        api=api,
        reference=reference,
        **texts,
    )


def _time(event: dict[str, Any], name: str) -> datetime:
    value = event.get(name)
    try:
        moment = datetime.fromisoformat(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} is not an ISO 8601 time") from None
    # A time without its zone cannot be compared with now, and the expiry timer must.
    if moment.utcoffset() is None:
        raise ValueError(f"{name} has no time zone")
    return moment


def _attempt(raw: object) -> CardAttempt:
    if not isinstance(raw, dict):
        raise ValueError("an attempt that is not an object")
    texts = [raw.get(name) for name in ("decline_code", "brand", "last4")]
    if not isinstance(raw.get("outcome"), str) or any(
        value is not None and not isinstance(value, str) for value in texts
    ):
        raise ValueError("an attempt of the wrong shape")
    return CardAttempt(_time(raw, "at"), raw["outcome"], *texts)
