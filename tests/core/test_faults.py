"""Webhook faults on purpose (PUT /simulation "callback_faults"): what the store receives."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient

from helpers import MakeClient
from payments_server.callbacks.signing import DEV_WEBHOOK_SECRET
from payments_server.testing import StoreStub

FAST_RETRIES = {"callback_schedule": (0.05,), "callback_retries": 2}


def faults(client: FlaskClient, *entries: dict[str, object]) -> None:
    answer = client.put("/simulation", json={"callback_faults": list(entries)})
    assert answer.status_code == 200, answer.get_json()


def pay(client: FlaskClient, order_id: object) -> dict:  # type: ignore[type-arg]
    return client.post("/payments/orders", json={"order_id": order_id, "amount": 1}).get_json()


def attempts(client: FlaskClient, order_id: str) -> list[dict]:  # type: ignore[type-arg]
    (delivery,) = client.get(f"/callbacks?order_id={order_id}").get_json()["callbacks"]
    return delivery["attempts"]


def test_duplicate_delivers_the_same_event_twice(client: FlaskClient, store: StoreStub) -> None:
    faults(client, {"fault": "duplicate", "order_id": "d"})
    assert pay(client, "d")["shop_notified"] is True
    first, second = store.received
    assert (first.body, first.headers["webhook-id"]) == (second.body, second.headers["webhook-id"])
    assert first.signature_valid and second.signature_valid
    assert [a.get("fault") for a in attempts(client, "d")] == ["duplicate", "duplicate"]
    # What a store that deduplicates by webhook-id handles: the event once.
    store.assert_each_event_once([{"order_id": "d", "status": "success"}])
    with pytest.raises(AssertionError, match=r"deliveries per webhook-id: \{'msg_[0-9a-f]+': 2\}"):
        store.assert_each_event_once([])
    pay(client, "other")  # only the order named
    assert len(store.received) == 3


def advance(client: FlaskClient, seconds: float) -> list[str]:
    """Move the gateway's clock on; the kinds of what ran on the way."""
    ran = client.post("/clock/advance", json={"seconds": seconds}).get_json()["ran"]
    return [job["kind"] for job in ran]


def test_delay_holds_the_first_attempt_back(make_client: MakeClient, store: StoreStub) -> None:
    client = make_client(clock="frozen")
    faults(client, {"fault": "delay", "next": 1, "delay_ms": 300})
    answer = pay(client, "late")
    assert answer["shop_notified"] is False and store.received == []
    assert advance(client, 0.299) == [] and store.received == []
    assert advance(client, 0.001) == ["callback"]
    (received,) = store.received
    assert received.signature_valid
    tried = attempts(client, "late")
    assert [(a["fault"], a["status_code"]) for a in tried] == [("delay", 200)]
    pay(client, "on-time")  # the next rule was used up
    assert store.wait_for(2)[1].json == {"order_id": "on-time", "status": "success"}


def test_drop_never_sends_the_first_attempt_and_a_retry_delivers_it(
    make_client: MakeClient, store: StoreStub
) -> None:
    client = make_client(**FAST_RETRIES, clock="frozen")
    faults(client, {"fault": "drop", "order_id": 5})
    assert pay(client, 5)["shop_notified"] is False
    assert store.received == []
    assert advance(client, 1) == ["callback"]
    (received,) = store.received
    assert received.json == {"order_id": 5, "status": "success"}
    tried = attempts(client, "5")
    assert [(a.get("fault"), a["error"]) for a in tried] == [
        ("drop", "dropped on purpose (simulation): never sent"), (None, None)]  # fmt: skip


@pytest.mark.parametrize("fault", ["bad_signature", "stale_timestamp"])
def test_a_badly_signed_first_attempt_fails_verification_and_the_retry_is_sound(
    make_client: MakeClient, store: StoreStub, fault: str
) -> None:
    client = make_client(**FAST_RETRIES)
    faults(client, {"fault": fault, "rate": 1})
    store.respond_with(200, then=[400])  # a store that checks signatures refuses it
    pay(client, "s")
    bad, good = store.wait_for(2)
    assert (bad.signature_valid, good.signature_valid) == (False, True)
    assert bad.headers["webhook-id"] == good.headers["webhook-id"]
    if fault == "stale_timestamp":
        assert int(good.headers["webhook-timestamp"]) - int(bad.headers["webhook-timestamp"]) >= 600
    delivery = bad.headers["webhook-id"]
    # What the dashboard shows is what was sent, and the check says it does not match.
    shown = client.get(f"/callbacks/{delivery}").get_json()["callback"]["attempts"][0]
    assert shown["request"]["headers"]["webhook-signature"] == bad.headers["webhook-signature"]
    assert shown["request"]["headers"]["webhook-timestamp"] == bad.headers["webhook-timestamp"]
    check = client.post(
        f"/callbacks/{delivery}/verify", json={"secret": DEV_WEBHOOK_SECRET, "attempt": 1}
    )
    assert check.get_json()["valid"] is (fault == "stale_timestamp")  # stale is signed right


