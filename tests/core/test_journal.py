"""The state file: what is written for each change, and what comes back on start."""

from __future__ import annotations

import json
import logging
import os
import time
from decimal import Decimal
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from helpers import StartGateway, exact_json
from payments_server import Settings, create_app
from payments_server.core.journal import Journal, JournalError
from payments_server.testing import StoreStub

START_LINE = '{"event":"reset","balance":50000.00}\n'


def _views(client: FlaskClient, *orders: str) -> list[object]:
    """Balance, transactions and order records; the callback log is not kept in the file."""
    views = [exact_json(client.get(path).get_data()) for path in ("/balance", "/transactions")]
    for order in orders:
        record = exact_json(client.get(f"/payments/orders/{order}").get_data())
        assert isinstance(record, dict)
        views.append({key: value for key, value in record.items() if key != "callback"})
    return views


def test_a_new_file_starts_with_the_balance(open_gateway: StartGateway, state_file: Path) -> None:
    open_gateway()
    assert state_file.read_text() == START_LINE


def test_each_change_is_one_line_written_before_the_answer(
    open_gateway: StartGateway, state_file: Path
) -> None:
    client = open_gateway()
    client.post("/pay", data='{"amount": 12.50, "recipient": "bob"}')
    client.post("/payments/orders", data='{"order_id": 7, "amount": 100.000}')
    client.post("/payments/orders", data='{"order_id": "big", "amount": 1000000}')
    lines = [json.loads(line) for line in state_file.read_text().splitlines()]
    assert [line["event"] for line in lines] == ["reset", "payment", "order", "order"]
    assert lines[1] == {"event": "payment", "recipient": "bob", "amount": 12.5,
                        "balance_after": 49987.5}  # fmt: skip
    assert lines[2]["outcome"] == "paid" and lines[2]["order_id"] == 7
    assert lines[3]["outcome"] == "insufficient_funds" and "balance_after" not in lines[3]
    # Written with the exact digits, so the echo survives a restart.
    assert '"amount":100.000' in state_file.read_text()


def test_a_restart_gives_back_balance_transactions_orders_and_keys(
    open_gateway: StartGateway,
) -> None:
    first = open_gateway()
    first.put(
        "/simulation", json={"rules": [{"order_id": "declined", "decline_code": "lost_card"}]}
    )
    first.post("/pay", data='{"amount": 12.50, "recipient": "bob"}')
    key = {"Idempotency-Key": "checkout-1"}
    paid = first.post("/payments/orders", data='{"order_id": 7, "amount": 100.000}', headers=key)
    first.post("/payments/orders", data='{"order_id": "declined", "amount": 5}')
    first.post("/pay/order", data='{"order_id": "poor", "amount": 1e6}')
    before = _views(first, "7", "declined", "poor")

    second = open_gateway()
    assert _views(second, "7", "declined", "poor") == before
    assert before[0] == exact_json('{"status":"success","account_id":"ACC-001",'
                                   '"holder":"John Doe","balance":49887.5}')  # fmt: skip
    replay = second.post("/payments/orders", data='{"order_id": 7, "amount": 100.000}', headers=key)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_data() == paid.get_data()
    again = second.post("/payments/orders", data='{"order_id": 7, "amount": 100.000}')
    assert again.status_code == 409
    # Declines and insufficient funds are part of the order's history, not the balance.
    assert (
        second.post("/payments/orders", json={"order_id": "poor", "amount": 1}).status_code == 200
    )


def test_reset_compacts_the_file_to_one_line(open_gateway: StartGateway, state_file: Path) -> None:
    client = open_gateway()
    for number in range(5):
        client.post("/payments/orders", json={"order_id": number, "amount": 1})
    client.post("/reset", json={"balance": 100})
    assert state_file.read_text() == '{"event":"reset","balance":100}\n'
    client.post("/pay", json={"amount": 1, "recipient": "r"})
    restarted = open_gateway()
    assert restarted.get("/balance").get_json()["balance"] == 99.0
    assert restarted.post("/payments/orders", json={"order_id": 1, "amount": 1}).status_code == 200


