"""The small PSP (seed 004) at /psp: card transactions per merchant, their payables (fees,
payment dates) and settlement on the clock; errors are {"message", "type", "details"}."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING

from flask import Blueprint, Response, request

from ...core.transactions import OrderId
from ..errors import HTTP_MESSAGES
from ..responses import json_response
from ..surface import ApiState, Surface
from .payables import PspBook
from .payouts import PayoutWorker
from .routes import API, BASE_URL, bp

if TYPE_CHECKING:
    from ...account import Account

__all__ = ["BASE_URL", "Psp"]

# The PSP's error types where its code names them.
PSP_TYPES = {400: "bad_request", 404: "not-found", 405: "method-not-allowed",
             500: "internal_server_error"}  # fmt: skip


class Psp(Surface):
    """The small PSP: transactions, the payables a worker makes, settlement on the clock."""

    id = API
    title = "The small PSP with payables"
    base_url = BASE_URL
    docs = "docs/psp.md"

    def blueprints(self) -> Sequence[Blueprint]:
        """Transactions, payables and the balance."""
        return (bp,)

    def new_state(self, account: Account) -> ApiState:
        """The book and its worker; a PSP transaction is refunded only here, which has no
        refunds (the real PSP has none)."""
        worker = PayoutWorker(PspBook(), account.flow)

        def refund_owner(order_id: OrderId) -> str | None:
            if isinstance(order_id, str) and worker.book.knows(order_id):
                return (
                    "it is a transaction of the PSP (/psp), which has no refunds; its payable is"
                    " paid out to the merchant as before"
                )
            return None

        account.flow.refund_owners.append(refund_owner)
        return worker

    def error(self, status: int, message: str, extra: Mapping[str, object]) -> Response:
        """{"message", "type", "details"}, in the PSP's words, the path as it sees it: its
        not-found handler's for a path, its not-allowed middleware's for a method."""
        path = request.path.removeprefix(BASE_URL)
        if status == 404 and message == HTTP_MESSAGES[404]:
            message = f'Resource "{path}" not found'
        elif status == 405 and message == HTTP_MESSAGES[405]:
            message = f'Method "{request.method}" is not allowed for resource "{path}"'
        kind = PSP_TYPES.get(status) or HTTPStatus(status).phrase.lower().replace(" ", "_")
        return json_response({"message": message, "type": kind, "details": []}, status)
