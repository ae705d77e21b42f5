"""The OpenAPI document: served as stored, in step with the routes, true to the answers."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema_rs
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from payments_server import __version__
from payments_server.apis.gateway.spec import spec, spec_bytes
from payments_server.testing import StoreStub

SPEC = spec()


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        path = node["$ref"].removeprefix("#/").split("/")
        node = SPEC
        for part in path:
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _schema_for(path: str, method: str, status: int) -> dict[str, Any]:
    responses = SPEC["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path} answered {status}, which is not documented"
    content = _resolve(responses[str(status)])["content"]
    return content["application/json"]["schema"]


def _validator(schema: dict[str, Any]) -> Any:
    # The component schemas travel with it, so their $refs resolve.
    return jsonschema_rs.Draft202012Validator({**schema, "components": SPEC["components"]})


def conforms(response: TestResponse, path: str, method: str) -> dict[str, Any]:
    """Check the answer against the document for its status; return its JSON."""
    assert response.mimetype == "application/json"
    body = json.loads(response.get_data())
    errors = [e.message for e in _validator(_schema_for(path, method, response.status_code))
              .iter_errors(body)]  # fmt: skip
    assert errors == [], f"{method} {path} {response.status_code}: {errors}"
    return body


def test_the_document_is_served_as_stored(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_data() == spec_bytes()
    assert SPEC["openapi"] == "3.1.0"
    assert SPEC["info"]["version"] == __version__


def test_every_route_is_documented_and_every_documented_operation_exists(app: Flask) -> None:
    routes = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        # The JSON API; the HTML pages (the ui blueprint) are not part of it.
        if rule.endpoint != "static" and not rule.endpoint.startswith("ui.")
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, item in SPEC["paths"].items() for method in item}
    assert routes == documented


HTML_PAGES = ("/dashboard", "/cardloader/", "/cardloader/index.html")


def test_every_operation_has_an_id_a_summary_and_json_answers() -> None:
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            assert operation["operationId"] and operation["summary"], (method, path)
            for status, response in operation["responses"].items():
                if status.startswith("3"):  # a redirect: its Location is the answer
                    assert "content" not in _resolve(response), (method, path, status)
                    continue
                content = _resolve(response)["content"]
                # An event stream's 200, the dashboard page and the card loader's
                # instructions page are the answers that are not JSON.
                expected = (
                    "text/event-stream"
                    if path.endswith("/events") and status == "200"
                    else "text/html"
                    if path in HTML_PAGES and status == "200"
                    # The ticketing service's framework answers in ProblemDetails.
                    else "application/problem+json"
                    if path.startswith("/ticketing/") and "application/json" not in content
                    else "application/json"
                )
                assert expected in content, (method, path, status)


def test_the_seed_walk_through_conforms(client: FlaskClient, store: StoreStub) -> None:
    conforms(client.get("/balance"), "/balance", "GET")
    order = {"order_id": "abc123def456", "amount": 179.98}
    body = conforms(client.post("/payments/orders", json=order), "/payments/orders", "POST")
    assert body["shop_notified"] is True
    conforms(client.post("/pay/order", json=order), "/pay/order", "POST")  # 409
    conforms(client.post("/pay", json={"amount": 20, "recipient": "x"}), "/pay", "POST")
    conforms(client.post("/pay", json={"amount": 10**9, "recipient": "x"}), "/pay", "POST")
    conforms(client.post("/pay", data="nope"), "/pay", "POST")
    conforms(client.get("/transactions"), "/transactions", "GET")
    conforms(client.get("/transactions?limit=1&offset=1"), "/transactions", "GET")
    conforms(client.get("/transactions?limit=0"), "/transactions", "GET")
    conforms(client.post("/reset"), "/reset", "POST")
    conforms(client.post("/reset", json={"balance": 10}), "/reset", "POST")


def test_order_callback_and_simulation_answers_conform(
    client: FlaskClient, store: StoreStub
) -> None:
    store.respond_with(500)
    conforms(client.put("/simulation", json={"rules": [{"next": 1, "decline_code": "lost_card"}]}),
             "/simulation", "PUT")  # fmt: skip
    conforms(client.get("/simulation"), "/simulation", "GET")
    conforms(client.put("/simulation", json={"latency_ms": -1}), "/simulation", "PUT")
    declined = conforms(client.post("/payments/orders", json={"order_id": 7, "amount": 5}),
                        "/payments/orders", "POST")  # fmt: skip
    assert declined["decline_code"] == "lost_card"
    conforms(client.post("/payments/orders", json={"order_id": 7, "amount": 5}),
             "/payments/orders", "POST")  # fmt: skip
    record = conforms(client.get("/payments/orders/7"), "/payments/orders/{order_id}", "GET")
    assert [a["outcome"] for a in record["attempts"]] == ["declined", "paid"]
    conforms(client.get("/payments/orders/8"), "/payments/orders/{order_id}", "GET")
    assert conforms(client.get("/payments/orders"), "/payments/orders", "GET")["total"] == 1
    conforms(client.get("/payments/orders?state=failed&limit=1"), "/payments/orders", "GET")
    conforms(client.get("/payments/orders?state=nope"), "/payments/orders", "GET")
    listing = conforms(client.get("/callbacks?order_id=7"), "/callbacks", "GET")
    delivery_id = listing["callbacks"][0]["id"]
    conforms(client.get("/callbacks?state=nope"), "/callbacks", "GET")
    conforms(client.get(f"/callbacks/{delivery_id}"), "/callbacks/{delivery_id}", "GET")
    conforms(client.get("/callbacks/msg_x"), "/callbacks/{delivery_id}", "GET")
    retry = client.post(f"/callbacks/{delivery_id}/retry")
    conforms(retry, "/callbacks/{delivery_id}/retry", "POST")
    conforms(client.post("/callbacks/msg_x/retry"), "/callbacks/{delivery_id}/retry", "POST")


def test_idempotency_answers_conform(client: FlaskClient, store: StoreStub) -> None:
    key = {"Idempotency-Key": "k1"}
    first = client.post("/pay", json={"amount": 1, "recipient": "r"}, headers=key)
    replay = client.post("/pay", json={"amount": 1, "recipient": "r"}, headers=key)
    conforms(replay, "/pay", "POST")
    assert replay.get_data() == first.get_data()
    assert replay.headers["Idempotent-Replayed"] == "true"
    conforms(client.post("/pay", json={"amount": 2, "recipient": "r"}, headers=key), "/pay", "POST")
    conforms(client.post("/pay", json={"amount": 2, "recipient": "r"},
                         headers={"Idempotency-Key": "a b"}), "/pay", "POST")  # fmt: skip
    conforms(client.post("/pay", data="x" * 70_000), "/pay", "POST")  # 413


def test_refund_and_limit_answers_conform(client: FlaskClient, store: StoreStub) -> None:
    path = "/payments/orders/{order_id}/refunds"
    client.post("/payments/orders", json={"order_id": "r", "amount": 10})
    conforms(client.post("/payments/orders/r/refunds", json={"amount": 4}), path, "POST")
    conforms(client.post("/payments/orders/r/refunds", json={"amount": 7}), path, "POST")
    conforms(client.post("/payments/orders/r/refunds"), path, "POST")
    conforms(client.post("/payments/orders/r/refunds"), path, "POST")  # 409
    conforms(client.post("/payments/orders/x/refunds"), path, "POST")  # 404
    assert conforms(client.get("/payments/orders/r"), "/payments/orders/{order_id}", "GET")[
        "state"] == "refunded"  # fmt: skip
    conforms(client.get("/transactions"), "/transactions", "GET")
    conforms(client.get("/transactions?limit=5"), "/transactions", "GET")
    conforms(client.put("/simulation", json={"limit_per_payment": 5}), "/simulation", "PUT")
    over = conforms(client.post("/pay", json={"amount": 6, "recipient": "r"}), "/pay", "POST")
    assert over["message"] == "Limit exceeded"
    conforms(client.post("/payments/orders", json={"order_id": "o", "amount": 6}),
             "/payments/orders", "POST")  # fmt: skip


def test_pending_answers_conform(client: FlaskClient, store: StoreStub) -> None:
    decide = "/payments/orders/{order_id}/decide"
    client.put("/simulation", json={"rules": [{"next": 1, "outcome": "pending"}]})
    waiting = conforms(client.post("/payments/orders", json={"order_id": "p", "amount": 3}),
                       "/payments/orders", "POST")  # fmt: skip
    assert waiting["status"] == "pending"
    conforms(client.post("/pay/order", json={"order_id": "p", "amount": 3}), "/pay/order", "POST")
    listed = conforms(client.get("/payments/orders?state=pending"), "/payments/orders", "GET")
    assert listed["orders"][0]["state"] == "pending"
    decided = conforms(client.post("/payments/orders/p/decide"), decide, "POST")
    assert decided["order"]["state"] == "paid"
    conforms(client.post("/payments/orders/p/decide"), decide, "POST")  # 409
    conforms(client.post("/payments/orders/q/decide"), decide, "POST")  # 404
    conforms(client.post("/payments/orders/p/decide", json={"outcome": "maybe"}), decide, "POST")


def test_checkout_answers_conform(client: FlaskClient, store: StoreStub) -> None:
    made = conforms(client.post("/checkout/sessions", json={"order_id": "C-1", "amount": 5,
                                "metadata": {"cart": "9"}}), "/checkout/sessions", "POST")  # fmt: skip
    session_id = made["session"]["id"]
    one = "/checkout/sessions/{session_id}"
    conforms(client.get(f"/checkout/sessions/{session_id}"), one, "GET")
    conforms(client.get("/checkout/sessions/cs_nope"), one, "GET")
    conforms(client.get("/checkout/sessions?state=open"), "/checkout/sessions", "GET")
    conforms(client.post("/checkout/sessions", json={"order_id": "C-1"}), "/checkout/sessions",
             "POST")  # fmt: skip
    done = client.post(f"/checkout/sessions/{session_id}/complete",
                       json={"outcome": "declined", "decline_code": "lost_card"})  # fmt: skip
    assert conforms(done, one + "/complete", "POST")["session"]["state"] == "failed"
    conforms(client.post(f"/checkout/sessions/{session_id}/expire"), one + "/expire", "POST")


def stream_events(body: bytes) -> list[dict[str, str]]:
    """The events of a Server-Sent Events body as {field: value}; comments dropped."""
    blocks = body.decode().split("\n\n")
    return [
        dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        for block in blocks
        if block.strip() and not block.startswith(":")
    ]


def test_every_event_of_a_session_stream_and_its_data_conform(
    client: FlaskClient, store: StoreStub
) -> None:
    event_schema = SPEC["paths"]["/checkout/sessions/{session_id}/events"]["get"]["responses"][
        "200"]["content"]["text/event-stream"]["schema"]  # fmt: skip
    variants = {v["properties"]["event"]["const"]: v for v in event_schema["oneOf"]}
    final = client.post("/checkout/sessions", json={"order_id": 1, "amount": 5}).get_json()
    client.post(f"/checkout/sessions/{final['session']['id']}/complete", json={"outcome": "paid"})
    ended = client.get(f"/checkout/sessions/{final['session']['id']}/events").get_data()
    # A stream that is forgotten by a reset while it waits: its last event is gone.
    waiting = client.post("/checkout/sessions", json={"order_id": 2, "amount": 5}).get_json()
    stream = client.get(f"/checkout/sessions/{waiting['session']['id']}/events", buffered=False)
    chunks = iter(stream.response)
    first = next(chunks)
    client.post("/reset")
    gone = first + b"".join(chunks)
    seen = stream_events(ended) + stream_events(gone)
    assert [e["event"] for e in seen] == ["session", "session", "gone"]
    for event in seen:
        assert _validator(event_schema).is_valid(event), event
        data_schema = variants[event["event"]]["properties"]["data"]["contentSchema"]
        errors = [e.message for e in _validator(data_schema).iter_errors(json.loads(event["data"]))]
        assert errors == [], event
    assert json.loads(seen[0]["data"])["state"] == "paid"


@pytest.mark.parametrize(
    ("schema", "body"),
    [
        ("Balance", {"status": "success", "account_id": "ACC-001", "holder": "J", "balance": 1,
                     "currency": "USD"}),
        ("Failure", {"status": "failed", "message": "x", "code": 1}),
        ("Failure", {"status": "success", "message": "x"}),
        ("Transaction", {"recipient": "r", "order_id": 1, "amount": 1, "balance_after": 1}),
    ],
)  # fmt: skip
def test_the_legacy_shapes_admit_no_extra_keys(schema: str, body: dict[str, Any]) -> None:
    assert not _validator({"$ref": f"#/components/schemas/{schema}"}).is_valid(body)


def test_an_order_another_api_declined_in_its_own_words_conforms(client: FlaskClient) -> None:
    """The ticketing service declines 999999.99 as amount_too_large, its own code; the
    gateway's order list shows it, and the document allows it (a fuzz run found this)."""
    client.post("/ticketing/payments", json={
        "orderId": "9c5b94b1-35ad-49bb-b118-8e8fc24abf80",
        "customerId": "6b29fc40-ca47-1067-b31d-00dd010662da", "amount": 999999.99,
        "paymentMethod": "credit_card"})  # fmt: skip
    body = conforms(client.get("/payments/orders"), "/payments/orders", "GET")
    assert body["orders"][0]["attempts"][0]["decline_code"] == "amount_too_large"


