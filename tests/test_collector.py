"""collector.py: what survives a full collection is frozen, and thawed when let go."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from payments_server import Settings, close_app, create_app
from payments_server.apis.namespace_routing import NAMESPACES_KEY
from payments_server.collector import freeze_survivors, stop_freezing


@pytest.fixture
def freezing() -> Iterator[None]:
    freeze_survivors()
    try:
        yield
    finally:
        stop_freezing()


@pytest.mark.usefixtures("freezing")
def test_survivors_of_a_full_collection_are_frozen() -> None:
    kept = [[n] for n in range(1000)]
    before = gc.get_freeze_count()
    gc.collect()
    assert gc.get_freeze_count() >= before + len(kept)


@pytest.mark.usefixtures("freezing")
def test_deleted_namespaces_are_collected_though_a_collection_had_frozen_them() -> None:
    app = create_app(Settings(callback_url="http://127.0.0.1:9/confirm", callback_retries=0))
    client = app.test_client()
    try:
        gc.collect()
        before = gc.get_freeze_count()
        for index in range(50):
            client.post("/payments/orders", json={"order_id": "1", "amount": 5},
                        headers={"Payments-Namespace": f"gone-{index}"})  # fmt: skip
        account = weakref.ref(app.extensions[NAMESPACES_KEY].get("gone-0").account)
        gc.collect()  # they survive it: frozen
        made = gc.get_freeze_count() - before
        for index in range(50):
            assert client.delete(f"/namespaces/gone-{index}").status_code == 200
        gc.collect()
        left = gc.get_freeze_count() - before
    finally:
        close_app(app)
    assert account() is None
    # Each namespace leaves about 150 objects in reference cycles: frozen for good, unless
    # deleting it thaws them for the next collection.
    assert made > 50 * 150
    assert left < 50 * 10