def test_the_file_wins_over_the_initial_balance_but_reset_uses_the_setting(
    open_gateway: StartGateway,
) -> None:
    open_gateway().post("/pay", json={"amount": 1, "recipient": "r"})
    restarted = open_gateway(initial_balance=100)
    assert restarted.get("/balance").get_json()["balance"] == 49999.0
    assert restarted.post("/reset").get_json()["balance"] == 100.0


def test_a_torn_last_line_is_dropped_with_a_warning(
    open_gateway: StartGateway, state_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    open_gateway().post("/pay", json={"amount": 1, "recipient": "r"})
    with state_file.open("ab") as handle:
        handle.write(b'{"event":"payment","recipient":"r","amo')
    with caplog.at_level(logging.WARNING, logger="payments_server.journal"):
        restarted = open_gateway()
    assert restarted.get("/balance").get_json()["balance"] == 49999.0
    assert "ignored the torn last line 3 of the state file" in caplog.text
    # The torn bytes are cut off, so the next change starts a line of its own.
    restarted.post("/pay", json={"amount": 1, "recipient": "s"})
    assert [json.loads(line)["event"] for line in state_file.read_text().splitlines()] == [
        "reset", "payment", "payment",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (START_LINE + "not json\n" + START_LINE, "line 2 is not JSON"),
        (START_LINE + "[1]\n", "line 2 is not an event"),
        (START_LINE + '{"event":"chargeback"}\n', "line 2: unknown event 'chargeback'"),
        (START_LINE + '{"event":"refund","order_id":1,"amount":1,"at":"2026-11-22T10:00:00Z",'
         '"balance_after":50001}\n', "line 2: a refund of an order that is not paid"),
        (START_LINE + '{"event":"payment","recipient":"r","amount":1,"balance_after":5}\n',
         "line 2: balance_after 5 does not follow from the balance before it"
         " (50000.00 - 1 = 49999.00)"),
        (START_LINE + '{"event":"payment","recipient":"r","amount":-1,"balance_after":5}\n',
         "line 2: amount must be a positive number"),
        (START_LINE + '{"event":"payment","amount":1,"balance_after":49999}\n',
         "line 2: a payment without a recipient"),
        (START_LINE + '{"event":"order","order_id":1,"amount":1,"outcome":"won","at":"x"}\n',
         "line 2: an order event without a valid outcome and time"),
        (START_LINE + '{"event":"order","order_id":1,"amount":1,"outcome":"declined",'
         '"at":"2026-11-22T10:00:00.000Z","api":7}\n',
         "line 2: an order event with an api that is not text"),
        ('{"event":"reset","balance":10}\n'
         '{"event":"order","order_id":1,"amount":1,"outcome":"paid",'
         '"at":"2026-11-22T10:00:00.000Z","balance_after":9}\n'
         '{"event":"order","order_id":"1","amount":1,"outcome":"paid",'
         '"at":"2026-11-22T10:00:00.000Z","balance_after":8}\n',
         "line 3: order 1 is paid twice"),
        (START_LINE + '{"event":"idempotency","key":"k"}\n',
         "line 2: an idempotency event without key, fingerprint, status, body and at"),
        (START_LINE + '{"event":"session","id":"cs_1","order_id":[],"amount":1}\n',
         "line 2: a session without a valid id and order_id"),
        (START_LINE + '{"event":"session","id":"cs_1","order_id":1,"amount":0}\n',
         "line 2: session cs_1: Amount must be a positive number"),
        (START_LINE + '{"event":"session","id":"cs_1","order_id":1,"amount":1,'
         '"metadata":{},"attempts":[],"state":"gone"}\n',
         "line 2: session cs_1: an unknown state 'gone'"),
        (START_LINE + '{"event":"session","id":"cs_1","order_id":1,"amount":1,'
         '"metadata":{},"attempts":[],"state":"open","created_at":"2026-11-22T10:00:00"}\n',
         "line 2: session cs_1: created_at has no time zone"),
        (START_LINE + '{"event":"session","id":"cs_1","order_id":1,"amount":1,'
         '"metadata":{},"attempts":[7],"state":"open","created_at":"2026-11-22T10:00:00Z",'
         '"expires_at":"2026-11-22T10:30:00Z"}\n',
         "line 2: session cs_1: an attempt that is not an object"),
        (START_LINE + '{"event":"session","id":"cs_1","order_id":1,"amount":1,'
         '"metadata":[],"attempts":[]}\n',
         "line 2: session cs_1: a field of the wrong type"),
    ],
)  # fmt: skip
def test_any_other_damage_is_an_error_naming_the_line(
    store: StoreStub, state_file: Path, content: str, message: str
) -> None:
    state_file.write_text(content)
    with pytest.raises(JournalError) as caught:
        create_app(Settings(callback_url=store.url, state_file=str(state_file)))
    assert str(caught.value) == f"{state_file} {message}"
    assert state_file.read_text() == content  # nothing is changed or cut


