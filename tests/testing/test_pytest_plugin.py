"""The pytest plugin, as a store's project sees it: pytester runs throwaway test files."""

from __future__ import annotations

import pytest

from helpers import STORE_PROJECT_PLUGINS
from payments_server.testing import GatewayServer

STORE_TESTS = """
import requests


def test_an_order_payment_reaches_the_store(payments_gateway, store_stub):
    response = requests.post(
        payments_gateway.url_for("/payments/orders"), json={"order_id": "o1", "amount": 10}
    )
    assert response.json()["shop_notified"] is True
    (callback,) = store_stub.wait_for(1)
    assert callback.json == {"order_id": "o1", "status": "success"}
    assert callback.signature_valid


def test_nothing_leaks_from_the_test_before(payments_gateway, store_stub):
    assert requests.get(payments_gateway.url_for("/balance")).json()["balance"] == 50000.0
    assert store_stub.received == []
    assert requests.get(payments_gateway.url_for("/transactions")).json()["transactions"] == []
    # Not 409: the order paid by the test before is forgotten.
    response = requests.post(
        payments_gateway.url_for("/payments/orders"), json={"order_id": "o1", "amount": 10}
    )
    assert response.status_code == 200


def test_scripted_store_failures_do_not_leak_either(payments_gateway, store_stub):
    store_stub.respond_with(500)
    requests.put(payments_gateway.url_for("/simulation"), json={"latency_ms": 0})
    response = requests.post(
        payments_gateway.url_for("/pay/order"), json={"order_id": "o2", "amount": 1}
    )
    assert response.json()["shop_notified"] is False


def test_and_the_next_test_gets_a_store_that_answers_200(payments_gateway, store_stub):
    response = requests.post(
        payments_gateway.url_for("/pay/order"), json={"order_id": "o3", "amount": 1}
    )
    assert response.json()["shop_notified"] is True
    assert [c.json["order_id"] for c in store_stub.received] == ["o3"]
"""


def test_a_store_project_gets_live_isolated_fixtures_by_installing_the_package(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_store=STORE_TESTS)
    result = pytester.runpytest_subprocess(*STORE_PROJECT_PLUGINS)
    result.assert_outcomes(passed=4)


def test_one_gateway_serves_the_whole_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_same="""
        seen = set()

        def test_one(payments_gateway):
            seen.add(payments_gateway.port)

        def test_two(payments_gateway):
            seen.add(payments_gateway.port)
            assert len(seen) == 1
        """
    )
    pytester.runpytest_subprocess(*STORE_PROJECT_PLUGINS).assert_outcomes(passed=2)


