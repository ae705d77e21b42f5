"""A sixth API is one Surface: this module defines a toy shop's API in itself, gives it to
create_app, and sees it take a payment through the one flow, show in the activity log and
the index, keep its error shape, publish its event on a real broker, come back after a
restart from the state file, and be forgotten by /reset. No package file knows of it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Blueprint, Response
from kafka_broker import need_kafka_client, read, running_broker

from payments_server import Settings, Surface, close_app, create_app
from payments_server.apis.registry import SURFACES
from payments_server.apis.responses import json_response
from payments_server.apis.surface import ApiState
from payments_server.apis.web import about_order, account, json_object
from payments_server.core.money import Amount
from payments_server.flow.outcomes import Paid
from payments_server.testing import StoreStub

NOTE = "toy_purchase"
toy = Blueprint("toy", __name__)


class ToyState:
    """What the toy shop keeps of its own: the purchases paid, by reference."""

    def __init__(self) -> None:
        self.bought: dict[str, int] = {}

    def reset(self) -> None:
        self.bought.clear()

    def restore(self, event: Mapping[str, Any]) -> bool:
        return False

    def restore_order(self, event: Mapping[str, Any]) -> None:
        purchase = event.get(NOTE)
        if event.get("outcome") == "paid" and isinstance(purchase, dict):
            self.bought[purchase["ref"]] = purchase["cents"]

    def resume(self) -> None:
        pass


def purchases() -> ToyState:
    state = account().apis["toy"]
    assert isinstance(state, ToyState)
    return state


@toy.post("/buy")
def buy() -> Response:
    body = json_object()
    ref, cents = str(body["ref"]), int(body["cents"])
    about_order(f"toy-{ref}")  # the activity log's order filter finds the request
    value = (Decimal(cents) / 100).quantize(Decimal("0.01"))
    outcome = account().flow.charge(
        f"toy-{ref}", Amount(value, value), note=lambda _: {NOTE: {"ref": ref, "cents": cents}}
    )
    if isinstance(outcome, Paid):
        purchases().bought[ref] = cents
        return json_response({"bought": ref}, 201)
    return json_response({"toy_error": f"declined: {getattr(outcome, 'code', '?')}"}, 402)


@toy.get("/purchases")
def listed() -> Response:
    return json_response(purchases().bought)


class ToyShop(Surface):
    id = "toy"
    title = "A toy shop"
    base_url = "/toy"
    docs = "tests/apis/test_surface.py"

    def blueprints(self) -> Sequence[Blueprint]:
        return (toy,)

    def new_state(self, account: Any) -> ApiState:
        return ToyState()

    def error(self, status: int, message: str, extra: Mapping[str, object]) -> Response:
        return json_response({"toy_error": message}, status)


@pytest.fixture
def broker() -> Iterator[str]:
    need_kafka_client()
    yield from running_broker()


def test_a_sixth_api_is_one_surface_and_gets_everything_the_others_have(
    tmp_path: Path, store: StoreStub, broker: str
) -> None:
    settings = Settings(
        callback_url=store.url,
        state_file=str(tmp_path / "state.jsonl"),
        kafka_bootstrap_servers=broker,
    )
    surfaces = (*SURFACES, ToyShop())
    app = create_app(settings, surfaces)
    client = app.test_client()
    try:
        # A payment through the one flow.
        bought = client.post("/toy/buy", json={"ref": "r1", "cents": 1250})
        assert (bought.status_code, bought.json) == (201, {"bought": "r1"})
        assert client.get("/balance").json["balance"] == 49987.5
        assert client.get("/payments/orders/toy-r1").json["state"] == "paid"
        # Listed with the others, and its own shape for what reaches no route.
        index = client.get("/", headers={"Accept": "application/json"}).json
        assert {"id": "toy", "title": "A toy shop", "base_url": "http://localhost/toy",
                "docs": "tests/apis/test_surface.py"} in index["apis"]  # fmt: skip
        missing = client.post("/toy/nothing-here", json={})
        assert (missing.status_code, missing.json) == (404, {"toy_error": "Not found"})
        # In the activity log the dashboard draws, badged with its API.
        entries = client.get("/activity?order_id=toy-r1").json["activity"]
        requests_seen = [e for e in entries if e["kind"] == "request"]
        assert [e["summary"] for e in requests_seen] == ["POST /toy/buy 201"]
        assert requests_seen[0]["detail"]["api"] == "toy"
        assert any(e["kind"] == "decision" for e in entries)
        assert client.get("/", headers={"Accept": "text/html"}).status_code == 200
    finally:
        close_app(app)
    # Its event on the broker, keyed by its order.
    (event,) = read(broker, "payment-succeeded", 1)
    assert event.key() == b"toy-r1"  # type: ignore[attr-defined]
    # A restart brings its purchase back from the state file, and /reset forgets it.
    again = create_app(settings, surfaces)
    client = again.test_client()
    try:
        assert client.get("/toy/purchases").json == {"r1": 1250}
        assert client.get("/balance").json["balance"] == 49987.5
        client.post("/reset")
        assert client.get("/toy/purchases").json == {}
        assert client.get("/balance").json["balance"] == 50000.0
    finally:
        close_app(again)
