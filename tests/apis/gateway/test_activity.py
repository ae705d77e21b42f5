"""The activity log (GET /activity): what each request, decision and callback attempt leaves."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from flask.testing import FlaskClient

from helpers import MakeClient
from payments_server.core.activity import ActivityLog
from payments_server.core.events import EventBus
from payments_server.core.simulation import Decline
from payments_server.testing import StoreStub

FUTURE = "12/40"


def activity(client: FlaskClient, query: str = "") -> list[dict]:  # type: ignore[type-arg]
    answer = client.get("/activity" + query)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["activity"]


def brief(entries: list[dict]) -> list[tuple[object, ...]]:  # type: ignore[type-arg]
    """Oldest first: (kind, order id, outcome, summary)."""
    return [(e["kind"], e["order_id"], e["outcome"], e["summary"]) for e in reversed(entries)]


def test_an_order_payment_leaves_its_decision_its_callback_and_its_request(
    client: FlaskClient, store: StoreStub
) -> None:
    sent = b'{"order_id": 42, "amount": 179.98}'
    answer = client.post(
        "/payments/orders",
        data=sent,
        content_type="application/json",
        headers={"Idempotency-Key": "k-1"},
    )
    entries = activity(client)
    # In the order they happened: the answer leaves after the callback's first attempt.
    assert brief(entries) == [
        ("decision", 42, "paid", "order 42: paid"),
        ("callback", 42, "delivered", entries[1]["summary"]),
        ("request", 42, "200", "POST /payments/orders 200"),
    ]
    assert entries[1]["summary"].startswith('callback "success" (first attempt): 200 in ')
    assert [e["seq"] for e in entries] == sorted((e["seq"] for e in entries), reverse=True)
    decision, callback, request = reversed(entries)
    assert decision["detail"] == {"amount": 179.98, "balance": 49820.02}
    (received,) = store.received
    assert callback["detail"] == {
        "delivery_id": received.headers["webhook-id"], "attempt": 1, "why": "first attempt",
        "url": store.url, "status_code": 200, "error": None,
        "duration_ms": callback["detail"]["duration_ms"], "state": "delivered", "next_attempt_at": None,
        "fault": None,
        "response_body": "{}",
    }  # fmt: skip
    assert request["detail"] == {
        "api": "gateway", "method": "POST", "path": "/payments/orders", "status": 200,
        "request_body": sent.decode(), "response_body": answer.get_data(as_text=True),
        "curl": "curl -sS -X POST http://localhost/payments/orders"
                " -H 'Content-Type: application/json' -H 'Idempotency-Key: k-1'"
                """ --data-binary '{"order_id": 42, "amount": 179.98}'""",
    }  # fmt: skip


def test_an_order_action_is_kept_under_the_order_in_its_path(client: FlaskClient) -> None:
    client.post("/payments/orders", json={"order_id": "back-1", "amount": 5})
    client.post("/payments/orders/back-1/refunds", json={"amount": 2})
    client.post("/payments/orders/back-1/decide")  # 409: nothing pending, kept all the same
    requests = [(e["order_id"], e["summary"]) for e in activity(client, "?kind=request")]
    assert requests == [
        ("back-1", "POST /payments/orders/back-1/decide 409"),
        ("back-1", "POST /payments/orders/back-1/refunds 200"),
        ("back-1", "POST /payments/orders 200")]  # fmt: skip
    assert len(activity(client, "?kind=request&order_id=back-1")) == 3


def test_each_decision_says_why(client: FlaskClient) -> None:
    client.put("/simulation", json={"rules": [{"order_id": "r", "decline_code": "lost_card"},
                                              {"next": 2, "decline_code": "do_not_honor"}]})  # fmt: skip
    client.post("/payments/orders", json={"order_id": "r", "amount": 1})
    client.post("/pay", json={"amount": 1, "recipient": "bob"})
    client.put("/simulation", json={"decline_rate": 1, "decline_code": "expired_card"})
    client.post("/pay/order", json={"order_id": "rate", "amount": 1})
    client.put("/simulation", json={})
    client.post("/payments/orders", json={"order_id": "big", "amount": 60000})
    client.post("/payments/orders", json={"order_id": "ok", "amount": 1})
    client.post("/payments/orders", json={"order_id": "ok", "amount": 1})
    client.post("/pay", json={"amount": 2, "recipient": "bob"})
    assert [e["summary"] for e in reversed(activity(client, "?kind=decision"))] == [
        "order r: declined (lost_card, simulation rule 1: order r)",
        "payment to bob: declined (do_not_honor, simulation rule 2: next, 1 left)",
        "order rate: declined (expired_card, simulation decline_rate 1)",
        "order big: insufficient funds",
        "order ok: paid",
        "order ok: already paid",
        "payment to bob: paid",
    ]


def test_a_refused_request_is_kept_as_a_request_and_nothing_else(client: FlaskClient) -> None:
    client.post("/payments/orders", data=b'{"order_id": 1, "amount": -5}')
    (entry,) = activity(client)
    assert (entry["kind"], entry["order_id"], entry["outcome"]) == ("request", 1, "400")
    assert entry["detail"]["request_body"] == '{"order_id": 1, "amount": -5}'
    assert json.loads(entry["detail"]["response_body"]) == {
        "status": "failed", "message": "Amount must be a positive number"}  # fmt: skip


def test_reads_pages_and_signature_checks_are_not_kept(client: FlaskClient) -> None:
    for path in ("/balance", "/transactions", "/callbacks", "/simulation", "/activity", "/"):
        client.get(path)
    session = client.post("/checkout/sessions", json={"order_id": "s", "amount": 1}).get_json()
    client.post(f"/checkout/{session['session']['id']}/pay",
                data={"number": "4242424242424242", "expiry": FUTURE, "cvc": "123"})  # fmt: skip
    delivery = client.get("/callbacks").get_json()["callbacks"][0]["id"]
    client.post(f"/callbacks/{delivery}/verify", json={"secret": "whsec_" + "A" * 32})
    assert [e["kind"] for e in reversed(activity(client))] == ["request", "decision", "callback"]
    text = client.get("/activity").get_data(as_text=True)
    assert "4242424242424242" not in text and "whsec_" not in text


def test_filters_since_and_limit(client: FlaskClient) -> None:
    for order in ("a", "b", "a"):
        client.post("/payments/orders", json={"order_id": order, "amount": 1})
    everything = activity(client)
    assert len(everything) == 8  # 2 paid, 1 already paid (no callback), 3 requests
    assert {e["order_id"] for e in activity(client, "?order_id=a")} == {"a"}
    assert [e["outcome"] for e in activity(client, "?order_id=a&kind=decision")] == [
        "already_paid", "paid"]  # fmt: skip
    assert [e["kind"] for e in activity(client, "?outcome=409")] == ["request"]
    assert activity(client, f"?since={everything[1]['seq']}") == everything[:1]
    assert activity(client, "?limit=2") == everything[:2]


@pytest.mark.parametrize(
    ("query", "message"),
    [("?kind=refund", "'kind' must be one of request, decision, callback, event, got 'refund'"),
     ("?since=-1", "'since' must be a whole number of at least 0, got '-1'"),
     ("?limit=0", "'limit' must be a whole number from 1 to 1000, got '0'"),
     ("?orderid=1", "'orderid' is not a query parameter of GET /activity; use kind, limit,"
                    " order_id, outcome, since")],
)  # fmt: skip
def test_a_bad_query_is_a_400(client: FlaskClient, query: str, message: str) -> None:
    answer = client.get("/activity" + query)
    assert (answer.status_code, answer.get_json()) == (
        400,
        {"status": "failed", "message": message},
    )


def test_the_log_keeps_the_newest_entries_only(make_client: MakeClient) -> None:
    client = make_client(activity_log_size=3)
    for number in range(4):
        client.post("/pay", json={"amount": 1, "recipient": f"r{number}"})
    assert [e["summary"] for e in activity(client)] == [
        "POST /pay 200", "payment to r3: paid", "POST /pay 200"]  # fmt: skip
    assert client.get("/activity").get_json()["kept"] == 3


def test_reset_forgets_the_activity(client: FlaskClient) -> None:
    client.post("/payments/orders", json={"order_id": 1, "amount": 1})
    client.post("/reset")
    assert brief(activity(client)) == [("request", None, "200", "POST /reset 200")]


def test_get_root_is_the_dashboard_for_a_browser_and_an_index_for_a_script(
    make_client: MakeClient,
) -> None:
    client = make_client()
    browser = client.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert (browser.status_code, browser.mimetype) == (200, "text/html")
    assert '<h2 id="activity-title">Activity</h2>' in browser.get_data(as_text=True)
    assert browser.headers["Vary"] == "Accept"
    for accept in ("*/*", "application/json", None):
        script = client.get("/", headers={"Accept": accept} if accept else {})
        assert script.get_json() == {
            "status": "success", "name": "payments_server", "version": "0.1.0",
            "dashboard": "http://localhost/dashboard", "openapi": "http://localhost/openapi.json",
            "apis": [
                {"id": "gateway", "title": "payments_server's own API",
                 "base_url": "http://localhost/", "docs": "docs/api.md"},
                {"id": "article", "title": "The article's hosted-payment gateway",
                 "base_url": "http://localhost/article", "docs": "docs/article.md"},
                {"id": "ticketing", "title": "The ticketing platform's payment service",
                 "base_url": "http://localhost/ticketing", "docs": "docs/ticketing.md"},
                {"id": "cardloader", "title": "The Braintree prepaid-card loader",
                 "base_url": "http://localhost/cardloader", "docs": "docs/cardloader.md"},
                {"id": "psp", "title": "The small PSP with payables",
                 "base_url": "http://localhost/psp", "docs": "docs/psp.md"},
            ],
        }  # fmt: skip
    off = make_client(dashboard=False)
    assert off.get("/", headers={"Accept": "text/html"}).get_json()["dashboard"] is None
    refused = off.get("/dashboard")
    assert (refused.status_code, refused.get_json()) == (
        404, {"status": "failed", "message": "The dashboard is turned off (--no-dashboard)"})  # fmt: skip


def test_the_dashboard_page_is_strict_and_escapes_what_it_shows(make_client: MakeClient) -> None:
    client = make_client(callback_url="http://127.0.0.1:9/<b>hook</b>")
    page = client.get("/dashboard")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    text = page.get_data(as_text=True)
    assert "&lt;b&gt;hook&lt;/b&gt;" in text and "<b>hook" not in text
    assert "<script>" not in text.replace(
        '<script src="/ui/static/dashboard.js" defer></script>', ""
    )
    assert client.get("/ui/static/dashboard.js").status_code == 200


def test_a_row_names_a_thing_once(client: FlaskClient, store: StoreStub) -> None:
    # A duplicate on purpose is a "duplicate" attempt, not "duplicate, duplicate on purpose";
    # a reason that starts with its code ("2000 Do Not Honor") is not "2000, 2000 ...".
    client.put("/simulation", json={"callback_faults": [{"fault": "duplicate", "order_id": "d"}]})
    client.post("/payments/orders", json={"order_id": "d", "amount": 1})
    store.wait_for(2)
    callbacks = [e["summary"] for e in reversed(activity(client, "?kind=callback"))]
    assert callbacks == [
        'callback "success" (first attempt, duplicate on purpose): 200 in '
        + callbacks[0].rsplit(" in ", 1)[1],
        'callback "success" (duplicate on purpose): 200 in ' + callbacks[1].rsplit(" in ", 1)[1],
    ]
    log = ActivityLog(EventBus())
    log.decided("order c", "c", 1, "declined", Decimal(0), Decline("2000", "2000 Do Not Honor"))
    log.decided("order e", "e", 1, "declined", Decimal(0), Decline("lost_card", "a test card"))
    assert [e.summary for e in log.newest_first()] == [
        "order e: declined (lost_card, a test card)",
        "order c: declined (2000 Do Not Honor)",
    ]
