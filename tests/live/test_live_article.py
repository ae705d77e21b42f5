"""The article's own store code (examples/article_store/app.py), unchanged but for its base
URLs, against the real gateway: the page, the callback and the status check."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
import requests
from werkzeug.serving import make_server

from gateway_process import GatewayProcess, free_port

APP = Path(__file__).resolve().parents[2] / "examples" / "article_store" / "app.py"
# The article's own code looks transactions up with Query.get, legacy in SQLAlchemy 2.
pytestmark = pytest.mark.filterwarnings("ignore:The Query.get:DeprecationWarning")


@pytest.fixture
def live(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[tuple[GatewayProcess, ModuleType, str]]:
    """The gateway (its clock frozen) and the article's store, each on a free port; the
    store's base URL is the namespace's (request.param) if one is asked for."""
    namespace = getattr(request, "param", "")
    port = free_port()
    store_url = f"http://127.0.0.1:{port}"
    with GatewayProcess("--clock", "frozen") as gateway:
        gateway.url += namespace  # every call of these tests, the store's own too
        monkeypatch.setenv("GATEWAY_URL", gateway.url + "/article")
        monkeypatch.setenv("STORE_URL", store_url)
        spec = importlib.util.spec_from_file_location("article_store", APP)
        assert spec is not None and spec.loader is not None
        store = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(store)
        server = make_server("127.0.0.1", port, store.app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield gateway, store, store_url
        finally:
            server.shutdown()
            thread.join()


def initiate(store_url: str, order_id: str) -> str:
    answer = requests.post(
        store_url + "/initiate-payment", json={"order_id": order_id, "amount": 25}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["payment_url"]  # type: ignore[no-any-return]


def delivered(gateway: GatewayProcess, transaction_id: int) -> dict:  # type: ignore[type-arg]
    """The gateway's callback for this transaction, once the store has answered it."""
    url = f"{gateway.url}/callbacks?order_id={transaction_id}&state=delivered&wait=10"
    (callback,) = requests.get(url, timeout=15).json()["callbacks"]
    return callback  # type: ignore[no-any-return]


def stored_status(store_url: str, transaction_id: int) -> str:
    url = f"{store_url}/check-payment-status/{transaction_id}"
    return requests.get(url, timeout=5).json()["status"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("live", ["", "/ns/shop-7"], indirect=True, ids=["default", "namespace"])
def test_the_articles_store_pays_through_the_page_and_hears_success(
    live: tuple[GatewayProcess, ModuleType, str],
) -> None:
    gateway, store, store_url = live
    payment_url = initiate(store_url, "o-1")
    assert payment_url.startswith(gateway.url + "/checkout/cs_")
    page = requests.get(payment_url, timeout=5)
    assert page.status_code == 200 and "<h1>Pay 25.00 USD</h1>" in page.text
    assert stored_status(store_url, 1) == "pending"
    session_id = payment_url.rsplit("/", 1)[1]
    requests.post(
        f"{gateway.url}/checkout/sessions/{session_id}/complete",
        json={"outcome": "paid"},
        timeout=10,
    )
    assert delivered(gateway, 1)["attempts"][0]["status_code"] == 200
    assert stored_status(store_url, 1) == "success"
    assert store.FULFILLED == ["o-1"]
    assert requests.get(gateway.url + "/balance", timeout=5).json()["balance"] == 49975.0
    root, in_namespace, _ = gateway.url.partition("/ns/")
    if in_namespace:  # the gateway's own account saw nothing of it
        assert requests.get(root + "/balance", timeout=5).json()["balance"] == 50000.0
        assert requests.get(root + "/callbacks", timeout=5).json()["callbacks"] == []


def test_an_abandoned_payment_fails_after_15_minutes_by_callback_and_by_the_status_job(
    live: tuple[GatewayProcess, ModuleType, str],
) -> None:
    gateway, store, store_url = live
    initiate(store_url, "o-2")
    requests.post(gateway.url + "/clock/advance", json={"seconds": 900}, timeout=10)
    assert delivered(gateway, 1)["payment_status"] == "failure"
    assert stored_status(store_url, 1) == "failure"
    # The article's background job asks the gateway about a transaction 15 minutes old.
    with store.app.app_context():
        transaction = store.db.session.get(store.Transaction, 1)
        transaction.status = "pending"
        transaction.created_at = datetime.now() - timedelta(minutes=16)
        store.db.session.commit()
        store.check_pending_payments()
    assert stored_status(store_url, 1) == "failure"
    assert store.FULFILLED == []


def test_the_status_of_a_transaction_the_gateway_never_saw_is_an_error_not_a_failure(
    live: tuple[GatewayProcess, ModuleType, str],
) -> None:
    _, store, _ = live
    # 404 {"error": ...}: the job stops with KeyError instead of marking the order failed.
    with pytest.raises(KeyError):
        store.check_payment_status(404)
