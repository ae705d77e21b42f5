"""What live views and tests wait on: GET /events, the ?wait= long poll, and the callback
actions the dashboard offers (retry now, signature check)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from helpers import MakeClient
from payments_server.apis.web import EXTENSION_KEY
from payments_server.callbacks.signing import DEV_WEBHOOK_SECRET
from payments_server.testing import StoreStub

OTHER_SECRET = "whsec_" + "QUJD" * 8


def events(chunks: Iterator[bytes]) -> Iterator[tuple[str, dict[str, object] | None]]:
    """(event name, data) for each event of a stream, 'comment' for a heartbeat."""
    for chunk in chunks:
        for block in chunk.decode().split("\n\n"):
            if block.startswith(":"):
                yield "comment", None
                continue
            fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            if "data" in fields:
                yield fields.get("event", "message"), json.loads(fields["data"])


def test_the_stream_says_hello_then_a_notice_for_each_change(client: FlaskClient) -> None:
    stream = client.get("/events", buffered=False)
    assert stream.mimetype == "text/event-stream"
    chunks = iter(stream.response)
    assert next(chunks) == b"retry: 2000\n\n"  # at once, before anything happens
    seen = events(chunks)
    assert next(seen) == ("hello", {"seq": 0})
    client.post("/payments/orders", json={"order_id": 7, "amount": 1})
    got = [next(seen) for _ in range(3)]
    assert [(name, data["kind"], data["id"]) for name, data in got] == [  # type: ignore[index]
        ("message", "decision", "7"), ("message", "callback", "7"), ("message", "request", "7"),
    ]  # fmt: skip
    assert [data["seq"] for _, data in got] == [1, 2, 3]  # type: ignore[index]
    stream.close()


def test_last_event_id_resumes_or_asks_for_a_resync(client: FlaskClient) -> None:
    for number in range(2):
        client.post("/pay", json={"amount": 1, "recipient": f"r{number}"})
    resumed = events(
        iter(client.get("/events", headers={"Last-Event-ID": "2"}, buffered=False).response)
    )
    assert [next(resumed)[1]["seq"] for _ in range(2)] == [3, 4]  # type: ignore[index]
    bus = client.application.extensions[EXTENSION_KEY].events
    for _ in range(1001):
        bus.publish("request")
    stale = events(
        iter(client.get("/events", headers={"Last-Event-ID": "1"}, buffered=False).response)
    )
    assert next(stale) == ("resync", {"seq": bus.last})


def test_a_stream_ends_itself_after_its_lifetime(make_client: MakeClient) -> None:
    client = make_client(stream_lifetime=1)
    started = time.monotonic()
    body = client.get("/events").get_data()  # returns only when the stream ends
    assert 0.9 < time.monotonic() - started < 3
    assert body.startswith(b"retry: 2000\n\nevent: hello\n")


def test_an_open_sessions_stream_ends_after_its_lifetime_too(make_client: MakeClient) -> None:
    """A checkout page's stream holds a slot for a minute at most, not the session's life;
    its EventSource comes back for the session as it is then."""
    client = make_client(stream_lifetime=1)
    made = client.post("/checkout/sessions", json={"order_id": "s-1", "amount": 5}).get_json()
    started = time.monotonic()
    body = client.get(f"/checkout/sessions/{made['session']['id']}/events").get_data()
    assert 0.9 < time.monotonic() - started < 3
    assert body.startswith(b"event: session\n") and body.count(b"event: session") == 1


def test_beyond_the_cap_streams_are_refused_and_long_polls_answer_at_once(
    make_client: MakeClient,
) -> None:
    client = make_client(threads=4)  # a cap of 1
    held = client.get("/events", buffered=False)
    refused = client.get("/events")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "2"
    assert refused.get_json() == {"status": "failed", "message": "Too many open event streams"
                                  " (at most 1); poll GET /activity?since=<seq> every 2 s instead"}  # fmt: skip
    started = time.monotonic()
    assert client.get("/callbacks?wait=5").get_json()["callbacks"] == []
    assert time.monotonic() - started < 1
    held.close()
    assert client.get("/events", buffered=False).status_code == 200


def test_a_long_poll_answers_as_soon_as_the_callback_exists(client: FlaskClient) -> None:
    threading.Timer(
        0.3, lambda: client.post("/payments/orders", json={"order_id": "w", "amount": 1})
    ).start()
    started = time.monotonic()
    listed = client.get("/callbacks?order_id=w&wait=5").get_json()["callbacks"]
    waited = time.monotonic() - started
    assert [(c["order_id"], c["payment_status"]) for c in listed] == [("w", "success")]
    assert 0.25 < waited < 2
    started = time.monotonic()
    assert client.get("/callbacks?order_id=none&wait=0.5").get_json()["callbacks"] == []
    assert 0.45 < time.monotonic() - started < 2


@pytest.mark.parametrize("wait", ["31", "30.5", "-1", "abc", "1e1", "5.1234", "030"])
def test_a_bad_wait_is_a_400(client: FlaskClient, wait: str) -> None:
    answer = client.get(f"/callbacks?wait={wait}")
    assert (answer.status_code, answer.get_json()["message"]) == (
        400, f"'wait' must be a number of seconds from 0 to 30, got {wait!r}")  # fmt: skip


def test_retry_now_makes_the_scheduled_retry_and_counts_it(
    make_client: MakeClient, store: StoreStub
) -> None:
    client = make_client(callback_schedule=(60.0,), callback_retries=2)
    store.respond_with(500)
    client.post("/payments/orders", json={"order_id": 1, "amount": 1})
    (pending,) = client.get("/callbacks").get_json()["callbacks"]
    assert pending["state"] == "pending" and pending["next_attempt_at"] is not None
    first = client.post(f"/callbacks/{pending['id']}/retry-now").get_json()
    assert first["message"] == f"Callback {pending['id']} not delivered: store answered 500"
    assert (first["callback"]["state"], len(first["callback"]["attempts"])) == ("pending", 2)
    last = client.post(f"/callbacks/{pending['id']}/retry-now").get_json()
    # The second retry was the schedule's last: counted, so the callback has failed.
    assert (last["callback"]["state"], last["callback"]["next_attempt_at"]) == ("failed", None)
    assert len(store.received) == 3
    refused = client.post(f"/callbacks/{pending['id']}/retry-now")
    assert (refused.status_code, refused.get_json()["message"]) == (
        409, f"Callback {pending['id']} has failed, not waiting for a retry")  # fmt: skip
    assert client.post("/callbacks/msg_nope/retry-now").status_code == 404


def test_the_signature_check_says_yes_only_for_the_bytes_sent(
    client: FlaskClient, store: StoreStub
) -> None:
    client.post("/payments/orders", json={"order_id": 1, "amount": 1})
    (received,) = store.received
    delivery = received.headers["webhook-id"]
    path = f"/callbacks/{delivery}/verify"
    signed = f"{delivery}.{received.headers['webhook-timestamp']}.{received.body.decode()}"
    right = client.post(path, json={"secret": DEV_WEBHOOK_SECRET}).get_json()
    assert right == {
        "status": "success", "valid": True, "attempt": 1,
        "message": "The signature this secret makes matches the one sent",
        "signed_content": signed, "sent_signature": received.headers["webhook-signature"],
        "checked_signature": received.headers["webhook-signature"],
    }  # fmt: skip
    wrong = client.post(path, json={"secret": OTHER_SECRET}).get_json()
    assert (wrong["valid"], wrong["message"]) == (
        False, "The signature this secret makes does not match the one sent")  # fmt: skip
    pasted = client.post(path, json={"signature": received.headers["webhook-signature"]})
    assert pasted.get_json()["valid"] is True
    assert client.post(path, json={"signature": "v1,AAAA"}).get_json()["valid"] is False
    not_a_secret = client.post(path, json={"secret": "abc"}).get_json()
    assert (not_a_secret["valid"], not_a_secret["checked_signature"]) == (False, None)
    assert not_a_secret["message"] == (
        "This is not a secret anything signs with (it must start with whsec_): it does not"
        " match the one sent"
    )


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [({}, 400, 'Body must be {"signature": "v1,..."} or {"secret": "whsec_..."}, with an'
               ' optional "attempt" number'),
     ({"signature": "v1,x", "secret": DEV_WEBHOOK_SECRET}, 400, None),
     ({"signature": 5}, 400, None),
     ({"secret": DEV_WEBHOOK_SECRET, "attempt": 2}, 404, "Callback {id} has no attempt 2; it has 1 (1 to 1)"),
     ({"secret": DEV_WEBHOOK_SECRET, "attempt": 0}, 404, "Callback {id} has no attempt 0; it has 1 (1 to 1)"),
     ({"secret": DEV_WEBHOOK_SECRET, "attempt": True}, 400, "'attempt' must be a whole number: 1 is the first attempt")],
)  # fmt: skip
def test_a_bad_signature_check_is_a_400(
    client: FlaskClient, body: dict[str, object], status: int, message: str | None
) -> None:
    client.post("/payments/orders", json={"order_id": 1, "amount": 1})
    delivery = client.get("/callbacks").get_json()["callbacks"][0]["id"]
    answer = client.post(f"/callbacks/{delivery}/verify", json=body)
    assert answer.status_code == status
    if message is not None:
        assert answer.get_json() == {
            "status": "failed",
            "message": message.replace("{id}", delivery),
        }
