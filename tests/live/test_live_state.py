"""--state-file on the real server: restarts, damaged files, and SIGKILL under load."""

from __future__ import annotations

import json
import resource
import signal
import threading
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from gateway_process import GatewayProcess, run_cli
from payments_server.testing import StoreStub

START = Decimal("5000.00")


def test_a_restart_on_the_same_file_keeps_the_account(tmp_path: Path) -> None:
    state = str(tmp_path / "account.jsonl")
    with StoreStub() as store:
        with GatewayProcess("--callback-url", store.url, "--state-file", state) as gateway:
            requests.post(gateway.url + "/pay", json={"amount": 20, "recipient": "x"}, timeout=5)
            requests.post(gateway.url + "/payments/orders", json={"order_id": "A-1", "amount": 179.98}, timeout=5)  # fmt: skip
            before = requests.get(gateway.url + "/transactions", timeout=5).text
            assert gateway.stop() == 0
        with GatewayProcess("--callback-url", store.url, "--state-file", state, "--fsync") as again:
            line = again.wait_for_line("state kept in")
            assert requests.get(again.url + "/transactions", timeout=5).text == before
            paid = requests.post(again.url + "/pay/order", json={"order_id": "A-1", "amount": 1}, timeout=5)  # fmt: skip
            assert paid.status_code == 409
    assert line.endswith(
        f"state kept in {state} (fsync after each change): 2 transactions, balance 49800.02"
    )


def test_a_damaged_file_stops_the_start_with_one_line_naming_it(tmp_path: Path) -> None:
    state = tmp_path / "account.jsonl"
    state.write_text('{"event":"reset","balance":10}\n{"event":"payment",\n{"event":"reset"}\n')
    result = run_cli(["--state-file", str(state)])
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (f"payments-server: error: {state} line 2 is not JSON")


def test_fsync_without_a_state_file_is_refused() -> None:
    result = run_cli(["--fsync"])
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "payments-server: error: --fsync (PAYMENTS_FSYNC) needs --state-file"
    )


@pytest.mark.parametrize("durability", [[], ["--fsync"]], ids=["flush", "fsync"])
def test_sigkill_under_load_loses_no_acknowledged_payment(  # noqa: PLR0915 -- one story
    tmp_path: Path, durability: list[str]
) -> None:
    state = str(tmp_path / "account.jsonl")
    args = ["--state-file", state, "--initial-balance", str(START), "--quiet", *durability]
    answers: dict[str, tuple[str, str, int | None]] = {}  # name: (path, body, status)
    lock = threading.Lock()
    stop = threading.Event()
    enough = threading.Event()  # 300 payments acknowledged: time to kill the gateway
    acknowledged = [0]

    def client(number: int, url: str) -> None:
        with requests.Session() as session:
            for index in range(10_000):
                if stop.is_set():
                    return
                name = f"c{number}-{index}"
                amount = Decimal(index % 7 * 100 + number + 1) / 100
                path, data = (
                    ("/pay", f'{{"amount": {amount}, "recipient": "{name}"}}')
                    if index % 2
                    else ("/payments/orders", f'{{"order_id": "{name}", "amount": {amount}}}')
                )
                headers = {"Idempotency-Key": name} if index % 3 == 0 else {}
                try:
                    response = session.post(url + path, data=data, headers=headers, timeout=10)
                    status: int | None = response.status_code
                except requests.RequestException:
                    status = None  # killed before it answered: it may or may not have happened
                with lock:
                    answers[name] = (path, data, status)
                    acknowledged[0] += status == 200
                    if acknowledged[0] >= 300:
                        enough.set()
                if status is None:
                    return

    with StoreStub() as store:
        gateway = GatewayProcess("--callback-url", store.url, *args).start()
        threads = [threading.Thread(target=client, args=(n, gateway.url)) for n in range(8)]
        for thread in threads:
            thread.start()
        assert enough.wait(60), f"{acknowledged[0]} payments acknowledged in 60 s"
        assert gateway.process is not None
        gateway.process.send_signal(signal.SIGKILL)
        gateway.process.wait(10)
        stop.set()
        for thread in threads:
            thread.join()

        with GatewayProcess("--callback-url", store.url, *args) as restarted:
            ledger = json.loads(
                requests.get(restarted.url + "/transactions", timeout=10).text,
                parse_float=Decimal,
            )["transactions"]
            balance = Decimal(str(requests.get(restarted.url + "/balance", timeout=5).json()["balance"]))  # fmt: skip
            # One session: each kept Response would otherwise hold its connection open.
            with requests.Session() as session:
                replays = [
                    session.post(
                        restarted.url + path,
                        data=data,
                        headers={"Idempotency-Key": name},
                        timeout=5,
                    )
                    for name, (path, data, status) in answers.items()
                    if status == 200 and int(name.split("-")[1]) % 3 == 0
                ]

    names = [t.get("recipient", t.get("order_id")) for t in ledger]
    assert len(names) == len(set(names)), "a payment was stored twice"
    acknowledged = {name for name, answer in answers.items() if answer[2] == 200}
    unanswered = {name for name, answer in answers.items() if answer[2] is None}
    assert acknowledged <= set(names), "an acknowledged payment was lost"
    assert set(names) <= acknowledged | unanswered, "a refused or never-sent payment appeared"
    assert len(acknowledged) >= 300
    assert unanswered, "the kill came between requests, not in the middle of the load"
    # The invariant, step by step and in total.
    running = START
    for transaction in ledger:
        running -= transaction["amount"]
        assert transaction["balance_after"] == running
    assert balance == running == START - sum((t["amount"] for t in ledger), Decimal(0))
    # Keys whose answer was acknowledged are replayed, not paid again.
    assert replays and all(r.headers.get("Idempotent-Replayed") == "true" for r in replays)


