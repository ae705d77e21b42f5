"""Checkout sessions in the state file: kept across a restart, expiring on time after it."""

from __future__ import annotations

import json
import logging
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from helpers import StartGateway
from payments_server import close_app
from payments_server.testing import StoreStub

FUTURE = f"12/{(datetime.now(UTC).year + 2) % 100:02d}"


def create(client: FlaskClient, **body: object) -> dict:  # type: ignore[type-arg]
    answer = client.post("/checkout/sessions", json={"amount": 25, **body})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()["session"]


def shown(client: FlaskClient, session: dict) -> dict:  # type: ignore[type-arg]
    return client.get(f"/checkout/sessions/{session['id']}").get_json()["session"]


def pay(client: FlaskClient, session: dict, number: str, cvc: str = "123") -> int:  # type: ignore[type-arg]
    data = {"number": number, "expiry": FUTURE, "cvc": cvc, "name": "Ada Lovelace"}
    return client.post(f"/checkout/{session['id']}/pay", data=data).status_code


def session_lines(state_file: Path) -> list[dict]:  # type: ignore[type-arg]
    lines = [json.loads(line) for line in state_file.read_text().splitlines()]
    return [line for line in lines if line["event"] == "session"]


def test_a_restart_gives_back_every_session_as_it_stood(
    open_gateway: StartGateway, store: StoreStub
) -> None:
    first = open_gateway()
    waiting = create(first, order_id=1, amount=10.50, metadata={"cart": "c-9"},
                     success_url="https://shop.test/ok/{CHECKOUT_SESSION_ID}")  # fmt: skip
    paid = create(first, order_id="P-1", description="Two mugs")
    declined = create(first, order_id="D-1")
    canceled = create(first, order_id="C-1")
    retried = create(first, order_id="R-1")
    assert pay(first, paid, "4242424242424242") == 303
    ended = first.post(f"/checkout/sessions/{declined['id']}/complete",
                       json={"outcome": "declined", "decline_code": "card_declined"})  # fmt: skip
    assert ended.status_code == 200
    first.post(f"/checkout/{canceled['id']}/cancel")
    # Declined on the page: still open, for another card, its attempt kept.
    assert pay(first, retried, "4000000000000002") == 303
    store.wait_for(3)
    before = [shown(first, s) for s in (waiting, paid, declined, canceled, retried)]
    listed = first.get("/checkout/sessions").get_json()

    second = open_gateway()
    after = [shown(second, s) for s in (waiting, paid, declined, canceled, retried)]
    # The callback log is not kept in the file: the link stays, its delivery state is gone.
    for session in before:
        if session["callback"] is not None:
            session["callback"]["state"] = None
    assert after == before
    assert [s["id"] for s in second.get("/checkout/sessions").get_json()["sessions"]] == [
        s["id"] for s in listed["sessions"]
    ]
    assert [s["state"] for s in after] == ["open", "paid", "failed", "canceled", "open"]
    assert [a["decline_code"] for a in after[4]["attempts"]] == ["card_declined"]
    assert len(store.received) == 3  # the open one after its decline has told nothing
    # The open one can still be paid, once, and the paid order stays paid.
    assert pay(second, waiting, "4242424242424242") == 303
    assert shown(second, waiting)["state"] == "paid"
    assert second.get("/balance").get_json()["balance"] == 49964.5
    again = second.post("/checkout/sessions", json={"order_id": "P-1", "amount": 25})
    assert again.status_code == 409


def test_a_checkout_payment_is_one_line_holding_the_order_and_the_session(
    open_gateway: StartGateway, state_file: Path, store: StoreStub
) -> None:
    client = open_gateway()
    session = create(client, order_id=7)
    before = state_file.read_text().splitlines()
    pay(client, session, "4242424242424242")
    store.wait_for(1)
    added = [json.loads(line) for line in state_file.read_text().splitlines()[len(before) :]]
    # One record: the order's paid attempt, with the session's paid version and the id of
    # the callback that tells the store, so a crash can never split them.
    [line] = added
    assert (line["event"], line["order_id"], line["outcome"], line["amount"]) == (
        "order", 7, "paid", 25)  # fmt: skip
    held = line["session"]
    assert (held["id"], held["state"], held["callback_id"]) == (
        session["id"], "paid", session_callback(client, session))  # fmt: skip
    [attempt] = held["attempts"]
    assert attempt == {"at": attempt["at"], "outcome": "paid", "decline_code": None,
                       "brand": "visa", "last4": "4242"}  # fmt: skip
    # The same moment, as each record writes it (the session to the microsecond).
    assert attempt["at"][:23] == line["at"][:23]
    assert [(s["state"], s["callback_id"]) for s in session_lines(state_file)] == [("open", None)]


def session_callback(client: FlaskClient, session: dict) -> str:  # type: ignore[type-arg]
    return shown(client, session)["callback"]["id"]


