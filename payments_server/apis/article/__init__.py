"""The article's hosted-payment gateway (seed 002) at /article: create-session, status,
and a callback of {"transaction_id", "status"}; its errors are {"error": "..."}."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from flask import Blueprint, Response

from ..responses import json_response
from ..surface import ApiState, NoState, Surface
from .routes import API, BASE_URL, bp

if TYPE_CHECKING:
    from ...account import Account

__all__ = ["BASE_URL", "Article"]
# A session made here tells its store {"transaction_id", "status": "success" | "failure"}.
CALLBACK_SHAPE = ("transaction_id", "failure")


class Article(Surface):
    """The article's gateway: sessions on the hosted page, told by callbacks and polling."""

    id = API
    title = "The article's hosted-payment gateway"
    base_url = BASE_URL
    docs = "docs/article.md"

    def blueprints(self) -> Sequence[Blueprint]:
        """create-session and status."""
        return (bp,)

    def new_state(self, account: Account) -> ApiState:
        """Nothing of its own; its sessions' callbacks take the article's shape."""
        account.checkout.callback_shapes[API] = CALLBACK_SHAPE
        # The article's page shows a failure screen at a decline: its session ends there.
        account.checkout.final_declines.add(API)
        return NoState()

    def error(self, status: int, message: str, extra: Mapping[str, object]) -> Response:
        """{"error": message}, as the article's Flask app answers."""
        return json_response({"error": message}, status)