def test_settings_can_be_changed_in_the_store_projects_conftest(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def payments_gateway_settings():
            return {"initial_balance": 100, "callback_retries": 0}
        """
    )
    pytester.makepyfile(
        test_small="""
        import requests

        def test_balance(payments_gateway):
            assert requests.get(payments_gateway.url_for("/balance")).json()["balance"] == 100.0
        """
    )
    pytester.runpytest_subprocess(*STORE_PROJECT_PLUGINS).assert_outcomes(passed=1)


def test_an_error_inside_the_gateway_fails_the_test_that_caused_it(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_boom="""
        import requests
        from flask import Blueprint

        def test_boom(payments_gateway):
            broken = Blueprint("broken", __name__)
            broken.add_url_rule("/boom", "boom", lambda: 1 / 0)
            payments_gateway.app.register_blueprint(broken)
            assert requests.get(payments_gateway.url_for("/boom")).status_code == 500

        def test_after(payments_gateway):
            pass
        """
    )
    result = pytester.runpytest_subprocess(*STORE_PROJECT_PLUGINS)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_boom*", "*ZeroDivisionError*"])


def test_the_fixtures_are_documented_in_pytest_fixtures(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--fixtures", *STORE_PROJECT_PLUGINS)
    for fixture, words in [
        ("store_stub", "*records the gateway's callbacks*"),
        ("payments_gateway", "*A live payments_server on 127.0.0.1*"),
        (
            "payments_gateway_url",
            "*The URL of the gateway `payments_namespace` makes namespaces on*",
        ),
        ("payments_namespace", "*A namespace of its own for this test*"),
    ]:
        result.stdout.fnmatch_lines([f"{fixture} *-- *pytest_plugin.py:*", words])


def test_the_fixtures_work_under_xdist_with_a_gateway_per_worker(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_store=STORE_TESTS)
    pytester.makepyfile(
        test_more="""
        import requests

        def test_pay(payments_gateway):
            r = requests.post(payments_gateway.url_for("/pay"), json={"amount": 1, "recipient": "r"})
            assert r.json()["balance"] == 49999.0
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", *STORE_PROJECT_PLUGINS)
    result.assert_outcomes(passed=5)


# A store's test as many are written: its own order ids (the same in every test), a
# decline rule, the clock moved on; each asserts it saw only what it did.
PARALLEL_STORE_TESTS = """
from datetime import datetime

import pytest
import requests


@pytest.mark.parametrize("run", range(800))
def test_each_test_sees_only_its_own_account(payments_namespace, store_stub, run):
    api = payments_namespace.url_for
    paid = requests.post(api("/payments/orders"), json={"order_id": "1", "amount": 10})
    assert paid.status_code == 200 and paid.json()["balance"] == 49990.0
    rule = {"rules": [{"order_id": "2", "decline_code": "do_not_honor"}]}
    assert requests.put(api("/simulation"), json=rule).status_code == 200
    assert requests.post(api("/payments/orders"), json={"order_id": "2", "amount": 5}).status_code == 402
    _, frozen = payments_namespace.request("PUT", "/clock", {"frozen": True})
    _, moved = payments_namespace.request("POST", "/clock/advance", {"seconds": 3600})
    hours = datetime.fromisoformat(moved["now"]) - datetime.fromisoformat(frozen["now"])
    assert hours.total_seconds() == 3600  # its own clock only: no other test's advance
    callbacks = store_stub.wait_for(2)
    assert sorted((c.json["order_id"], c.json["status"]) for c in callbacks) == [
        ("1", "success"), ("2", "failed")]
    assert {c.headers["Payments-Namespace"] for c in callbacks} == {payments_namespace.name}
    assert [t["order_id"] for t in requests.get(api("/transactions")).json()["transactions"]] == ["1"]
"""


def test_eight_workers_share_one_gateway_a_namespace_per_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_parallel=PARALLEL_STORE_TESTS)
    result = pytester.runpytest_subprocess("-n", "8", *STORE_PROJECT_PLUGINS)
    result.assert_outcomes(passed=800)


NAMESPACE_TESTS = """
import os

import requests


def test_first(payments_namespace, store_stub):
    outside = os.environ.get("PAYMENTS_GATEWAY_URL")
    assert outside is None or payments_namespace.gateway_url == outside.rstrip("/")
    r = requests.post(payments_namespace.url_for("/payments/orders"), json={"order_id": "1", "amount": 10})
    assert r.json()["balance"] == 49990.0
    assert store_stub.wait_for(1)[0].headers["Payments-Namespace"] == payments_namespace.name
    assert payments_namespace.name.startswith("test_first-")


def test_second_pays_the_same_order(payments_namespace):
    r = requests.post(payments_namespace.url_for("/payments/orders"), json={"order_id": "1", "amount": 10})
    assert r.status_code == 200
"""


def test_a_namespace_per_test_without_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_spaces=NAMESPACE_TESTS)
    pytester.runpytest_subprocess(*STORE_PROJECT_PLUGINS).assert_outcomes(passed=2)


def test_a_gateway_named_by_the_environment_is_used_and_left_running(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    with GatewayServer() as outside:
        monkeypatch.setenv("PAYMENTS_GATEWAY_URL", outside.url + "/")
        pytester.makepyfile(test_spaces=NAMESPACE_TESTS)
        pytester.runpytest_subprocess(*STORE_PROJECT_PLUGINS).assert_outcomes(passed=2)
        made = outside.app.test_client().get("/namespaces").get_json()
        # Each test's namespace was made there, and deleted at its end.
        assert [space["name"] for space in made["namespaces"]] == ["default"]
        assert outside.app.test_client().get("/balance").get_json()["balance"] == 50000.0