@pytest.mark.parametrize(
    ("entry", "message"),
    [({"fault": "lose"}, "'callback_faults[0].fault' must be one of duplicate, delay, drop,"
                         " reorder, bad_signature, stale_timestamp"),
     ({"fault": "reorder", "next": 1, "delay_ms": 0}, "'callback_faults[0].delay_ms' must be"
                                                      " an integer from 1 to 60000"),
     ({"fault": "drop"}, None),
     ({"fault": "drop", "next": 1, "rate": 1}, None),
     ({"fault": "drop", "next": 1, "delay_ms": 5}, None),
     ({"fault": "delay", "next": 1}, "'callback_faults[0].delay_ms' must be an integer from 1"
                                     " to 60000"),
     ({"fault": "drop", "rate": 2}, "'callback_faults[0].rate' must be a number from 0 to 1"),
     ({"fault": "drop", "next": 0}, "'callback_faults[0].next' must be an integer from 1 to"
                                    " 1000000")],
)  # fmt: skip
def test_a_bad_fault_is_a_400_and_changes_nothing(
    client: FlaskClient, entry: dict[str, object], message: str | None
) -> None:
    before = client.get("/simulation").get_json()
    answer = client.put("/simulation", json={"callback_faults": [entry]})
    assert answer.status_code == 400
    expected = message or (
        '\'callback_faults[0]\' must be {"fault": ..., "order_id": ...}, {"fault": ...,'
        ' "next": N} or {"fault": ..., "rate": 0 to 1}, with "delay_ms" for a delay (required)'
        " or a reorder (optional) and only for them"
    )
    assert answer.get_json()["message"] == expected
    assert client.get("/simulation").get_json() == before


def test_faults_show_in_the_simulation_and_a_next_fault_counts_down(client: FlaskClient) -> None:
    faults(
        client,
        {"fault": "duplicate", "next": 2},
        {"fault": "delay", "rate": 0.5, "delay_ms": 10},
        {"fault": "reorder", "order_id": "r"},
    )
    assert client.get("/simulation").get_json()["simulation"]["callback_faults"] == [
        {"fault": "duplicate", "next": 2}, {"fault": "delay", "rate": 0.5, "delay_ms": 10},
        {"fault": "reorder", "order_id": "r", "delay_ms": 10000}]  # fmt: skip
    pay(client, 1)
    assert client.get("/simulation").get_json()["simulation"]["callback_faults"][0] == {
        "fault": "duplicate", "next": 1}  # fmt: skip


def refund(client: FlaskClient, order_id: str) -> dict:  # type: ignore[type-arg]
    answer = client.post(f"/payments/orders/{order_id}/refunds", json={"notify_store": True})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_reorder_delivers_the_later_event_first(
    client: FlaskClient, store: StoreStub, caplog: pytest.LogCaptureFixture
) -> None:
    faults(client, {"fault": "reorder", "order_id": "r"})
    with caplog.at_level(logging.INFO, logger="payments_server.callbacks"):
        assert pay(client, "r")["shop_notified"] is False
    pay(client, "other")  # another order's event does not release it
    assert [c.json["order_id"] for c in store.received] == ["other"]
    assert refund(client, "r")["shop_notified"] is True
    assert [c.json for c in store.received[1:]] == [
        {"order_id": "r", "status": "refunded", "amount": 1, "amount_refunded": 1.0},
        {"order_id": "r", "status": "success"}]  # fmt: skip
    assert all(c.signature_valid for c in store.received)
    listed = client.get("/callbacks?order_id=r").get_json()["callbacks"]
    by_status = {d["payment_status"]: d for d in listed}
    assert [(a.get("fault"), a["status_code"]) for a in by_status["success"]["attempts"]] == [
        ("reorder", 200)]  # fmt: skip
    assert [a.get("fault") for a in by_status["refunded"]["attempts"]] == [None]
    assert by_status["success"]["state"] == by_status["refunded"]["state"] == "delivered"
    held = "first attempt held until the order's next event is sent (at most 10000 ms)"
    assert f"order r success: {held} on purpose (simulation)" in caplog.text


def test_a_reorder_with_no_later_event_is_sent_alone_when_its_wait_ends(
    make_client: MakeClient, store: StoreStub
) -> None:
    client = make_client(clock="frozen")
    faults(client, {"fault": "reorder", "next": 1, "delay_ms": 200})
    pay(client, "alone")
    assert advance(client, 0.199) == [] and store.received == []
    assert advance(client, 0.001) == ["callback"]
    (received,) = store.received
    assert received.json == {"order_id": "alone", "status": "success"}
    tried = attempts(client, "alone")
    assert [(a["fault"], a["status_code"]) for a in tried] == [("reorder", 200)]
    refund(client, "alone")  # the next rule was used up, and nothing waits: sent at once
    assert store.wait_for(2)[1].json["status"] == "refunded"


def test_a_reset_forgets_a_held_reorder(make_client: MakeClient, store: StoreStub) -> None:
    client = make_client(clock="frozen")
    faults(client, {"fault": "reorder", "order_id": "gone", "delay_ms": 100})
    pay(client, "gone")
    assert client.post("/reset").status_code == 200
    assert advance(client, 1) == []
    assert store.received == []  # never sent
    pay(client, "gone")  # a payment of the same id: held again, not taken for a later event
    assert store.received == []
    assert advance(client, 0.1) == ["callback"]
    assert advance(client, 86400) == []
    assert [c.json for c in store.received] == [{"order_id": "gone", "status": "success"}]
