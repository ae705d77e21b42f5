"""The kit's api_faults(): API faults in force for a `with` block, on a GatewayServer and
in a GatewayNamespace, and the simulation as it was afterwards."""

from __future__ import annotations

import pytest
import requests

from payments_server.testing import GatewayServer
from payments_server.testing.gateway_namespace import GatewayNamespace

MAINTENANCE = {"route": "POST /payments/orders", "fault": "status", "status": 503,
               "retry_after": 2, "count": 1}  # fmt: skip


def test_a_block_of_faults_on_the_gateway_then_the_simulation_as_it_was() -> None:
    with GatewayServer() as server:
        simulation = server.url_for("/simulation")
        assert requests.put(simulation, json={"decline_rate": 0.25}).status_code == 200
        before = requests.get(simulation).json()
        with server.api_faults(MAINTENANCE):
            during = requests.get(simulation).json()["simulation"]
            down = requests.post(server.url_for("/payments/orders"),
                                 json={"order_id": "1", "amount": 5})  # fmt: skip
        after = requests.get(simulation).json()
        balance = requests.get(server.url_for("/balance")).json()["balance"]
    assert (during["decline_rate"], during["api_faults"]) == (0.25, [MAINTENANCE])
    assert (down.status_code, down.headers["Retry-After"]) == (503, "2")
    assert down.json()["message"].startswith("On purpose (an API fault): ")
    assert after == before
    assert balance == 50000.0  # nothing was charged


def test_faults_in_a_namespace_stay_in_it() -> None:
    with GatewayServer() as server:
        space = GatewayNamespace.create(server.url, "faulty")
        with space.api_faults(MAINTENANCE):
            inside = requests.post(space.url_for("/payments/orders"),
                                   json={"order_id": "1", "amount": 5})  # fmt: skip
            outside = requests.post(server.url_for("/payments/orders"),
                                    json={"order_id": "1", "amount": 5})  # fmt: skip
        again = requests.post(space.url_for("/payments/orders"),
                              json={"order_id": "1", "amount": 5})  # fmt: skip
        shown = space.request("GET", "/simulation")[1]["simulation"]
        space.delete()
    assert (inside.status_code, outside.status_code, again.status_code) == (503, 200, 200)
    assert "api_faults" not in shown


def test_faults_the_gateway_refuses_fail_the_test_with_its_answer() -> None:
    nowhere = {"route": "POST /nowhere", "fault": "status", "status": 500, "count": 1}
    with (
        GatewayServer() as server,
        pytest.raises(AssertionError) as refused,
        server.api_faults(nowhere),
    ):
        pass
    assert "answered 400, not 200" in str(refused.value)
    assert "POST /nowhere" in str(refused.value)
