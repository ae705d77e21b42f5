"""The README's tour and the reference pages it links to: their examples, run against the
real server, give the answers shown."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from gateway_process import GatewayProcess, free_port
from helpers import STORE_PROJECT_PLUGINS, exact_json, masked
from payments_server.callbacks.signing import DEV_WEBHOOK_SECRET, Signer

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# The reference pages the README's sections moved to, in the order their examples run
# (each builds on the state the ones before it left).
MANUAL = [ROOT / "docs" / name for name in (
    "api.md", "callbacks.md", "test-controls.md", "checkout.md", "dashboard.md", "testing.md",
    "configuration.md", "troubleshooting.md", "development.md")]  # fmt: skip
EXAMPLE = re.compile(r"```sh\n([^`]*?)```\s*```json\n(.*?)```", re.DOTALL)
STORE_SNIPPET = re.compile(
    r"### Verifying callbacks in your store\n.*?```python\n(.*?)```", re.DOTALL
)
WAIT_TEST = re.compile(
    r"### Wait for a callback instead of sleeping\n.*?```python\n(.*?)```", re.DOTALL
)
STORE_TEST = re.compile(
    r"# Using payments_server in your store's tests\n.*?```python\n(.*?)```", re.DOTALL
)
TOUR_TEST = re.compile(r"### 4\. Test your store with the kit\n.*?```python\n(.*?)```", re.DOTALL)
SIGNED_REQUEST = re.compile(
    r"webhook-id: (\S+)\nwebhook-timestamp: (\d+)\nwebhook-signature: (\S+)\n\n(\{.*?\})\n"
)


def manual() -> str:
    """The README and the reference pages, as one text."""
    return "\n".join(page.read_text() for page in [README, *MANUAL])


def examples(text: str) -> list[tuple[str, str]]:
    """Each shell example in the text with the JSON answer shown under it."""
    return EXAMPLE.findall(text)


def test_the_readme_stays_short() -> None:
    assert len(README.read_text().splitlines()) <= 300


def test_the_manual_has_an_example_for_every_endpoint() -> None:
    commands = " ".join(command for command, _ in examples(manual()))
    assert "curl -s http://localhost:5000/simulation\n" in commands  # GET, not only PUT
    for path in ["/balance", "/pay ", "/payments/orders", "/pay/order", "/transactions",
                 "/reset", "/callbacks?", "/callbacks/$ID/retry", "/payments/orders/ord_1001",
                 "/simulation", "/transactions?limit", '/callbacks/$ID"', "/openapi.json",
                 "/checkout/sessions ", "/checkout/sessions?", "/checkout/sessions/$ID/complete",
                 "/activity?", "/callbacks/$ID/retry-now", "/callbacks/$ID/verify"]:  # fmt: skip
        assert f"http://localhost:5000{path}" in commands


@pytest.mark.parametrize(
    ("pages", "namespace"),
    [([README], ""), (MANUAL, ""), (MANUAL, "/ns/tour-1")],
    ids=["readme-tour", "reference-pages", "reference-pages-in-a-namespace"],
)
def test_every_example_answers_as_shown(pages: list[Path], namespace: str) -> None:
    """Every example answers as shown, and the reference pages' (seed 000's API among
    them) answer the same in a namespace, with only the base URL changed."""
    assert shutil.which("curl"), "the examples need curl on PATH"
    dead_store = f"http://127.0.0.1:{free_port()}/payments/confirm"
    # A long first wait keeps the log examples at "right after the payment" however slow
    # the machine; with the default 1 s the next retry could land between two examples.
    with GatewayProcess(
        "--callback-url", dead_store, "--callback-schedule", "60,60,60,60,60"
    ) as gateway:
        found = examples("\n".join(page.read_text() for page in pages))
        assert found
        for command, expected in found:
            local = command.replace("http://localhost:5000", gateway.url + namespace)
            result = subprocess.run(
                ["bash", "-c", local], capture_output=True, text=True, timeout=30, check=True
            )
            answered = exact_json(result.stdout)
            if namespace:
                answered = _as_if_default(answered, namespace.removeprefix("/ns/"))
            assert masked(answered) == masked(exact_json(expected)), command


def _as_if_default(value: object, name: str) -> object:
    """An answer in a namespace with what the namespace adds taken out: the header its
    callbacks carry (checked here), so the rest compares with the default's."""
    header = f" -H 'Payments-Namespace: {name}'"
    if isinstance(value, dict):
        if "Payments-Namespace" in value:
            assert value["Payments-Namespace"] == name
        return {key: _as_if_default(item, name) for key, item in value.items()
                if key != "Payments-Namespace"}  # fmt: skip
    if isinstance(value, list):
        return [_as_if_default(item, name) for item in value]
    if isinstance(value, str) and header in value:
        return value.replace(header, "")
    return value