def _limit_file_size() -> None:
    # Writes past 2,000 bytes fail with EFBIG, as a full disk fails with ENOSPC.
    resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def test_a_state_file_that_cannot_be_written_refuses_the_change_with_503(tmp_path: Path) -> None:
    state = tmp_path / "account.jsonl"
    with StoreStub() as store:
        gateway = GatewayProcess("--callback-url", store.url, "--state-file", str(state))
        gateway.popen_options = {"preexec_fn": _limit_file_size}
        with gateway:
            answers = [
                requests.post(
                    gateway.url + "/pay",
                    json={"amount": 1, "recipient": f"r{n}"},
                    # Every other one also writes its key: a payment whose key line finds
                    # no room is still made and answered, its key kept in memory.
                    headers={"Idempotency-Key": f"k{n}"} if n % 2 else {},
                    timeout=5,
                )
                for n in range(40)
            ]
            refused = [answer for answer in answers if answer.status_code == 503]
            balance = requests.get(gateway.url + "/balance", timeout=5).json()["balance"]
            assert gateway.stop() == 0
        paid = sum(1 for answer in answers if answer.status_code == 200)
        assert 0 < paid < 40 and len(refused) == 40 - paid  # no 500 among them
        # Each refused line was cut back off, so the next one again finds a little room.
        assert {answer.text for answer in refused} == {
            '{"status":"failed","message":"cannot write the state file'
            f" {state}: no room for the whole line (a full disk or a size limit);"
            ' nothing was changed"}\n'
        }
        assert balance == 50000 - paid
        # No torn line was left behind: the file replays to exactly what was acknowledged.
        assert state.read_bytes().endswith(b"\n")
        with GatewayProcess("--callback-url", store.url, "--state-file", str(state)) as again:
            assert requests.get(again.url + "/balance", timeout=5).json()["balance"] == balance
    assert any("cannot write the state file" in line for line in gateway.lines)


def test_a_session_that_cannot_be_written_is_not_made_and_one_written_survives(
    tmp_path: Path,
) -> None:
    state = tmp_path / "account.jsonl"
    with StoreStub() as store:
        gateway = GatewayProcess("--callback-url", store.url, "--state-file", str(state))
        gateway.popen_options = {"preexec_fn": _limit_file_size}
        with gateway:
            answers = [
                requests.post(
                    gateway.url + "/checkout/sessions",
                    json={"order_id": n, "amount": 5, "metadata": {"note": "x" * 200}},
                    timeout=5,
                )
                for n in range(10)
            ]
            made = [a.json()["session"] for a in answers if a.status_code == 201]
            listed = requests.get(gateway.url + "/checkout/sessions", timeout=5).json()
            assert gateway.stop() == 0
        assert 0 < len(made) < 10
        assert {a.status_code for a in answers} == {201, 503}
        assert [s["id"] for s in listed["sessions"]] == [s["id"] for s in reversed(made)]
        with GatewayProcess("--callback-url", store.url, "--state-file", str(state)) as again:
            line = again.wait_for_line("state kept in")
            restored = requests.get(again.url + "/checkout/sessions", timeout=5).json()
    # The same sessions; only their page is on the new port.
    for session in restored["sessions"] + listed["sessions"]:
        assert session.pop("url").endswith("/checkout/" + session["id"])
    assert restored == listed
    assert line.endswith(f"; {len(made)} checkout sessions, {len(made)} open")
