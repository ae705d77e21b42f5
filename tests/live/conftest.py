"""Live tests run the real CLI; those that pin its contract run on both HTTP servers."""

from __future__ import annotations

import pytest

SERVERS = ("granian", "waitress")


@pytest.fixture(params=SERVERS)
def each_server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test once per --server; GatewayProcess passes the environment on."""
    monkeypatch.setenv("PAYMENTS_SERVER", request.param)
    return request.param
