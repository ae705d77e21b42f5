"""payment-succeeded and payment-failed on Kafka, the ticketing platform's topics (seed 001).

Each decided order payment, whichever API took it, is one event: the order id as its key
(so a partition keeps one order's events in order) and a CloudEvents 1.0 event in the
Kafka binding's binary mode (`ce_*` headers, the JSON data as the value). Publishing never
blocks or fails a payment: events wait in the client's bounded queue while the broker is
away, and are delivered, in order per order, when it is back.
"""

from __future__ import annotations

import importlib
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..core import jsonio
from ..core.activity import ActivityLog
from ..core.jsonio import format_time
from ..core.transactions import OrderId

log = logging.getLogger("payments_server.kafka")

SUCCEEDED, FAILED = "payment-succeeded", "payment-failed"
TOPICS = (SUCCEEDED, FAILED)
SOURCE = "payments_server"
# Events that may wait for the broker at once; beyond, an event is dropped and said so.
QUEUE_BOUND = 10_000
# The header naming the namespace an event's payment was made in (none for the default).
NAMESPACE_HEADER = "payments-namespace"


class KafkaUnavailableError(Exception):
    """confluent-kafka is not installed; str() says how to install it."""


class EventPublisher:
    """Publishes payment events to Kafka from a client of its own; never raises."""

    def __init__(
        self, bootstrap_servers: str, *, currency: str = "USD", bound: int = QUEUE_BOUND
    ) -> None:
        try:
            kafka: Any = importlib.import_module("confluent_kafka")
        except ImportError:
            raise KafkaUnavailableError(
                "--kafka-bootstrap-servers needs confluent-kafka: pip install confluent-kafka"
            ) from None
        self.bootstrap_servers = bootstrap_servers
        self._currency = currency
        self._reachable: bool | None = None
        quiet = logging.getLogger("payments_server.kafka.client")
        quiet.propagate = False  # librdkafka's own lines: error_cb says it once instead
        self._producer = kafka.Producer(
            {
                "bootstrap.servers": bootstrap_servers,
                "client.id": SOURCE,
                # Retries keep each key's order; an event waits for the broker as long as
                # it is away (the queue's bound is the limit, not a time).
                "enable.idempotence": True,
                "message.timeout.ms": 0,
                "queue.buffering.max.messages": bound,
                "linger.ms": 5,
                "reconnect.backoff.max.ms": 1000,
                "error_cb": self._error,
            },
            logger=quiet,
        )
        self._stopping = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="kafka-events", daemon=True)
        self._poller.start()

    def for_account(
        self, activity: ActivityLog, clock: Callable[[], datetime], namespace: str | None = None
    ) -> AccountEvents:
        """This client as one account publishes through it: its clock stamps the events,
        its activity log hears of their delivery, and its namespace is a header."""
        return AccountEvents(self, activity, clock, namespace)

    def publish(
        self,
        order_id: OrderId,
        succeeded: bool,
        data: Mapping[str, object],
        account: AccountEvents,
        *,
        key: str | None = None,
        whole: bool = False,
    ) -> None:
        """Queue the event of a decided payment ({orderId, status, amount, currency,
        declineCode, occurredAt}, or `data` itself when `whole`: an API's own contract),
        keyed by `key` (the order id by default); a full queue drops it, and says so."""
        topic = SUCCEEDED if succeeded else FAILED
        if not whole:
            data = {"status": "succeeded" if succeeded else "failed", **data,
                    "currency": self._currency}  # fmt: skip
        now = account.clock()
        headers = [
            ("ce_specversion", b"1.0"),
            ("ce_id", str(uuid.uuid4()).encode()),
            ("ce_source", SOURCE.encode()),
            ("ce_type", f"{SOURCE}.{topic}".encode()),
            ("ce_time", format_time(now).encode()),
            ("ce_subject", str(order_id).encode()),
            ("content-type", b"application/json"),
        ]
        if account.namespace is not None:
            headers.append((NAMESPACE_HEADER, account.namespace.encode()))
        body = data if whole else {"orderId": order_id, **data, "occurredAt": format_time(now)}
        value = jsonio.dumps(body)
        try:
            self._producer.produce(
                topic, key=(key or str(order_id)).encode(), value=value.encode(), headers=headers,
                on_delivery=lambda error, message: self._delivered(
                    order_id, topic, error, account.activity
                ),
            )  # fmt: skip
        except BufferError:
            self._note(
                order_id, topic, "dropped: the queue for the broker is full", account.activity
            )
        except Exception as exc:
            self._note(order_id, topic, f"not queued: {exc}", account.activity)

    def close(self, timeout: float = 5.0) -> int:
        """Deliver what waits, for up to `timeout` seconds; return how many were lost."""
        self._stopping.set()
        self._poller.join()
        left: int = self._producer.flush(timeout)
        if left:
            log.warning("%d Kafka events not delivered by the stop are lost", left)
        return left

    def _poll(self) -> None:
        while not self._stopping.is_set():
            self._producer.poll(0.2)

    def _delivered(
        self, order_id: OrderId, topic: str, error: object, activity: ActivityLog
    ) -> None:
        if error is None:
            if self._reachable is False:
                log.info("Kafka at %s is reachable again", self.bootstrap_servers)
            self._reachable = True
            activity.add("event", f"{topic} for order {order_id}: delivered", order_id,
                         "delivered", {"topic": topic})  # fmt: skip
            return
        self._note(order_id, topic, f"not delivered: {error}", activity)

    def _note(self, order_id: OrderId, topic: str, what: str, activity: ActivityLog) -> None:
        log.warning("%s event for order %s %s", topic, order_id, what)
        activity.add("event", f"{topic} for order {order_id}: {what}", order_id,
                           "not_delivered", {"topic": topic})  # fmt: skip

    def _error(self, error: Any) -> None:
        # Said once per change: every broker gone, then back.
        down = "all brokers down" in str(error).lower() or error.code() in _DOWN_CODES
        if down and self._reachable is not False:
            self._reachable = False
            log.warning(
                "Kafka at %s is not reachable (%s); events wait until it is",
                self.bootstrap_servers, error.str(),
            )  # fmt: skip


# librdkafka's codes for "no broker can be reached".
_DOWN_CODES = frozenset({-187, -195})  # _ALL_BROKERS_DOWN, _TRANSPORT


@dataclass(frozen=True, slots=True)
class AccountEvents:
    """One account's view of the gateway's Kafka client: the flow's Publisher."""

    client: EventPublisher
    activity: ActivityLog
    clock: Callable[[], datetime]
    namespace: str | None = None

    def publish(
        self,
        order_id: OrderId,
        succeeded: bool,
        data: Mapping[str, object],
        *,
        key: str | None = None,
        whole: bool = False,
    ) -> None:
        """Queue one payment's event, stamped by this account's clock; never raises."""
        self.client.publish(order_id, succeeded, data, self, key=key, whole=whole)
