"""Namespaces: /ns/<name>/ and Payments-Namespace give each client an account of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from helpers import MakeClient
from payments_server import Settings, close_app, create_app
from payments_server.apis.namespace_routing import NAMESPACES_KEY
from payments_server.testing import StoreStub

ORDER = {"order_id": "1", "amount": 10}


def balance(client: FlaskClient, prefix: str = "", **headers: str) -> Any:
    return client.get(f"{prefix}/balance", headers=headers).get_json()["balance"]


def test_without_a_namespace_nothing_changes(client: FlaskClient) -> None:
    assert client.get("/balance").get_json() == {
        "status": "success", "account_id": "ACC-001", "holder": "John Doe", "balance": 50000.0,
    }  # fmt: skip


def test_the_prefix_and_the_header_reach_the_same_account_and_no_other(
    client: FlaskClient,
) -> None:
    paid = client.post("/ns/team-a/payments/orders", json=ORDER)
    assert paid.status_code == 200 and paid.get_json()["balance"] == 49990.0
    # The same order id is new in the default namespace and in another.
    assert client.post("/payments/orders", json={**ORDER, "amount": 20}).status_code == 200
    assert client.post("/ns/team-b/payments/orders", json=ORDER).status_code == 200
    assert balance(client, "/ns/team-a") == 49990.0
    assert balance(client, **{"Payments-Namespace": "team-a"}) == 49990.0
    assert balance(client) == 49980.0
    again = client.post("/payments/orders", json=ORDER, headers={"Payments-Namespace": "team-a"})
    assert again.status_code == 409
    # The prefix wins over the header.
    assert balance(client, "/ns/team-c", **{"Payments-Namespace": "team-a"}) == 50000.0


@pytest.mark.parametrize("name", ["a.b", "x" * 65, "é", "a b", "%2e%2e"])
def test_a_bad_name_is_a_400_in_the_apis_own_shape_and_makes_nothing(
    client: FlaskClient, name: str
) -> None:
    answer = client.get(f"/ns/{name}/balance")
    assert answer.status_code == 400
    message = answer.get_json()["message"]
    assert message.startswith("Namespace must be 1 to 64 letters, digits, '-' or '_', got ")
    headed = client.post("/ticketing/payments", json={}, headers={"Payments-Namespace": "a.b"})
    assert headed.status_code == 400
    assert (
        headed.get_json()["detail"]
        == "Namespace must be 1 to 64 letters, digits, '-' or '_', got 'a.b'"
    )
    assert client.get("/namespaces").get_json()["count"] == 1


def test_reset_rules_and_clock_stay_in_their_namespace(make_client: MakeClient) -> None:
    client = make_client(clock="frozen")
    rule = {"rules": [{"order_id": "1", "decline_code": "do_not_honor"}]}
    assert client.put("/ns/a/simulation", json=rule).status_code == 200
    assert client.post("/ns/a/payments/orders", json=ORDER).status_code == 402
    assert client.post("/ns/b/payments/orders", json=ORDER).status_code == 200
    clocks = {prefix: client.get(f"{prefix}/clock").get_json()["now"] for prefix in ("", "/ns/a")}
    b_before = client.get("/ns/b/clock").get_json()["now"]
    client.post("/ns/b/clock/advance", json={"seconds": 3600})
    for prefix, before in clocks.items():
        assert client.get(f"{prefix}/clock").get_json()["now"] == before
    assert client.get("/ns/b/clock").get_json()["now"] > b_before
    client.post("/ns/b/reset")
    assert balance(client, "/ns/b") == 50000.0
    assert client.get("/ns/a/simulation").get_json()["simulation"]["rules"] == rule["rules"]
    assert client.get("/simulation").get_json()["simulation"]["rules"] == []


def test_pages_and_urls_stay_in_the_namespace(client: FlaskClient) -> None:
    made = client.post(
        "/ns/shop-1/article/create-session",
        json={"amount": 10, "transaction_id": "t1", "callback_url": "http://127.0.0.1:9/cb"},
    ).get_json()
    assert made["payment_url"].startswith("http://localhost/ns/shop-1/checkout/cs_")
    page = client.get(made["payment_url"].removeprefix("http://localhost")).get_data(as_text=True)
    assert f'action="/ns/shop-1/checkout/{made["session_id"]}/pay"' in page
    assert 'data-base="/ns/shop-1"' in page
    assert client.get(f"/checkout/{made['session_id']}").status_code == 404
    index = client.get("/ns/shop-1/").get_json()
    assert index["dashboard"] == "http://localhost/ns/shop-1/dashboard"


def test_create_list_show_and_delete(client: FlaskClient, store: StoreStub) -> None:
    made = client.post(
        "/namespaces", json={"name": "ci-42", "balance": 100, "callback_url": store.url}
    )
    assert made.status_code == 201
    shown = made.get_json()
    assert {k: shown[k] for k in ("name", "balance", "initial_balance", "callback_url")} == {
        "name": "ci-42", "balance": 100.0, "initial_balance": 100.0, "callback_url": store.url,
    }  # fmt: skip
    assert client.post("/ns/ci-42/payments/orders", json=ORDER).get_json()["balance"] == 90.0
    assert client.post("/ns/ci-42/reset").get_json()["balance"] == 100.0
    assert client.post("/namespaces", json={"name": "ci-42"}).status_code == 409
    listed = client.get("/namespaces").get_json()
    assert [space["name"] for space in listed["namespaces"]] == ["default", "ci-42"]
    assert (listed["count"], listed["max"]) == (2, 10_000)
    assert client.get("/namespaces/ci-42").get_json()["balance"] == 100.0
    gone = client.delete("/namespaces/ci-42")
    assert gone.get_json() == {"status": "success", "message": "Namespace 'ci-42' deleted"}
    assert client.get("/namespaces/ci-42").status_code == 404
    assert client.delete("/namespaces/ci-42").status_code == 404
    assert client.delete("/namespaces/default").status_code == 409


@pytest.mark.parametrize(
    ("body", "message"),
    [({}, "'name' is required: 1 to 64 letters, digits, '-' or '_'"),
     ({"name": "a/b"}, "Namespace must be 1 to 64 letters, digits, '-' or '_', got 'a/b'"),
     ({"name": "default"}, "The default namespace always exists"),
     ({"name": "a", "balance": -1}, "Balance must be zero or a positive number"),
     ({"name": "a", "callback_url": "ftp://x"},
      "'callback_url' must be an absolute http:// or https:// URL"),
     ({"name": "a", "colour": "red"},
      "Unknown field 'colour'; a namespace takes ['balance', 'callback_url', 'name']")],
)  # fmt: skip
def test_a_bad_namespace_is_refused_and_nothing_is_made(
    client: FlaskClient, body: dict[str, object], message: str
) -> None:
    answer = client.post("/namespaces", json=body)
    assert answer.status_code in (400, 409)
    assert answer.get_json() == {"status": "failed", "message": message}
    assert client.get("/namespaces").get_json()["count"] == 1


def test_past_the_cap_a_new_namespace_is_a_503_and_old_ones_still_work(
    make_client: MakeClient,
) -> None:
    client = make_client(max_namespaces=2)
    for name in ("a", "b"):
        assert client.post(f"/ns/{name}/payments/orders", json=ORDER).status_code == 200
    refused = client.post("/ns/c/payments/orders", json=ORDER)
    assert refused.status_code == 503
    assert refused.get_json()["message"] == (
        "This gateway holds 2 namespaces, its most (--max-namespaces); delete one or wait"
        " for an idle one to expire"
    )
    assert balance(client, "/ns/a") == 49990.0 and balance(client) == 50000.0
    client.delete("/namespaces/a")
    assert client.get("/ns/c/balance").status_code == 200


def test_an_idle_namespace_expires_on_the_gateways_clock(make_client: MakeClient) -> None:
    client = make_client(clock="frozen", namespace_idle=600)
    client.post("/ns/old/payments/orders", json=ORDER)
    client.post("/clock/advance", json={"seconds": 300})
    client.get("/ns/fresh/balance")
    client.post("/clock/advance", json={"seconds": 301})
    names = [space["name"] for space in client.get("/namespaces").get_json()["namespaces"]]
    assert names == ["default", "fresh"]
    assert balance(client, "/ns/old") == 50000.0  # made anew, empty


def test_idle_namespaces_also_go_while_only_others_are_used(make_client: MakeClient) -> None:
    # Nobody makes or lists a namespace: the requests to the one in use let the idle go.
    client = make_client(clock="frozen", namespace_idle=600)
    spaces = client.application.extensions[NAMESPACES_KEY]
    client.post("/ns/old/payments/orders", json=ORDER)
    client.get("/ns/busy/balance")
    client.post("/clock/advance", json={"seconds": 601})
    assert spaces.get("old") is not None  # nothing has looked yet
    assert client.get("/ns/busy/balance").status_code == 200
    assert spaces.get("old") is None
    assert spaces.get("busy") is not None


def test_callbacks_say_their_namespace(client: FlaskClient, store: StoreStub) -> None:
    client.post("/ns/team-a/payments/orders", json=ORDER)
    client.post("/payments/orders", json=ORDER)
    received = store.wait_for(2)
    by_order = sorted(received, key=lambda callback: "Payments-Namespace" in callback.headers)
    assert "Payments-Namespace" not in by_order[0].headers
    assert by_order[1].headers["Payments-Namespace"] == "team-a"
    assert all(callback.signature_valid for callback in received)
    listed = client.get("/ns/team-a/callbacks").get_json()["callbacks"]
    assert len(listed) == 1
    detail = client.get(f"/ns/team-a/callbacks/{listed[0]['id']}").get_json()
    assert detail["callback"]["attempts"][0]["request"]["headers"]["Payments-Namespace"] == "team-a"


def test_a_restart_brings_every_namespace_back_from_its_own_journal(
    tmp_path: Path, store: StoreStub
) -> None:
    state = tmp_path / "gateway.jsonl"
    settings = Settings(callback_url=store.url, state_file=str(state))
    app = create_app(settings)
    client = app.test_client()
    client.post("/namespaces", json={"name": "kept", "balance": 300})
    client.post("/ns/kept/payments/orders", json=ORDER)
    client.post("/ns/other/payments/orders", json={**ORDER, "amount": 7})
    client.post("/ns/gone/payments/orders", json=ORDER)
    client.delete("/namespaces/gone")
    client.post("/ns/other/reset", json={"balance": 70})
    close_app(app)
    assert sorted(path.name for path in (tmp_path / "gateway.jsonl.namespaces").iterdir()) == [
        "kept.json", "kept.jsonl", "other.json", "other.jsonl",
    ]  # fmt: skip

    again = create_app(settings)
    try:
        client = again.test_client()
        names = [space["name"] for space in client.get("/namespaces").get_json()["namespaces"]]
        assert names == ["default", "kept", "other"]
        assert balance(client, "/ns/kept") == 290.0 and balance(client, "/ns/other") == 70.0
        assert client.post("/ns/kept/payments/orders", json=ORDER).status_code == 409
        assert client.post("/ns/kept/reset").get_json()["balance"] == 300.0
        assert balance(client) == 50000.0
    finally:
        close_app(again)


def test_put_makes_a_namespace_named_in_the_path(client: FlaskClient) -> None:
    made = client.put("/namespaces/by-path", json={"balance": 12})
    assert made.status_code == 201 and made.get_json()["balance"] == 12.0
    assert client.put("/namespaces/plain").get_json()["initial_balance"] == 50000.0
    assert client.put("/namespaces/by-path").status_code == 409
    bad = client.put("/namespaces/by.path", json={})
    assert bad.get_json()["message"].startswith("Namespace must be 1 to 64")
    named = client.put("/namespaces/x", json={"name": "y"})
    assert named.get_json()["message"] == (
        "Unknown field 'name'; a namespace takes ['balance', 'callback_url']"
    )
