"""The pytest plugin, as a store's project sees it: pytester runs throwaway test files."""

from __future__ import annotations

import pytest

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
    result = pytester.runpytest_subprocess("-p", "no:randomly")
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
    pytester.runpytest_subprocess().assert_outcomes(passed=2)


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
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


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
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_boom*", "*ZeroDivisionError*"])


def test_the_fixtures_are_documented_in_pytest_fixtures(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--fixtures")
    result.stdout.fnmatch_lines(
        [
            "store_stub [[]session scope[]] -- *pytest_plugin.py:*",
            "*records the gateway's callbacks*",
            "payments_gateway [[]session scope[]] -- *pytest_plugin.py:*",
            "*A live payments_server on 127.0.0.1*",
        ],
        consecutive=False,
    )


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
    result = pytester.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=5)
