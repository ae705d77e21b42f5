"""A corpus of malformed requests (tests/data/malformed.json) replayed on the real server."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway_process import GatewayProcess
from payments_server.testing import StoreStub

CORPUS = json.loads((Path(__file__).parents[1] / "data" / "malformed.json").read_text("utf-8"))
REQUESTS: list[dict[str, Any]] = CORPUS["requests"]
MERCHANT = {"x-customer-id": "m-1"}
PSP_TRANSACTION = {"description": "x", "amount": 100, "payment_method": "credit_card",
                   "card_number": "4111111111111111", "card_holder_name": "A",
                   "card_expiration_date": "12/99", "card_verification_code": "123"}  # fmt: skip


def _body(entry: dict[str, Any]) -> bytes | None:
    if "body_hex" in entry:
        return bytes.fromhex(entry["body_hex"])
    if "body_repeat" in entry:
        text, times = entry["body_repeat"]
        return (text * times).encode()
    return None if entry.get("body") is None else entry["body"].encode()


def _state(url: str, store: StoreStub) -> dict[str, object]:
    views = ("/balance", "/transactions", "/callbacks", "/simulation", "/payments/orders/o-1",
             "/checkout/sessions", "/cardloader/cards/", "/psp/transactions", "/psp/payables")  # fmt: skip
    state: dict[str, object] = {
        path: requests.get(url + path, headers=MERCHANT, timeout=5).text for path in views
    }
    state["store"] = len(store.received)
    return state


def test_the_corpus_is_large_and_every_entry_is_complete() -> None:
    assert len(REQUESTS) >= 60
    assert len({entry["name"] for entry in REQUESTS}) == len(REQUESTS)
    for entry in REQUESTS:
        assert 400 <= entry["status"] < 500, entry["name"]


@pytest.fixture(scope="module")
def live() -> Any:
    with StoreStub() as store, GatewayProcess("--callback-url", store.url) as gateway:
        # Some state to keep: a payment, a paid order with its callback, a simulation rule,
        # and two checkout sessions, one open and one canceled.
        requests.post(gateway.url + "/pay", json={"amount": 12.5, "recipient": "r"}, timeout=5)
        requests.post(gateway.url + "/payments/orders", json={"order_id": "o-1", "amount": 7}, timeout=5)  # fmt: skip
        rule = {"rules": [{"order_id": "blocked", "decline_code": "lost_card"}]}
        requests.put(gateway.url + "/simulation", json=rule, timeout=5)
        sessions = [
            requests.post(
                gateway.url + "/checkout/sessions",
                json={"order_id": f"c-{n}", "amount": 3},
                timeout=5,
            ).json()["session"]["id"]
            for n in range(2)
        ]
        requests.post(f"{gateway.url}/checkout/sessions/{sessions[1]}/complete", json={"outcome": "canceled"}, timeout=5)  # fmt: skip
        store.wait_for(2)
        # A card load and a PSP transaction, with its payable.
        requests.post(gateway.url + "/cardloader/cards/1/load/",
                      json={"nonce": "fake-valid-nonce", "amount": "10.00"}, timeout=5)  # fmt: skip
        psp = requests.post(gateway.url + "/psp/transactions", json=PSP_TRANSACTION,
                            headers=MERCHANT, timeout=5).json()["id"]  # fmt: skip
        yield gateway, store, {"{OPEN_SESSION}": sessions[0], "{FINISHED_SESSION}": sessions[1],
                               "{PSP_TRANSACTION}": psp}  # fmt: skip


@pytest.mark.parametrize("entry", REQUESTS, ids=[entry["name"] for entry in REQUESTS])
def test_a_malformed_request_gets_a_json_4xx_and_changes_nothing(
    live: tuple[GatewayProcess, StoreStub, dict[str, str]], entry: dict[str, Any]
) -> None:
    gateway, store, sessions = live
    path = entry["path"]
    for placeholder, session_id in sessions.items():
        path = path.replace(placeholder, session_id)
    before = _state(gateway.url, store)
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    headers = {"Content-Type": "application/json", **entry.get("headers", {})}
    connection.request(entry["method"], path, body=_body(entry), headers=headers)
    response = connection.getresponse()
    raw = response.read()
    connection.close()
    assert response.status == entry["status"], raw
    content_type = response.getheader("Content-Type")
    if path.startswith("/ticketing/"):
        message = _ticketing_message(content_type, raw)
    else:
        assert content_type == "application/json"
        message = _message(path, json.loads(raw))
    if "message" in entry:
        expected = entry["message"]
        for placeholder, session_id in sessions.items():
            expected = expected.replace(placeholder, session_id)
        assert message == expected
    assert _state(gateway.url, store) == before


def _message(path: str, body: dict[str, Any]) -> str:
    # Each API answers in its own shape: the article's is {"error": message}.
    if path.startswith("/article/"):
        assert list(body) == ["error"]
        message = body["error"]
    elif path.startswith("/cardloader/"):
        assert body["status"] == "error" and len(body["errors"]) >= 1
        message = body["errors"][-1]["message"]
    elif path.startswith("/psp/"):
        assert isinstance(body["type"], str) and set(body) <= {"message", "type", "details"}
        message = body["message"]
    else:
        assert body["status"] == "failed"
        message = body["message"]
    assert isinstance(message, str) and message
    return message


def _ticketing_message(content_type: str | None, raw: bytes) -> str:
    # The controller's BadRequest("...") is text; its response object and the framework's
    # ProblemDetails are JSON.
    if content_type == "text/plain; charset=utf-8":
        return raw.decode()
    if content_type == "application/problem+json; charset=utf-8":
        problem = json.loads(raw)
        return problem.get("detail") or problem["title"]  # type: ignore[no-any-return]
    assert content_type == "application/json; charset=utf-8"
    answer = json.loads(raw)
    assert answer["success"] is False
    return answer["errorMessage"]  # type: ignore[no-any-return]
