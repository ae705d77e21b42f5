"""For a store's tests: the real gateway in-process, a store stub that records callbacks,
and the report card of a store's callback endpoint."""

from __future__ import annotations

from ..core.clock import ClockAheadError
from .check_store import check_store
from .gateway_clock import GatewayClock
from .gateway_namespace import GatewayConnection, GatewayNamespace, NamespaceClock
from .gateway_server import GatewayServer, GatewayServerError
from .store_stub import CONFIRM_PATH, ReceivedCallback, StoreStub

__all__ = [
    "CONFIRM_PATH",
    "ClockAheadError",
    "GatewayClock",
    "GatewayConnection",
    "GatewayNamespace",
    "GatewayServer",
    "GatewayServerError",
    "NamespaceClock",
    "ReceivedCallback",
    "StoreStub",
    "check_store",
]
