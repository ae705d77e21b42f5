"""The store report card for a store's own tests: `check_store(url, ...)` returns the report
that `payments-server check-store` prints (docs/check-store.md)."""

from __future__ import annotations

from collections.abc import Callable

from ..callbacks.report_card import Report, StoreChecker, allowed
from ..callbacks.signing import DEV_WEBHOOK_SECRET


def check_store(
    url: str,
    *,
    new_order: Callable[[], str] | None = None,
    order_status: str | None = None,
    secret: str = DEV_WEBHOOK_SECRET,
    callback_timeout: float = 5.0,
    timeout: float = 10.0,
    allow_remote: bool = False,
) -> Report:
    """Run every check against a store's callback URL; `report.passed`, `report.failed()`
    and `report.to_text()` say how it did. `new_order` makes an order the store knows and
    returns its id; `order_status` is its order's URL with `{order_id}` in it."""
    checker = StoreChecker(
        allowed(url, allow_remote), secret, new_order=new_order, order_status=order_status,
        timeout=timeout, callback_timeout=callback_timeout,
    )  # fmt: skip
    return checker.run()
