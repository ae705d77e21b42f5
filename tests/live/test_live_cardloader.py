"""The card loader (seed 003) on the real server: the seed's own curl commands, racing loads
against one card's limit, and cards that survive a kill -9 with --state-file."""

from __future__ import annotations

import signal
import threading
from decimal import Decimal
from pathlib import Path

import requests

from gateway_process import GatewayProcess
from helpers import run_curl

# The seed's curl commands, as its README has them; only the base URL changes.
SEED_TOKEN = "curl 'http://127.0.0.1:5000/tokens/' -H 'Content-type: application/json' -d '{}'"
SEED_LOAD = (
    "curl 'http://127.0.0.1:5000/cards/1/load/' -H 'Content-type: application/json'"
    ' -d \'{"nonce": "fake-valid-visa-nonce", "amount": "10.00"}\''
)
NOT_FOUND = (
    "The requested URL was not found on the server. If you entered the URL manually please"
    " check your spelling and try again."
)


def run(command: str, base: str) -> tuple[int, object]:
    """Run one of the seed's curl commands against `base`."""
    return run_curl(command, "http://127.0.0.1:5000", base)


def error(code: str, message: str) -> dict[str, object]:
    return {"status": "error", "errors": [{"code": code, "message": message}]}


def test_the_seeds_curl_commands_get_the_documented_answers() -> None:
    with GatewayProcess() as gateway:
        base = gateway.url + "/cardloader"
        status, token = run(SEED_TOKEN, base)
        assert status == 200 and list(token) == ["client_token"]  # type: ignore[arg-type]
        assert run(SEED_LOAD, base) == (200, {"status": "ok", "errors": []})
        # The documented errors, each from the seed's command with one thing changed.
        assert run(SEED_LOAD.replace('"10.00"', '"475.00"'), base)[0] == 200
        assert run(SEED_LOAD, base)[0] == 200  # 495.00 loaded today
        assert run(SEED_LOAD, base) == (
            400, error("compliance-1-day", "495.00 + 10.00 > 500 (1 day)"))  # fmt: skip
        declined = SEED_LOAD.replace("fake-valid-visa-nonce", "fake-processor-declined-visa-nonce")
        assert run(declined.replace("cards/1", "cards/2"), base) == (
            400, error("2000", "Do Not Honor"))  # fmt: skip
        malformed = SEED_LOAD.replace('{"nonce": "fake-valid-visa-nonce", "amount": "10.00"}',
                                      '{"amount" "10.00"}')  # fmt: skip
        assert run(malformed, base) == (400, error(
            "http-400", "Failed to decode JSON object: Expecting ':' delimiter: line 1 column 11"
                        " (char 10)"))  # fmt: skip
        assert run(SEED_LOAD.replace("cards/1", "cards/42"), base) == (
            404, error("http-404", NOT_FOUND))  # fmt: skip
        # The customer's card pays, not the one account.
        assert requests.get(gateway.url + "/balance", timeout=5).json()["balance"] == 50000.0


def test_racing_loads_never_overrun_a_cards_limit() -> None:
    with GatewayProcess("--threads", "16") as gateway:
        url = gateway.url + "/cardloader/cards/3/load/"
        answers: list[int] = []
        start = threading.Barrier(40)

        def racer() -> None:
            with requests.Session() as session:
                start.wait()
                for _ in range(3):
                    answer = session.post(url, json={"nonce": "fake-valid-nonce", "amount": "7.00"},
                                          timeout=10)  # fmt: skip
                    answers.append(answer.status_code)

        threads = [threading.Thread(target=racer) for _ in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        card = requests.get(gateway.url + "/cardloader/cards/3/", timeout=5).json()
        balance = requests.get(gateway.url + "/balance", timeout=5).json()["balance"]
    # 500 / 7: 71 loads fit, and every other one of the 120 was refused.
    assert (answers.count(200), answers.count(400), len(answers)) == (71, 49, 120)
    assert (card["balance"], len(card["loads"])) == ("497.00", 71)
    assert Decimal(str(balance)) == Decimal(50000)  # the customer's card pays


def test_loads_survive_a_kill_and_still_count_against_the_limit(tmp_path: Path) -> None:
    state = str(tmp_path / "state.jsonl")
    with GatewayProcess("--state-file", state) as gateway:
        for amount in ("300.00", "150.00"):
            requests.post(gateway.url + "/cardloader/cards/8/load/",
                          json={"nonce": "fake-valid-nonce", "amount": amount}, timeout=5)  # fmt: skip
        before = requests.get(gateway.url + "/cardloader/cards/8/", timeout=5).json()
        gateway.process.send_signal(signal.SIGKILL)
        gateway.process.wait(10)
    with GatewayProcess("--state-file", state) as again:
        assert requests.get(again.url + "/cardloader/cards/8/", timeout=5).json() == before
        over = requests.post(again.url + "/cardloader/cards/8/load/",
                             json={"nonce": "fake-valid-nonce", "amount": "60.00"}, timeout=5)  # fmt: skip
        assert over.json() == error("compliance-1-day", "450.00 + 60.00 > 500 (1 day)")
        assert requests.get(again.url + "/balance", timeout=5).json()["balance"] == 50000.0
