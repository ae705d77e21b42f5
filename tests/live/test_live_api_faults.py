"""API faults on the real server: each fault on each API, as its client meets it on the
wire (status, headers, a body cut short, a pause, a timeout), and what the account holds
afterwards."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from gateway_process import GatewayProcess
from payments_server.testing import StoreStub


@dataclass(frozen=True)
class Call:
    """One API's paying request, and how its answer and its effect are read."""

    method: str
    path: str  # as sent
    route: str  # as the fault names it
    body: Callable[[], dict[str, Any]]
    headers: dict[str, str]
    held: str  # a list whose "total" counts what the request made
    message: Callable[[dict[str, Any]], str]  # the failure's words, in the API's shape


def _ticketing() -> dict[str, Any]:
    return {"orderId": str(uuid.uuid4()), "customerId": "6b29fc40-ca47-1067-b31d-00dd010662da",
            "amount": 3, "paymentMethod": "credit_card"}  # fmt: skip


PSP = {"description": "x", "amount": 2500, "payment_method": "debit_card",
       "card_number": "4111111111111111", "card_holder_name": "A",
       "card_expiration_date": "12/99", "card_verification_code": "123"}  # fmt: skip
CALLS = {
    "gateway": Call("POST", "/payments/orders", "POST /payments/orders",
                    lambda: {"order_id": uuid.uuid4().hex, "amount": 5}, {}, "/payments/orders",
                    lambda body: body["message"]),
    "article": Call("POST", "/article/create-session", "POST /article/create-session",
                    lambda: {"amount": 10, "transaction_id": uuid.uuid4().hex,
                             "callback_url": "http://127.0.0.1:9/cb"}, {}, "/checkout/sessions",
                    lambda body: body["error"]),
    "ticketing": Call("POST", "/ticketing/payments", "POST /ticketing/payments", _ticketing, {},
                      "/payments/orders", lambda body: body["detail"]),
    "cardloader": Call("POST", "/cardloader/cards/1/load/",
                       "POST /cardloader/cards/{card_id}/load/",
                       lambda: {"nonce": "fake-valid-nonce", "amount": "10.00"}, {},
                       "/payments/orders", lambda body: body["errors"][0]["message"]),
    "psp": Call("POST", "/psp/transactions", "POST /psp/transactions", lambda: dict(PSP),
                {"x-customer-id": "m"}, "/payments/orders", lambda body: body["message"]),
}  # fmt: skip


@pytest.fixture(scope="module")
def gateway() -> Iterator[GatewayProcess]:
    with StoreStub() as store, GatewayProcess("--callback-url", store.url) as running:
        yield running


@pytest.fixture
def faults(gateway: GatewayProcess) -> Callable[..., None]:
    """Set the API faults (and nothing else) on a fresh account."""
    requests.post(gateway.url + "/reset", timeout=5)

    def put(*faults: dict[str, Any]) -> None:
        answer = requests.put(gateway.url + "/simulation", json={"api_faults": list(faults)},
                              timeout=5)  # fmt: skip
        assert answer.status_code == 200, answer.text

    yield put
    requests.put(gateway.url + "/simulation", json={}, timeout=5)


def held(gateway: GatewayProcess, call: Call) -> int:
    return requests.get(gateway.url + call.held, timeout=5).json()["total"]  # type: ignore[no-any-return]


def send(gateway: GatewayProcess, call: Call, **options: Any) -> requests.Response:
    return requests.request(call.method, gateway.url + call.path, json=call.body(),
                            headers=call.headers, **{"timeout": 10, **options})  # fmt: skip


