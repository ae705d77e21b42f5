"""Fixtures for the state-file tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import MakeClient, StartGateway


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "account.jsonl"


@pytest.fixture
def open_gateway(make_client: MakeClient, state_file: Path) -> StartGateway:
    """Start gateways on the state file, as a restart would; each is closed afterwards."""
    return lambda **changes: make_client(
        **{"callback_retries": 0, "state_file": str(state_file), **changes}
    )