def test_the_signed_request_shown_carries_a_valid_signature() -> None:
    message_id, timestamp, signature, body = SIGNED_REQUEST.search(manual()).groups()
    assert signature == Signer(DEV_WEBHOOK_SECRET).signature(
        message_id, int(timestamp), body.encode()
    )
    assert DEV_WEBHOOK_SECRET in manual()


@pytest.fixture
def readme_store() -> Iterator[dict[str, Any]]:
    """The README's store snippet, served on a free port; its module namespace."""
    namespace: dict[str, Any] = {"__name__": "readme_store"}
    exec(STORE_SNIPPET.search(manual()).group(1), namespace)
    server = make_server("127.0.0.1", 0, namespace["app"], threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    namespace["url"] = f"http://127.0.0.1:{server.server_port}/payments/confirm"
    yield namespace
    server.shutdown()
    thread.join()


def test_the_store_snippet_verifies_callbacks_and_acts_once_per_event(
    readme_store: dict[str, Any],
) -> None:
    with GatewayProcess("--callback-url", readme_store["url"]) as gateway:
        paid = requests.post(
            gateway.url + "/payments/orders", json={"order_id": "ord_7", "amount": 5}, timeout=10
        ).json()
        refused = requests.post(
            gateway.url + "/pay/order", json={"order_id": 8, "amount": 10**9}, timeout=10
        )
        callbacks = requests.get(gateway.url + "/callbacks", timeout=5).json()["callbacks"]
        resent = requests.post(f"{gateway.url}/callbacks/{callbacks[-1]['id']}/retry", timeout=5)
    assert paid["shop_notified"] is True
    assert refused.status_code == 402
    assert resent.json()["delivered"] is True
    assert readme_store["paid_orders"] == {"ord_7": "success", 8: "failed"}
    assert len(readme_store["handled_events"]) == 2  # the resend was recognised

    body = b'{"order_id":"ord_7","status":"success"}'
    headers = Signer(DEV_WEBHOOK_SECRET).headers("msg_forged", 1795341600, body)
    forged = requests.post(readme_store["url"], data=body, headers=headers, timeout=5)
    assert forged.status_code == 400
    assert forged.json() == {"error": "Message timestamp too old"}


FAULT_SECTION = re.compile(r"## Webhook faults on purpose\n(.*?)\n## ", re.DOTALL)
API_FAULT_SECTION = re.compile(r"## API faults on purpose\n(.*?)\n## ", re.DOTALL)


@pytest.mark.parametrize(
    "recipe", [STORE_TEST, WAIT_TEST, TOUR_TEST], ids=["store-test", "wait", "tour"]
)
def test_the_readme_store_tests_pass_in_a_project_that_only_installed_the_package(
    pytester: pytest.Pytester, recipe: re.Pattern[str]
) -> None:
    pytester.makepyfile(test_checkout=recipe.search(manual()).group(1))
    pytester.runpytest_subprocess(*STORE_PROJECT_PLUGINS).assert_outcomes(passed=1)


def test_every_fault_recipe_passes_against_the_real_gateway(pytester: pytest.Pytester) -> None:
    section = FAULT_SECTION.search(manual()).group(1)
    recipes = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(recipes) == 2
    pytester.makepyfile(test_faults="\n\n".join(recipes))
    pytester.runpytest_subprocess(*STORE_PROJECT_PLUGINS).assert_outcomes(passed=len(recipes))


def test_the_api_fault_recipes_pass_against_the_real_gateway(pytester: pytest.Pytester) -> None:
    (recipe,) = re.findall(r"```python\n(.*?)```", API_FAULT_SECTION.search(manual()).group(1),
                           re.DOTALL)  # fmt: skip
    pytester.makepyfile(test_api_faults=recipe)
    pytester.runpytest_subprocess(*STORE_PROJECT_PLUGINS).assert_outcomes(passed=3)
