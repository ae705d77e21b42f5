"""`make fuzz`: schemathesis, every check on, against the real server and a real store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from gateway_process import GatewayProcess
from payments_server.testing import StoreStub

FUZZ_DIR = Path(__file__).resolve().parents[2] / "fuzz"
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))


def _run(config: Path, url: str, cwd: Path, hooks: bool) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(FUZZ_DIR)} if hooks else dict(os.environ)
    # Run from a scratch folder: schemathesis writes its cache (.schemathesis/) there.
    return subprocess.run(
        [
            *(SCHEMATHESIS, "--config-file", str(config), "run", f"{url}/openapi.json"),
            *("--url", url, "--checks", "all", "--no-color"),
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.parametrize(
    "config",
    [
        # The long run: hooks keep payments reaching the account (see fuzz/hooks.py).
        pytest.param(FUZZ_DIR / "schemathesis.toml", id="with-hooks"),
        # A store's plain run against the document: no hooks, only state statuses allowed.
        pytest.param(FUZZ_DIR / "plain.toml", id="plain"),
    ],
)
def test_schemathesis_finds_no_server_error_undocumented_status_or_schema_violation(
    config: Path, tmp_path: Path
) -> None:
    with (
        StoreStub() as store,
        GatewayProcess(
            # Streams and long polls end within a second: a fuzz case is not a live view.
            "--callback-url",
            store.url,
            "--callback-retries",
            "0",
            "--quiet",
            "--stream-lifetime",
            "1",
        ) as gateway,
    ):
        # A store that sometimes fails keeps both shop_notified answers in play.
        store.respond_with(200, then=[500, 200, 200, 503] * 1000)
        run = _run(config, gateway.url, tmp_path, hooks=config.name == "schemathesis.toml")
        print(run.stdout[-6000:], run.stderr[-2000:])  # shown by `make fuzz` (-s)
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
        summary = run.stdout[run.stdout.index("SUMMARY") :]
        # The plain run leaves PUT /simulation and POST /store-check to the hooked one
        # (fuzz/plain.toml says why).
        assert f"Tested: {53 if config.name == 'plain.toml' else 55}" in summary
        for phase in ("Coverage", "Fuzzing", "Stateful"):
            assert f"✅ {phase}" in summary
        assert " passed" in summary
        assert "failures" not in summary and "Errors:" not in summary
        assert requests.get(gateway.url + "/balance", timeout=5).status_code == 200
        assert gateway.stop() == 0
    # An unexpected error is logged with its traceback, even when it was answered as 500.
    assert not any("Traceback" in line or " ERROR " in line for line in gateway.lines)
