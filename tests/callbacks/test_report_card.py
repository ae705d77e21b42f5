"""The store report card: a good store passes every check, and a store with one fault fails
exactly the checks for that fault; over real HTTP, against stores served here."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from payments_server.callbacks.report_card import CheckError, Report
from payments_server.callbacks.signing import DEV_WEBHOOK_SECRET, Signer
from payments_server.testing import check_store

ALL = {"signed-success-is-accepted", "signed-failed-is-accepted", "bad-signature-is-refused",
       "missing-signature-is-refused", "stale-timestamp-is-refused",
       "duplicate-delivery-is-acknowledged", "late-failed-does-not-unpay",
       "success-after-failed-pays",
       "unknown-order-is-refused", "malformed-body-is-refused", "unknown-status-is-not-a-5xx",
       "answers-within-the-timeout", "a-burst-is-all-accepted"}  # fmt: skip
SIGNATURE_CHECKS = {"bad-signature-is-refused", "missing-signature-is-refused",
                    "stale-timestamp-is-refused"}  # fmt: skip


@dataclass
class Faults:
    """What a store gets wrong; all False is a store that does everything right."""

    no_signature_check: bool = False
    no_dedupe: bool = False
    unpays_on_late_failed: bool = False
    error_on_unknown_order: bool = False
    # As the seed's own store: a success for an order it marked failed is a 400.
    refuses_success_after_failed: bool = False
    slow: float = 0.0


@dataclass
class Store:
    """A store's callback endpoint and its orders, served on a free port."""

    faults: Faults
    orders: dict[str, str] = field(default_factory=dict)
    handled: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def new_order(self) -> str:
        order = "ord_" + secrets.token_hex(5)
        with self.lock:
            self.orders[order] = "pending"
        return order

    def __call__(self, environ: dict[str, object], start_response: object) -> object:
        request = Request(environ)  # type: ignore[arg-type]
        response = self.handle(request)
        return response(environ, start_response)  # type: ignore[arg-type]

    def order(self, request: Request) -> Response:
        status = self.orders.get(request.path.removeprefix("/orders/"))
        if status is None:
            return Response('{"error": "no such order"}', 404, mimetype="application/json")
        return Response(json.dumps({"status": status}), mimetype="application/json")

    def handle(self, request: Request) -> Response:  # noqa: PLR0911 -- one answer per fault
        if request.path.startswith("/orders/"):
            return self.order(request)
        time.sleep(self.faults.slow)
        body = request.get_data()
        if not self.faults.no_signature_check and not Signer(DEV_WEBHOOK_SECRET).verify(
            request.headers, body
        ):
            return Response('{"error": "bad signature"}', 400)
        try:
            event = json.loads(body)
        except ValueError:
            return Response('{"error": "not JSON"}', 400)
        message_id = request.headers.get("webhook-id", "")
        with self.lock:
            if not self.faults.no_dedupe and message_id in self.handled:
                return Response('{"result": "already handled"}')
            if message_id in self.handled:
                return Response('{"error": "already processed"}', 400)
            self.handled.add(message_id)
            order = str(event.get("order_id"))
            if order not in self.orders:
                if self.faults.error_on_unknown_order:
                    raise KeyError(order)  # a 500
                return Response('{"error": "no such order"}', 404)
            status = event.get("status")
            if self.faults.refuses_success_after_failed and self.orders[order] == "failed":
                return Response('{"error": "order already failed"}', 400)
            if status in ("success", "failed"):
                keep = self.orders[order] == "paid" and not self.faults.unpays_on_late_failed
                if not keep:
                    self.orders[order] = "paid" if status == "success" else "failed"
            return Response(json.dumps({"status": self.orders[order]}))


Serve = Callable[[Faults], "Store"]


@pytest.fixture
def serve() -> Iterator[Serve]:
    servers = []

    def start(faults: Faults) -> Store:
        store = Store(faults)
        server = make_server("127.0.0.1", 0, store, threaded=True)  # type: ignore[arg-type]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        store.url = f"http://127.0.0.1:{server.server_port}"
        return store

    yield start
    for server in servers:
        server.shutdown()


def run(store: Store, callback_timeout: float = 5.0) -> Report:
    return check_store(store.url + "/payments/confirm", new_order=store.new_order,
                       order_status=store.url + "/orders/{order_id}",
                       callback_timeout=callback_timeout)  # fmt: skip


def test_a_store_that_does_everything_right_passes_every_check(serve: Serve) -> None:
    report = run(serve(Faults()))
    assert report.passed, report.to_text()
    assert {r.name for r in report.results if r.passed} == ALL
    assert report.to_text().endswith("\n\n13 checks: 13 passed, 0 failed, 0 skipped")


@pytest.mark.parametrize(
    ("faults", "failed"),
    [
        (Faults(no_signature_check=True), SIGNATURE_CHECKS),
        (Faults(no_dedupe=True), {"duplicate-delivery-is-acknowledged"}),
        (Faults(unpays_on_late_failed=True), {"late-failed-does-not-unpay"}),
        (Faults(refuses_success_after_failed=True), {"success-after-failed-pays"}),
        (Faults(error_on_unknown_order=True), {"unknown-order-is-refused"}),
        (Faults(slow=0.25), {"answers-within-the-timeout"}),
    ],
    ids=[
        "no-signature-check",
        "no-dedupe",
        "unpays-on-late-failed",
        "refuses-success-after-failed",
        "500-on-unknown-order",
        "too-slow",
    ],
)
def test_each_fault_fails_exactly_its_check(serve: Serve, faults: Faults, failed: set[str]) -> None:
    report = run(serve(faults), callback_timeout=0.2)
    assert set(report.failed()) == failed, report.to_text()
    for result in report.results:
        if result.name in failed:
            assert result.sent.startswith("curl -sS -X POST ") and result.fix and result.why


def test_without_an_order_maker_the_checks_that_need_one_are_skipped(serve: Serve) -> None:
    store = serve(Faults())
    report = check_store(store.url + "/payments/confirm")
    skipped = {r.name for r in report.results if r.passed is None}
    assert report.passed and skipped == ALL - SIGNATURE_CHECKS - {
        "unknown-order-is-refused", "malformed-body-is-refused"}  # fmt: skip
    assert {r["why"] for r in report.to_json()["checks"] if r["passed"] is None} == {
        "needs --new-order to make an order"}  # fmt: skip
    # The count says so: never "every check passed" with most of them not run.
    assert report.to_text().endswith(
        f"\n\n13 checks: {13 - len(skipped)} passed, 0 failed, {len(skipped)} skipped"
        "\neach skipped check says above what it needs to run"
    )


def test_only_this_machine_unless_allowed() -> None:
    with pytest.raises(CheckError, match="give --allow-remote"):
        check_store("http://shop.example/payments/confirm")
    with pytest.raises(CheckError, match="not an http"):
        check_store("ftp://127.0.0.1/x")