def test_no_card_number_or_cvc_reaches_the_file_or_the_log(
    open_gateway: StartGateway, state_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        client = open_gateway()
        for order, number in enumerate(("4242424242424242", "4000002760003184")):
            session = create(client, order_id=order)
            assert pay(client, session, number, cvc="7319") in (200, 303)
        client.post(f"/checkout/{session['id']}/authenticate", data={"action": "complete"})
    written = state_file.read_text() + caplog.text
    assert "4242424242424242" not in written and "4000002760003184" not in written
    assert not re.search(r"(?<![0-9a-f])7319(?![0-9a-f])", written)
    assert '"last4":"4242"' in written and '"last4":"3184"' in written


def _shift_expiry(state_file: Path, moves: dict[str, datetime]) -> None:
    """Rewrite when sessions expire, as if the gateway had been stopped for a while."""
    lines = [json.loads(line) for line in state_file.read_text().splitlines()]
    for line in lines:
        if line["event"] == "session" and line["id"] in moves:
            line["expires_at"] = moves[line["id"]].isoformat()
    state_file.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_an_open_session_still_expires_on_time_after_a_restart(
    open_gateway: StartGateway, state_file: Path, store: StoreStub
) -> None:
    first = open_gateway()
    overdue = create(first, order_id="late")
    soon = create(first, order_id="soon")
    close_app(first.application)
    now = datetime.now(UTC)
    due = now + timedelta(seconds=1.5)
    _shift_expiry(state_file, {overdue["id"]: now - timedelta(minutes=5), soon["id"]: due})

    second = open_gateway()
    # Its time passed while the gateway was stopped: expired at once, and the store told.
    assert store.wait_for(1)[0].body == b'{"order_id":"late","status":"failed"}'
    assert shown(second, overdue)["state"] == "expired"
    assert shown(second, soon)["state"] == "open"
    received = store.wait_for(2, timeout=5)
    expired_at = datetime.now(UTC)
    assert received[1].body == b'{"order_id":"soon","status":"failed"}'
    assert shown(second, soon)["state"] == "expired"
    assert timedelta(0) <= expired_at - due < timedelta(seconds=1)


def test_reset_forgets_sessions_in_the_file_too(
    open_gateway: StartGateway, state_file: Path
) -> None:
    first = open_gateway()
    session = create(first, order_id=1)
    first.post("/reset")
    assert session_lines(state_file) == []
    second = open_gateway()
    assert second.get(f"/checkout/sessions/{session['id']}").status_code == 404
    assert second.get("/checkout/sessions").get_json()["sessions"] == []


def test_a_crash_at_any_point_of_a_checkout_payment_leaves_session_and_ledger_agreeing(
    open_gateway: StartGateway, state_file: Path, store: StoreStub, tmp_path: Path
) -> None:
    client = open_gateway()
    session = create(client, order_id="c-1")
    before = len(state_file.read_bytes())
    assert pay(client, session, "4242424242424242") == 303
    written = state_file.read_bytes()
    seen = set()
    # A crash may stop the write anywhere: before the record, within it (a torn line, every
    # 50th byte and both ends), just before its newline, after it.
    for cut in sorted(
        {*range(before, len(written), 50), before + 1, len(written) - 1, len(written)}
    ):
        copy = tmp_path / f"cut-{cut}.jsonl"
        copy.write_bytes(written[:cut])
        restarted = open_gateway(state_file=str(copy))
        state = shown(restarted, session)["state"]
        order = restarted.get("/payments/orders/c-1")
        balance = restarted.get("/balance").get_json()["balance"]
        if state == "paid":
            assert order.get_json()["state"] == "paid" and balance == 49975.0, cut
        else:
            assert state == "open" and order.status_code == 404 and balance == 50000.0, cut
        seen.add(state)
    assert seen == {"open", "paid"}


def test_resets_racing_new_sessions_and_keys_leave_memory_and_the_file_agreeing(
    open_gateway: StartGateway,
) -> None:
    client = open_gateway()
    app = client.application
    done = threading.Event()

    def make_sessions(worker: int) -> None:
        own = app.test_client()
        number = 0
        while not done.is_set():
            number += 1
            own.post(
                "/checkout/sessions",
                json={"order_id": f"{worker}-{number}", "amount": 1},
                headers={"Idempotency-Key": f"key-{worker}-{number}"},
            )

    workers = [threading.Thread(target=make_sessions, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    for _ in range(60):
        assert client.post("/reset").status_code == 200
    done.set()
    for worker in workers:
        worker.join()
    listed = client.get("/checkout/sessions").get_json()["sessions"]
    # A restart gives back exactly what memory held: no forgotten session or key returns.
    restarted = open_gateway()
    back = restarted.get("/checkout/sessions").get_json()["sessions"]
    assert {s["id"] for s in back} == {s["id"] for s in listed}

    def replayed(gateway: FlaskClient, order_id: str) -> bool:
        answer = gateway.post(
            "/checkout/sessions",
            json={"order_id": order_id, "amount": 1},
            headers={"Idempotency-Key": f"key-{order_id}"},
        )
        return answer.headers.get("Idempotent-Replayed") == "true"

    tried = [f"{worker}-{number}" for worker in range(4) for number in range(1, 40)]
    assert [replayed(restarted, order_id) for order_id in tried] == [
        replayed(client, order_id) for order_id in tried
    ]
