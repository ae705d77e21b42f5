"""The README's curl examples, run in order against the real server, give the answers shown."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from live import GatewayProcess, free_port

from helpers import exact_json

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLE = re.compile(r"```sh\n(curl [^`]*?)```\s*```json\n(.*?)```", re.DOTALL)


def examples() -> list[tuple[str, str]]:
    """Each curl command in the README with the JSON answer shown under it."""
    return EXAMPLE.findall(README.read_text())


def test_the_readme_has_an_example_for_every_endpoint() -> None:
    commands = " ".join(command for command, _ in examples())
    for path in ["/balance", "/pay ", "/payments/orders", "/pay/order", "/transactions", "/reset"]:
        assert f"http://localhost:5000{path}" in commands


def test_every_readme_example_answers_as_shown() -> None:
    assert shutil.which("curl"), "the README examples need curl on PATH"
    dead_store = f"http://127.0.0.1:{free_port()}/payments/confirm"
    with GatewayProcess("--callback-url", dead_store) as gateway:
        for command, expected in examples():
            local = command.replace("http://localhost:5000", gateway.url)
            result = subprocess.run(
                ["bash", "-c", local], capture_output=True, text=True, timeout=30, check=True
            )
            assert exact_json(result.stdout) == exact_json(expected), command
