"""The Braintree prepaid-card loader (seed 003) at /cardloader: client tokens, card loads
paid with a nonce under compliance limits, and the cards; errors are
{"status": "error", "errors": [{"code", "message"}]}."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from flask import Blueprint, Response
from werkzeug.exceptions import MethodNotAllowed, NotFound

from ...core.transactions import OrderId
from ..errors import HTTP_MESSAGES
from ..responses import json_response
from ..surface import ApiState, Surface
from .prepaid_cards import PrepaidCards
from .routes import API, BASE_URL, bp

if TYPE_CHECKING:
    from ...account import Account

__all__ = ["BASE_URL", "CardLoader"]

# The order id of every card load (routes.py): the card loader owns such an order.
LOAD_ORDER = re.compile(r"card-[0-9]+-load-[0-9a-f]{8}")
# Flask's descriptions (werkzeug's), which the loader's Flask app answers with.
WERKZEUG_MESSAGES = {404: NotFound.description, 405: MethodNotAllowed.description}


class CardLoader(Surface):
    """Braintree's sandbox loading prepaid cards, under per-card compliance limits."""

    id = API
    title = "The Braintree prepaid-card loader"
    base_url = BASE_URL
    docs = "docs/cardloader.md"

    def blueprints(self) -> Sequence[Blueprint]:
        """Tokens, loads and the cards."""
        return (bp,)

    def new_state(self, account: Account) -> ApiState:
        """Cards 1 to 10, empty; a card load is refunded only here, which has no refunds
        (the real loader has none)."""
        account.flow.refund_owners.append(_refund_owner)
        return PrepaidCards(account.settings.card_load_limits, account.clock.now)

    def error(self, status: int, message: str, extra: Mapping[str, object]) -> Response:
        """{"status": "error", "errors": [{"code": "http-<status>", "message"}]}, in
        Flask's own words for a URL or method it has no route for."""
        text = (
            WERKZEUG_MESSAGES.get(status, message)
            if message == HTTP_MESSAGES.get(status)
            else message
        )
        listed = [{"code": f"http-{status}", "message": text}]
        return json_response({"status": "error", "errors": listed}, status)


def _refund_owner(order_id: OrderId) -> str | None:
    if isinstance(order_id, str) and LOAD_ORDER.fullmatch(order_id):
        return (
            "it is a card load of the card loader (/cardloader), which has no refunds; the card"
            " keeps the money and the load counts against its limits"
        )
    return None