def raw(gateway: GatewayProcess, call: Call) -> tuple[bytes, bytes, float]:
    """The request over a socket: the head and the body bytes received until the whole
    body came or the server closed, and how long the body took."""
    body = requests.Request(call.method, gateway.url + call.path, json=call.body(),
                            headers=call.headers).prepare()  # fmt: skip
    head = f"{call.method} {call.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in body.headers.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(head.encode() + (body.body or b""))  # type: ignore[operator]
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(65536)
        answer_head, _, rest = received.partition(b"\r\n\r\n")
        started = time.monotonic()
        while len(rest) < content_length(answer_head) and (chunk := sock.recv(65536)):
            rest += chunk
        return answer_head, rest, time.monotonic() - started


def content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            return int(value)
    raise AssertionError(head)


SURFACES = sorted(CALLS)


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize(("status", "retry_after"), [(503, "2"), (429, "1"), (500, None)])
def test_a_status_fault_answers_in_the_apis_shape_and_does_nothing(
    gateway: GatewayProcess, faults: Callable[..., None], surface: str, status: int,
    retry_after: str | None,
) -> None:  # fmt: skip
    call = CALLS[surface]
    fault: dict[str, Any] = {"route": call.route, "fault": "status", "status": status, "count": 1}
    if retry_after == "2":
        fault["retry_after"] = 2
    faults(fault)
    before = held(gateway, call)
    answer = send(gateway, call)
    assert answer.status_code == status
    assert answer.headers.get("Retry-After") == retry_after
    assert call.message(answer.json()).startswith("On purpose (an API fault): ")
    assert held(gateway, call) == before
    assert send(gateway, call).status_code in (200, 201)  # the count is used up
    assert held(gateway, call) == before + 1


@pytest.mark.parametrize("surface", SURFACES)
def test_a_429_carries_the_rate_limit_headers_it_was_given(
    gateway: GatewayProcess, faults: Callable[..., None], surface: str
) -> None:
    # None of the five real systems sends rate-limit headers: a store whose client reads
    # some (X-RateLimit-*, RateLimit-*) names them on the fault.
    call = CALLS[surface]
    limits = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0",
              "X-RateLimit-Reset": "1765000000"}  # fmt: skip
    faults({"route": call.route, "fault": "status", "status": 429, "retry_after": 30,
            "headers": limits, "count": 1})  # fmt: skip
    before = held(gateway, call)
    answer = send(gateway, call)
    assert answer.status_code == 429
    assert {name: answer.headers.get(name) for name in [*limits, "Retry-After"]} == {
        **limits, "Retry-After": "30",
    }  # fmt: skip
    assert held(gateway, call) == before


@pytest.mark.parametrize("surface", SURFACES)
def test_wire_faults_cut_stall_and_close_the_answer(
    gateway: GatewayProcess, faults: Callable[..., None], surface: str
) -> None:
    call = CALLS[surface]
    faults({"route": call.route, "fault": "truncate", "count": 1},
           {"route": call.route, "fault": "stall", "delay_ms": 300, "count": 1},
           {"route": call.route, "fault": "reset", "count": 1},
           {"route": call.route, "fault": "empty", "count": 1})  # fmt: skip
    before = held(gateway, call)
    head, body, _ = raw(gateway, call)  # truncate
    assert head.split(b" ")[1] in (b"200", b"201") and 0 < len(body) < content_length(head)
    head, body, took = raw(gateway, call)  # stall: all of it, late
    assert len(body) == content_length(head) and took >= 0.29
    for _ in ("reset", "empty"):  # the head and a byte, then closed
        head, body, _ = raw(gateway, call)
        assert len(body) == 1 < content_length(head)
    # The requests were served: the client only lost (part of) their answers.
    assert held(gateway, call) == before + 4
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        faults({"route": call.route, "fault": "truncate", "count": 1})
        send(gateway, call)


@pytest.mark.parametrize("surface", SURFACES)
def test_a_hold_outlasts_the_clients_timeout_and_the_request_still_happens(
    gateway: GatewayProcess, faults: Callable[..., None], surface: str
) -> None:
    call = CALLS[surface]
    faults({"route": call.route, "fault": "hold", "delay_ms": 600, "count": 1})
    before = held(gateway, call)
    mark = gateway.mark()  # the module's gateway: earlier tests' lines are before this
    with pytest.raises(requests.exceptions.ReadTimeout):
        send(gateway, call, timeout=0.2)
    # The held request finishes on the server after the client left: its access line says when.
    gateway.wait_for_line(f'"{call.method} {call.path}" 20', timeout=5, since=mark)
    assert held(gateway, call) == before + 1


