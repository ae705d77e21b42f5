"""Namespace names, and why a namespace cannot be used: plain rules, no HTTP."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

DEFAULT = "default"
NAME_RULE = "1 to 64 letters, digits, '-' or '_'"
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class NamespaceError(Exception):
    """A namespace that cannot be used: its HTTP status and one line saying why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def check_name(name: str) -> str:
    """The name, if it is one; raise NamespaceError (400) naming what was sent otherwise."""
    if _NAME.fullmatch(name) is None:
        shown = name if len(name) <= 80 else name[:80] + "…"
        raise NamespaceError(400, f"Namespace must be {NAME_RULE}, got {shown!r}")
    return name


@dataclass(frozen=True, slots=True)
class NamespaceOptions:
    """What a namespace may be made with, beyond the gateway's settings."""

    balance: Decimal | None = None
    callback_url: str | None = None

    def to_json(self) -> dict[str, object]:
        """The options as kept beside the namespace's journal."""
        return {"balance": None if self.balance is None else str(self.balance),
                "callback_url": self.callback_url}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, object]) -> NamespaceOptions:
        """The options kept by to_json()."""
        balance, url = data.get("balance"), data.get("callback_url")
        return cls(
            None if balance is None else Decimal(str(balance)),
            None if url is None else str(url),
        )
