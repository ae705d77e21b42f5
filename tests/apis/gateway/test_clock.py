"""GET/PUT /clock and POST /clock/advance: every timer runs on one clock a test moves."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from flask.testing import FlaskClient

from helpers import ISO_MILLIS, MakeClient
from payments_server.testing import StoreStub


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def frozen(make_client: MakeClient) -> FlaskClient:
    """A gateway started with --clock frozen."""
    return make_client(clock="frozen", callback_schedule=(1.0, 5.0, 30.0, 120.0, 600.0))


def advance(client: FlaskClient, seconds: float) -> dict:  # type: ignore[type-arg]
    answer = client.post("/clock/advance", json={"seconds": seconds})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()  # type: ignore[no-any-return]


def test_the_clock_runs_on_real_time_by_default(client: FlaskClient) -> None:
    body = client.get("/clock").get_json()
    assert body["status"] == "success" and ISO_MILLIS.fullmatch(body["now"])
    assert (body["frozen"], body["real_time"], body["scheduled"]) == (False, True, [])


def test_put_freezes_and_unfreezes_and_a_frozen_clock_stands_still(client: FlaskClient) -> None:
    frozen = client.put("/clock", json={"frozen": True}).get_json()
    assert (frozen["frozen"], frozen["real_time"]) == (True, False)
    assert client.get("/clock").get_json()["now"] == frozen["now"]
    running = client.put("/clock", json={"frozen": False}).get_json()
    assert running["frozen"] is False and at(running["now"]) >= at(frozen["now"])


@pytest.mark.parametrize(
    "body",
    [{}, {"seconds": 0}, {"seconds": -1}, {"seconds": "60"}, {"seconds": True},
     {"seconds": 366 * 86400 + 1}, {"seconds": 1, "to": "2030-01-01T00:00:00Z"},
     {"to": "2030-01-01T00:00:00"}, {"to": "2030-02-30T00:00:00Z"}, {"to": "tomorrow"},
     {"to": 5}, {"minutes": 5}],
)  # fmt: skip
def test_a_bad_advance_is_a_400_and_moves_nothing(frozen: FlaskClient, body: object) -> None:
    before = frozen.get("/clock").get_json()["now"]
    answer = frozen.post("/clock/advance", json=body)
    assert answer.status_code == 400
    assert answer.get_json() == {
        "status": "failed",
        "message": 'Body must be {"seconds": N} with N a number of seconds above 0 and at most'
        ' 31622400, or {"to": "<RFC 3339 time with a zone>"}',
    }
    assert frozen.get("/clock").get_json()["now"] == before


def test_advance_to_a_time_reads_rfc_3339_and_a_passed_time_moves_nothing(
    frozen: FlaskClient,
) -> None:
    now = at(frozen.get("/clock").get_json()["now"])
    later = (now + timedelta(hours=2)).astimezone(timezone(timedelta(hours=-5)))
    moved = frozen.post("/clock/advance", json={"to": later.isoformat().replace("T", "t")})
    assert at(moved.get_json()["now"]) == now + timedelta(hours=2)
    past = frozen.post("/clock/advance", json={"to": "2020-01-01T00:00:00.123456789Z"})
    assert (past.status_code, past.get_json()["ran"]) == (200, [])
    assert at(past.get_json()["now"]) == now + timedelta(hours=2)
    far = frozen.post("/clock/advance", json={"to": "2999-01-01T00:00:00Z"})
    assert far.status_code == 422
    assert far.get_json() == {
        "status": "failed",
        "message": "'to' is more than 31622400 seconds after the clock's now",
    }


@pytest.mark.parametrize(
    "body",
    [{}, {"frozen": "yes"}, {"frozen": True, "now": 1}, [True], {"real_time": False},
     {"real_time": True, "frozen": False}, {"real_time": 1}],
)  # fmt: skip
def test_a_bad_put_is_a_400(client: FlaskClient, body: object) -> None:
    answer = client.put("/clock", json=body)
    assert answer.status_code == 400
    assert answer.get_json()["message"] in {
        'Body must be {"frozen": true}, {"frozen": false} or {"real_time": true}',
        "Request body must be a JSON object",
    }
    assert client.get("/clock").get_json()["frozen"] is False


def test_back_to_real_time_catches_a_clock_that_is_behind_up_running_what_falls_due(
    make_client: MakeClient, store: StoreStub
) -> None:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    client = make_client(clock="frozen", clock_start=an_hour_ago)
    created = client.post(
        "/checkout/sessions", json={"order_id": "r-1", "amount": 5, "expires_in": 900}
    ).get_json()["session"]
    answer = client.put("/clock", json={"real_time": True})
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["frozen"], body["real_time"], body["scheduled"]) == (False, True, [])
    assert body["ran"] == [{"kind": "session_expiry", "id": created["id"],
                            "due_at": created["expires_at"]}]  # fmt: skip
    assert at(body["now"]) >= datetime.now(UTC) - timedelta(seconds=5)
    assert [callback.json for callback in store.received] == [
        {"order_id": "r-1", "status": "failed"}
    ]
    assert client.get("/clock").get_json()["real_time"] is True


def test_back_to_real_time_is_refused_for_a_clock_ahead_of_it_and_changes_nothing(
    frozen: FlaskClient,
) -> None:
    advance(frozen, 2 * 3600 + 5 * 60)
    before = frozen.get("/clock").get_json()
    answer = frozen.put("/clock", json={"real_time": True})
    assert answer.status_code == 409
    message = answer.get_json()["message"]
    # Frozen a moment ago at real time, then 2 h 5 min on: ahead by that, to the minute.
    assert message == (
        "The clock is 2 h 5 min ahead of real time and never goes back: what ran on the way"
        " would have run in the future. POST /reset starts it over where it started (with"
        ' the account), or {"frozen": false} lets it run on from where it is'
    )
    assert frozen.get("/clock").get_json() == before


def test_a_session_expires_when_the_clock_reaches_it(frozen: FlaskClient, store: StoreStub) -> None:
    created = frozen.post(
        "/checkout/sessions", json={"order_id": "s-1", "amount": 25, "expires_in": 900}
    ).get_json()["session"]
    [job] = frozen.get("/clock").get_json()["scheduled"]
    assert job == {"kind": "session_expiry", "id": created["id"], "due_at": created["expires_at"]}
    assert advance(frozen, 899)["ran"] == []
    assert (
        frozen.get(f"/checkout/sessions/{created['id']}").get_json()["session"]["state"] == "open"
    )
    assert advance(frozen, 1)["ran"] == [job]
    # The answer comes after the expiry and its callback: nothing to wait for.
    assert [callback.json for callback in store.received] == [
        {"order_id": "s-1", "status": "failed"}
    ]
    session = frozen.get(f"/checkout/sessions/{created['id']}").get_json()["session"]
    assert session["state"] == "expired"


def test_a_pending_payment_is_decided_an_hour_later(frozen: FlaskClient, store: StoreStub) -> None:
    rule = {"order_id": "p-1", "outcome": "pending", "decide_after_ms": 3_600_000}
    assert frozen.put("/simulation", json={"rules": [rule]}).status_code == 200
    assert (
        frozen.post("/payments/orders", json={"order_id": "p-1", "amount": 10}).status_code == 202
    )
    assert advance(frozen, 3599)["ran"] == [] and store.received == []
    ran = advance(frozen, 1)["ran"]
    assert [(job["kind"], job["id"]) for job in ran] == [("pending_payment", "p-1")]
    assert [callback.json for callback in store.received] == [
        {"order_id": "p-1", "status": "success"}
    ]
    assert frozen.get("/balance").get_json()["balance"] == Decimal("49990.0")
    assert frozen.get("/payments/orders/p-1").get_json()["state"] == "paid"


def test_five_retries_run_on_schedule_during_one_advance(
    frozen: FlaskClient, store: StoreStub
) -> None:
    store.respond_with(500)
    paid = frozen.post("/payments/orders", json={"order_id": "r-1", "amount": 5}).get_json()
    assert paid["shop_notified"] is False
    [delivery] = frozen.get("/callbacks").get_json()["callbacks"]
    ran = advance(frozen, 24 * 3600)["ran"]
    assert [(job["kind"], job["id"]) for job in ran] == [("callback", delivery["id"])] * 5
    assert len(store.received) == 6
    assert {callback.headers["webhook-id"] for callback in store.received} == {delivery["id"]}
    final = frozen.get(f"/callbacks/{delivery['id']}").get_json()["callback"]
    assert (final["state"], len(final["attempts"]), final["next_attempt_at"]) == ("failed", 6, None)
    # Each retry was made when it fell due, as the gateway's clock saw it: about 1, 5, 30,
    # 120 and 600 s apart (20 % jitter).
    times = [at(attempt["at"]) for attempt in final["attempts"]]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    for gap, step in zip(gaps, (1, 5, 30, 120, 600), strict=True):
        assert step * 0.8 <= gap <= step * 1.2
    assert [job["due_at"] for job in ran] == [attempt["at"] for attempt in final["attempts"][1:]]


def test_the_spending_day_follows_the_clock(frozen: FlaskClient) -> None:
    assert frozen.put("/simulation", json={"limit_per_day": 100}).status_code == 200
    assert frozen.post("/pay", json={"amount": 80, "recipient": "a"}).status_code == 200
    refused = frozen.post("/pay", json={"amount": 30, "recipient": "a"})
    assert (refused.status_code, refused.get_json()["detail"]) == (
        402,
        "80.00 + 30.00 > 100.00 (1 day)",
    )
    advance(frozen, 24 * 3600)
    assert frozen.post("/pay", json={"amount": 30, "recipient": "a"}).status_code == 200


def test_times_shown_follow_the_clock(frozen: FlaskClient, store: StoreStub) -> None:
    start = at(frozen.get("/clock").get_json()["now"])
    advance(frozen, 3 * 86400)
    frozen.post("/payments/orders", json={"order_id": "t-1", "amount": 5})
    record = frozen.get("/payments/orders/t-1").get_json()
    [callback] = frozen.get("/callbacks").get_json()["callbacks"]
    entries = frozen.get("/activity?kind=decision").get_json()["activity"]
    later = start + timedelta(days=3)
    assert at(record["attempts"][0]["at"]) == later
    assert at(callback["attempts"][0]["at"]) == later
    assert at(entries[0]["at"]) == later
    # The signature's timestamp is real time, so the store's own check accepts it.
    [received] = store.received
    assert received.signature_valid


def test_reset_puts_the_clock_back_where_it_started(frozen: FlaskClient) -> None:
    before = at(frozen.get("/clock").get_json()["now"])
    advance(frozen, 86400)
    frozen.post("/reset")
    after = frozen.get("/clock").get_json()
    assert after["frozen"] is True and after["scheduled"] == []
    assert at(after["now"]) - before < timedelta(hours=1)


def test_idempotency_keys_are_kept_a_day_of_the_clock(frozen: FlaskClient) -> None:
    headers = {"Idempotency-Key": "k-1"}
    body = {"amount": 1, "recipient": "a"}
    first = frozen.post("/pay", json=body, headers=headers)
    advance(frozen, 24 * 3600 - 1)
    replay = frozen.post("/pay", json=body, headers=headers)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.get_data() == first.get_data()
    advance(frozen, 1)
    fresh = frozen.post("/pay", json=body, headers=headers)
    assert "Idempotent-Replayed" not in fresh.headers
    assert fresh.get_json()["balance"] == Decimal("49998.0")


def test_a_payment_decided_through_the_api_leaves_nothing_scheduled(frozen: FlaskClient) -> None:
    rule = {"order_id": "d-1", "outcome": "pending", "decide_after_ms": 60_000}
    frozen.put("/simulation", json={"rules": [rule]})
    frozen.post("/payments/orders", json={"order_id": "d-1", "amount": 1})
    assert [job["kind"] for job in frozen.get("/clock").get_json()["scheduled"]] == [
        "pending_payment"
    ]
    assert frozen.post("/payments/orders/d-1/decide").status_code == 200
    assert frozen.get("/clock").get_json()["scheduled"] == []
