"""The small PSP's background work (seed 004): a worker that makes each transaction's payable
off the request thread, as the PSP's queue does, and settlement on the one clock, as its
batch jobs do: a waiting payable is paid when the clock passes its payment date.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ...core.journal import JournalError
from ...core.jsonio import format_time
from ...flow.payment_flow import PaymentFlow
from .payables import (
    PAYABLE_EVENT,
    SETTLED_EVENT,
    TRANSACTION_EVENT,
    WAITING_FUNDS,
    Payable,
    PspBook,
    PspTransaction,
    payable_for,
)

log = logging.getLogger("payments_server.psp")

SETTLEMENT = "psp_settlement"  # the scheduler's kind for a payable's payment date
# How long a read waits for the worker to make the payables of transactions made before it.
DRAIN_WAIT = 1.0
# How long the worker waits for more work before its thread ends (another starts on demand).
IDLE_END = 5.0


class PayoutWorker:
    """Makes payables from a queue on its own thread, and settles them on the clock."""

    def __init__(
        self,
        book: PspBook,
        flow: PaymentFlow,
    ) -> None:
        self.book = book
        self._flow = flow
        self._queue: queue.Queue[PspTransaction | threading.Event] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    @property
    def working(self) -> bool:
        """True while a thread works for this book (it ends after IDLE_END idle)."""
        with self._start_lock:
            return self._thread is not None

    def enqueue(self, transaction: PspTransaction) -> None:
        """Have the transaction's payable made soon, off the caller's thread."""
        with self._start_lock:
            # Queued under the lock: the worker ends only while it holds the lock and the
            # queue is empty, so nothing queued is ever left without a worker.
            self._queue.put(transaction)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="psp-payables", daemon=True)
                self._thread.start()

    def drain(self, timeout: float = DRAIN_WAIT) -> bool:
        """Wait until every transaction queued so far has its payable (at most `timeout`
        seconds); True if none is left."""
        done = threading.Event()
        with self._start_lock:
            if self._thread is None:
                return True
            self._queue.put(done)  # everything queued before it is worked on when it is set
        return done.wait(timeout)

    def resume(self) -> None:
        """After a restart: make the payables not made before the stop, and settle the
        waiting ones on their dates."""
        for transaction in self.book.unpaid_out():
            self.enqueue(transaction)
        for payable in self.book.waiting():
            self._schedule(payable)

    def reset(self) -> None:
        """Forget the book and every settlement to come."""
        self._flow.forget_timers(SETTLEMENT)
        self.book.reset()

    def _work(self) -> None:
        while True:
            try:
                transaction = self._queue.get(timeout=IDLE_END)
            except queue.Empty:
                with self._start_lock:
                    if self._queue.empty():
                        # Idle: a namespace that stopped using the PSP holds no thread.
                        self._thread = None
                        return
                continue
            if isinstance(transaction, threading.Event):
                transaction.set()
                continue
            try:
                self._make_payable(transaction)
            except Exception:
                # The next start makes it (the transaction is in the state file without it).
                log.exception("the payable of PSP transaction %s was not made", transaction.id)

    def _make_payable(self, transaction: PspTransaction) -> None:
        # Made already, or forgotten by a reset since it was queued: nothing to do.
        if self.book.has_payable(transaction.id) or not self.book.knows(transaction.id):
            return
        payable = payable_for(transaction, str(uuid.uuid4()), self._flow.now())
        self._write({"event": PAYABLE_EVENT, "payable": payable.to_json()})
        self.book.add_payable(payable)
        if payable.status == WAITING_FUNDS:
            self._schedule(payable)

    def _schedule(self, payable: Payable) -> None:
        self._flow.later(
            SETTLEMENT, payable.id, payable.payment_date, lambda: self._settle(payable.id)
        )

    def _settle(self, payable_id: str) -> None:
        at = self._flow.now()
        try:
            self._write({"event": SETTLED_EVENT, "payable_id": payable_id, "at": format_time(at)})
        except JournalError:
            log.exception("payable %s was not settled", payable_id)
            return
        settled = self.book.settle(payable_id, at)
        if settled is not None:
            self._flow.note(
                "decision",
                f"payable {payable_id} paid out: {settled.receivable_amount} cents to merchant"
                f" {settled.customer_id}",
                settled.transaction_id,
                "paid_out",
            )

    def _write(self, event: dict[str, object]) -> None:
        self._flow.record(event)

    def restore(self, event: Mapping[str, Any]) -> bool:
        """Apply a payable or a settlement read back from the state file; False for a line
        of another kind."""
        if event["event"] not in (PAYABLE_EVENT, SETTLED_EVENT):
            return False
        if event["event"] == PAYABLE_EVENT:
            data = event.get("payable")
            if not isinstance(data, dict):
                raise ValueError("a payable event without its payable")
            self.book.add_payable(Payable.from_json(data))
            return True
        payable_id, at = event.get("payable_id"), event.get("at")
        if not isinstance(payable_id, str) or not isinstance(at, str):
            raise ValueError("a settlement without payable_id and at")
        self.book.settle(payable_id, datetime.fromisoformat(at.replace("Z", "+00:00")))
        return True

    def restore_order(self, event: Mapping[str, Any]) -> None:
        """A paid order's line that carries a PSP transaction puts it back in the book."""
        transaction = event.get(TRANSACTION_EVENT)
        if event.get("outcome") == "paid" and isinstance(transaction, dict):
            self.book.add_transaction(PspTransaction.from_json(transaction))
