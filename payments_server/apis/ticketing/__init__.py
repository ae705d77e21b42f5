"""The ticketing platform's payment service (seed 001) at /ticketing: POST /payments as
its ASP.NET Core controller answers, and the payments it made."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from flask import Blueprint, Response

from ...core.transactions import OrderId
from ..surface import ApiState, Surface
from .problems import problem_details
from .records import Payments
from .routes import API, BASE_URL, bp

if TYPE_CHECKING:
    from ...account import Account

__all__ = ["BASE_URL", "Ticketing"]


class Ticketing(Surface):
    """The ticketing service's payments: its controller's answers, ProblemDetails else."""

    id = API
    title = "The ticketing platform's payment service"
    base_url = BASE_URL
    docs = "docs/ticketing.md"

    def blueprints(self) -> Sequence[Blueprint]:
        """POST /payments and the read side."""
        return (bp,)

    def new_state(self, account: Account) -> ApiState:
        """The payments made here; a refund of one is refused where the account is."""
        payments = Payments(account.flow.order)

        def refund_owner(order_id: OrderId) -> str | None:
            try:
                order = uuid.UUID(str(order_id))
            except ValueError:
                return None
            if str(order) == order_id and payments.for_order(order):
                return (
                    "it was paid through the ticketing service (/ticketing), which has no"
                    " refunds; its payment stays succeeded"
                )
            return None

        account.flow.refund_owners.append(refund_owner)
        return payments

    def error(self, status: int, message: str, extra: Mapping[str, object]) -> Response:
        """ProblemDetails, as ASP.NET Core answers what reaches no action."""
        return problem_details(status, message)
