"""The pages in docs/: each example, run against the real server, gives the answer shown."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gateway_process import GatewayProcess
from helpers import exact_json, masked
from payments_server.testing import StoreStub

DOCS = Path(__file__).resolve().parent.parent / "docs"
EXAMPLE = re.compile(r"```sh\n([^`]*?)```\s*```json\n(.*?)```", re.DOTALL)
PYTHON = re.compile(r"```python\n(.*?)```", re.DOTALL)
# Each page with examples, and how the gateway its examples run against is started.
PAGES = {"clock.md": ("--clock", "frozen"), "article.md": (), "ticketing.md": (),
         "cardloader.md": (),
         "psp.md": ("--clock-start", "2020-07-19T22:26:23.693Z", "--clock", "frozen")}  # fmt: skip


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_example_of_the_page_answers_as_shown(page: str) -> None:
    assert shutil.which("curl") and shutil.which("jq"), "the examples need curl and jq on PATH"
    examples = EXAMPLE.findall((DOCS / page).read_text())
    assert examples
    with StoreStub() as store, GatewayProcess("--callback-url", store.url, *PAGES[page]) as gateway:
        for command, expected in examples:
            local = command.replace("http://localhost:5000", gateway.url)
            result = subprocess.run(
                ["bash", "-c", local], capture_output=True, text=True, timeout=30, check=True
            )
            assert masked(exact_json(result.stdout)) == masked(exact_json(expected)), command


def test_the_clock_pages_store_test_passes_in_a_project_that_only_installed_the_package(
    pytester: pytest.Pytester,
) -> None:
    [recipe] = PYTHON.findall((DOCS / "clock.md").read_text())
    pytester.makepyfile(test_clock=recipe)
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


def test_the_clock_page_shows_every_clock_operation() -> None:
    commands = " ".join(command for command, _ in EXAMPLE.findall((DOCS / "clock.md").read_text()))
    for operation in ("curl -s http://localhost:5000/clock\n", "-X PUT http://localhost:5000/clock ",
                      "-X POST http://localhost:5000/clock/advance "):  # fmt: skip
        assert operation in commands
