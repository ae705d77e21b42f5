"""The small PSP (seed 004) on the real server: the seed's own curl commands, settlement by
advancing the clock, state that survives a kill -9, and a card number that is never kept."""

from __future__ import annotations

import signal
from pathlib import Path

import requests

from gateway_process import GatewayProcess
from helpers import run_curl

# The seed's curl commands, as its README has them; only the base URL changes.
SEED_CREATE = """curl -XPOST "http://localhost:3000/transactions" --header "Content-Type: application/json" --header "x-customer-id: 123"  --data '{
    "description": "Lightsaber",
    "amount": "2500",
    "payment_method": "credit_card",
    "card_number": "4111111111111111",
    "card_holder_name": "Luke Skywalker",
    "card_expiration_date": "10/25",
    "card_verification_code": "123" }'"""
SEED_TRANSACTIONS = 'curl http://localhost:3000/transactions --header "x-customer-id: 123"'
SEED_PAYABLES = 'curl http://localhost:3000/payables --header "x-customer-id: 123"'
# The seed's example is dated 2020-07-19 (its card expires in 10/25): the clock starts there.
AT_THE_SEEDS_TIME = ("--clock-start", "2020-07-19T22:26:23.693Z", "--clock", "frozen")
MERCHANT = {"x-customer-id": "123"}


def run(command: str, base: str) -> tuple[int, object]:
    """Run one of the seed's curl commands against `base`."""
    return run_curl(command, "http://localhost:3000", base)


def test_the_seeds_curl_commands_get_the_documented_answers() -> None:
    with GatewayProcess(*AT_THE_SEEDS_TIME) as gateway:
        base = gateway.url + "/psp"
        status, created = run(SEED_CREATE, base)
        assert isinstance(created, dict)
        # The seed's answer, but for its random id and the verification code not echoed.
        assert (status, created) == (201, {
            "id": created["id"], "description": "Lightsaber", "customer_id": "123",
            "amount": 2500, "payment_method": "credit_card", "status": "pending_payment",
            "card_holder_name": "Luke Skywalker",
            "card_expiration_date": "2025-10-01T00:00:00.000Z", "card_last_four_numbers": "1111",
            "updated_at": "2020-07-19T22:26:23.693Z", "created_at": "2020-07-19T22:26:23.693Z",
        })  # fmt: skip
        assert run(SEED_TRANSACTIONS, base) == (200, [created])
        status, payables = run(SEED_PAYABLES, base)
        assert (status, payables) == (200, [{
            "id": payables[0]["id"], "customer_id": "123", "status": "waiting_funds",  # type: ignore[index]
            "payment_date": "2020-08-18T22:26:23.693Z", "fee": 5, "receivable_amount": 2375,
            "created_at": "2020-07-19T22:26:23.693Z", "updated_at": "2020-07-19T22:26:23.693Z",
            "transaction_id": created["id"],
        }])  # fmt: skip
        # A month later, in a second: the payable is paid out.
        requests.post(gateway.url + "/clock/advance", json={"seconds": 30 * 86400}, timeout=10)
        [settled] = run(SEED_PAYABLES, base)[1]  # type: ignore[misc]
        assert (settled["status"], settled["updated_at"]) == ("paid", "2020-08-18T22:26:23.693Z")
        assert run(SEED_TRANSACTIONS, base)[1][0]["status"] == "paid"  # type: ignore[index]
        balance = requests.get(base + "/balance", headers=MERCHANT, timeout=5).json()
        assert (balance["available"], balance["waiting_funds"]) == (2375, 0)


def test_transactions_payables_and_settlement_survive_a_kill(tmp_path: Path) -> None:
    state = tmp_path / "state.jsonl"
    args = ("--state-file", str(state), *AT_THE_SEEDS_TIME)
    with GatewayProcess(*args) as gateway:
        base = gateway.url + "/psp"
        for method in ("credit_card", "credit_card", "debit_card"):
            run(SEED_CREATE.replace('"credit_card"', f'"{method}"'), base)
        requests.post(gateway.url + "/clock/advance", json={"seconds": 86400}, timeout=10)
        run(SEED_CREATE, base)  # a day later: due a day after the others
        requests.post(gateway.url + "/clock/advance", json={"seconds": 29 * 86400}, timeout=10)
        before = {what: run(f'curl {base}/{what} --header "x-customer-id: 123"', base)[1]
                  for what in ("transactions", "payables", "balance")}  # fmt: skip
        gateway.process.send_signal(signal.SIGKILL)
        gateway.process.wait(10)
    assert [p["status"] for p in before["payables"]] == [  # type: ignore[union-attr, index]
        "waiting_funds", "paid", "paid", "paid"]  # fmt: skip
    with GatewayProcess(*args) as again:
        base = again.url + "/psp"
        after = {what: run(f'curl {base}/{what} --header "x-customer-id: 123"', base)[1]
                 for what in ("transactions", "payables", "balance")}  # fmt: skip
        assert after == before
        # The clock started again at the seed's time: the last payable waits its 30 days.
        requests.post(again.url + "/clock/advance", json={"seconds": 31 * 86400}, timeout=10)
        assert [p["status"] for p in run(f'curl {base}/payables -H "x-customer-id: 123"', base)[1]] == [  # type: ignore[union-attr]
            "paid"] * 4  # fmt: skip
    # Nothing of the card but its last four digits was kept.
    text = state.read_text()
    assert "4111111111111111" not in text and "card_verification_code" not in text


def test_no_card_number_or_cvc_in_the_log_the_pages_or_the_answers() -> None:
    with GatewayProcess(*AT_THE_SEEDS_TIME) as gateway:
        base = gateway.url + "/psp"
        secret = SEED_CREATE.replace("4111111111111111", "5555555555554444").replace(
            '"123" }', '"Z9Q" }'
        )
        run(secret, base)
        run(secret.replace('"10/25"', '"10/19"'), base)  # paid too: the PSP checks no date
        run(secret.replace("Lightsaber", 'Light"saber'), base)  # not JSON
        seen = "".join(
            requests.get(gateway.url + path, headers=MERCHANT, timeout=5).text
            for path in ("/psp/transactions", "/psp/payables", "/activity", "/payments/orders",
                         "/dashboard")
        )  # fmt: skip
        assert gateway.stop() == 0
    logged = "\n".join(gateway.lines)
    assert '"POST /psp/transactions" 201' in logged
    for text in (seen, logged):
        assert "5555555555554444" not in text and "Z9Q" not in text