def test_an_expired_idempotency_key_is_not_restored(
    open_gateway: StartGateway, state_file: Path
) -> None:
    key = {"Idempotency-Key": "old"}
    open_gateway().post("/pay", json={"amount": 1, "recipient": "r"}, headers=key)
    lines = state_file.read_text().splitlines()
    event = json.loads(lines[-1])
    event["at"] = time.time() - 25 * 3600
    state_file.write_text("\n".join([*lines[:-1], json.dumps(event)]) + "\n")
    restarted = open_gateway()
    again = restarted.post("/pay", json={"amount": 1, "recipient": "r"}, headers=key)
    assert "Idempotent-Replayed" not in again.headers
    assert restarted.get("/balance").get_json()["balance"] == 49998.0


def test_fsync_is_called_for_each_change_only_when_asked(
    open_gateway: StartGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    plain = open_gateway()
    plain.post("/pay", json={"amount": 1, "recipient": "r"})
    assert synced == []
    durable = open_gateway(fsync=True)
    durable.post("/pay", json={"amount": 1, "recipient": "r"})
    durable.post("/pay", json={"amount": 1, "recipient": "r"})
    assert len(synced) == 2


def test_journal_append_and_read_round_trip_exact_numbers(state_file: Path) -> None:
    journal = Journal(state_file)
    journal.append({"event": "x", "amount": Decimal("0.10")})
    journal.close()
    assert state_file.read_bytes() == b'{"event":"x","amount":0.10}\n'
    assert [str(line.event["amount"]) for line in journal.read()] == ["0.10"]


def test_an_unreadable_path_is_an_error(store: StoreStub, tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="cannot read the state file"):
        create_app(Settings(callback_url=store.url, state_file=str(tmp_path)))


def test_a_reset_that_cannot_be_written_forgets_nothing(
    open_gateway: StartGateway, state_file: Path, store: StoreStub
) -> None:
    client = open_gateway()
    key = {"Idempotency-Key": "k"}
    client.post("/payments/orders", json={"order_id": 1, "amount": 5}, headers=key)
    before = _views(client, "1")
    # The compacted file is written beside the old one and renamed over it: a directory
    # in the way of the temporary file makes that fail, as a full disk would.
    (state_file.parent / (state_file.name + ".tmp")).mkdir()
    refused = client.post("/reset")
    assert refused.status_code == 503
    assert refused.get_json()["message"].startswith(f"cannot write the state file {state_file}: ")
    assert _views(client, "1") == before
    assert client.get("/callbacks").get_json()["callbacks"] != []
    replay = client.post("/payments/orders", json={"order_id": 1, "amount": 5}, headers=key)
    assert replay.headers["Idempotent-Replayed"] == "true"