def _operations_by_id() -> dict[str, tuple[str, str]]:
    return {
        operation["operationId"]: (method.upper(), path)
        for path, item in SPEC["paths"].items()
        for method, operation in item.items()
    }


def _evaluate(expression: str, path_params: dict[str, str], sent: Any, answer: Any) -> str:
    """An OpenAPI runtime expression, as a client following the link evaluates it."""
    if expression.startswith("$request.path."):
        return path_params[expression.removeprefix("$request.path.")]
    source, _, pointer = expression.partition("#")
    value = {"$request.body": sent, "$response.body": answer}[source]
    for part in pointer.strip("/").split("/"):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return str(value)


def test_every_link_names_an_operation_and_its_parameters() -> None:
    operations = _operations_by_id()
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                for name, written in _resolve(response).get("links", {}).items():
                    link = _resolve(written)
                    where = (method, path, status, name)
                    assert link["operationId"] in operations, where
                    _, target_path = operations[link["operationId"]]
                    for parameter in link["parameters"]:
                        assert "{" + parameter + "}" in target_path, (*where, parameter)


def test_following_each_link_from_a_real_answer_finds_what_it_names(
    client: FlaskClient, store: StoreStub
) -> None:
    """What a client (or schemathesis's stateful phase) does with the links: each one,
    evaluated on a real answer, reaches a thing that exists (no 404)."""
    operations = _operations_by_id()
    store.respond_with(500)  # a failed callback, so that the order has one to retry

    def follow(method: str, path: str, path_params: dict[str, str], sent: Any = None) -> int:
        concrete = path.format(**path_params)
        response = client.open(concrete, method=method, json=sent)
        links = _resolve(SPEC["paths"][path][method.lower()]["responses"][
            str(response.status_code)]).get("links", {})  # fmt: skip
        for name, written in links.items():
            link = _resolve(written)
            target_method, target_path = operations[link["operationId"]]
            params = {parameter: _evaluate(expression, path_params, sent, response.get_json())
                      for parameter, expression in link["parameters"].items()}  # fmt: skip
            target = client.open(target_path.format(**params), method=target_method, json={})
            assert target.status_code != 404, (method, concrete, name, target.get_json())
        return len(links)

    order = {"order_id": "linked", "amount": 5}
    assert follow("POST", "/payments/orders", {}, order) == 1
    assert follow("GET", "/payments/orders/{order_id}", {"order_id": "linked"}) == 4
    client.put("/simulation", json={"rules": [{"next": 2, "outcome": "pending"}]})
    assert follow("POST", "/payments/orders", {}, {"order_id": "waits", "amount": 5}) == 2
    assert follow("POST", "/pay/order", {}, {"order_id": "waits-too", "amount": 5}) == 2
    session = {"order_id": "hosted", "amount": 5, "success_url": "http://127.0.0.1/ok"}
    assert follow("POST", "/checkout/sessions", {}, session) == 3
    assert follow("GET", "/cardloader/cards/", {}) == 2
    assert follow("GET", "/cardloader/cards/{card_id}/", {"card_id": "1"}) == 1