@pytest.mark.parametrize("surface", SURFACES)
def test_every_api_can_lose_an_answer_after_carrying_it_out_and_slow_down(
    gateway: GatewayProcess, faults: Callable[..., None], surface: str
) -> None:
    call = CALLS[surface]
    faults({"route": call.route, "fault": "lost_answer", "status": 504, "count": 1},
           {"route": call.route, "fault": "latency", "count": 1,
            "delay_ms": {"distribution": "uniform", "min_ms": 200, "max_ms": 250}})  # fmt: skip
    before = held(gateway, call)
    lost = send(gateway, call)
    assert lost.status_code == 504
    assert call.message(lost.json()).startswith("On purpose (an API fault): the request was")
    assert held(gateway, call) == before + 1  # carried out all the same
    started = time.monotonic()
    assert send(gateway, call).status_code in (200, 201)
    assert time.monotonic() - started >= 0.2
    assert held(gateway, call) == before + 2


def test_a_lost_answer_is_answered_on_a_retry_with_the_same_key_and_charged_once(
    gateway: GatewayProcess, faults: Callable[..., None]
) -> None:
    faults({"route": "POST /payments/orders", "fault": "lost_answer", "status": 504,
            "order_id": "lost-1"})  # fmt: skip
    order = {"order_id": "lost-1", "amount": 25}
    keyed = {"Idempotency-Key": "checkout-lost-1"}
    first = requests.post(gateway.url + "/payments/orders", json=order, headers=keyed, timeout=5)
    assert first.status_code == 504
    assert first.json()["message"].startswith("On purpose (an API fault): the request was")
    again = requests.post(gateway.url + "/payments/orders", json=order, headers=keyed, timeout=5)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["balance"] == 49975.0
    # A client without the key meets the API's own answer, and nothing more is charged.
    unkeyed = requests.post(gateway.url + "/payments/orders", json=order, timeout=5)
    assert (unkeyed.status_code, unkeyed.json()["message"]) == (
        409, "Order lost-1 has already been paid")  # fmt: skip
    assert requests.get(gateway.url + "/balance", timeout=5).json()["balance"] == 49975.0
    summaries = [e["summary"] for e in requests.get(
        gateway.url + "/activity?order_id=lost-1", timeout=5).json()["activity"]]  # fmt: skip
    assert "POST /payments/orders: answer lost after it was carried out (504 answered)" in summaries


def test_a_lost_answer_can_close_the_connection_instead(
    gateway: GatewayProcess, faults: Callable[..., None]
) -> None:
    faults({"route": "POST /pay/order", "fault": "lost_answer", "answer": "reset", "count": 1})
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.post(gateway.url + "/pay/order", json={"order_id": "r-1", "amount": 5}, timeout=5)
    assert requests.get(gateway.url + "/payments/orders/r-1", timeout=5).json()["state"] == "paid"


def test_a_seeded_rate_gives_the_same_faults_every_run(
    gateway: GatewayProcess, faults: Callable[..., None]
) -> None:
    fault = {"route": "GET /balance", "fault": "status", "status": 502, "rate": 0.5, "seed": 42}
    runs = []
    for _ in range(2):
        faults(fault)  # setting them again starts the sequence again
        runs.append([requests.get(gateway.url + "/balance", timeout=5).status_code
                     for _ in range(20)])  # fmt: skip
    assert runs[0] == runs[1] and set(runs[0]) == {200, 502}
    # The same sequence on any gateway: it depends on the seed alone.
    assert runs[0][:8] == [200, 502, 502, 502, 200, 200, 200, 502]
