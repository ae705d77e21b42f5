import sys
import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest

from payments_server.core import jsonio
from payments_server.core.ledger import (
    InsufficientFundsError,
    Ledger,
    OrderAlreadyPaidError,
    PaymentDeclinedError,
)
from payments_server.core.money import Amount, parse_amount
from payments_server.core.orders import AttemptOutcome
from payments_server.core.transactions import Transaction


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Switch threads every microsecond, so a missing lock shows up as a lost update."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def amount(text: str) -> Amount:
    return parse_amount(Decimal(text))


def test_a_new_ledger_is_the_documented_account() -> None:
    ledger = Ledger(Decimal("50000.00"))
    assert (ledger.account_id, ledger.holder, ledger.balance) == (
        "ACC-001",
        "John Doe",
        Decimal("50000.00"),
    )
    assert ledger.transactions() == []


def test_pay_debits_and_records_the_transaction() -> None:
    ledger = Ledger(Decimal("50000.00"))
    transaction = ledger.pay(parse_amount(100), "https://example-shop.com")
    assert ledger.balance == Decimal("49900.00")
    assert transaction.to_json() == {
        "recipient": "https://example-shop.com",
        "amount": 100,
        "balance_after": Decimal("49900.0"),
    }
    assert ledger.transactions() == [transaction]


def test_insufficient_funds_changes_nothing() -> None:
    ledger = Ledger(Decimal("100.00"))
    with pytest.raises(InsufficientFundsError) as caught:
        ledger.pay(amount("100.01"), "shop")
    assert caught.value.balance == Decimal("100.00")
    assert caught.value.requested == amount("100.01")
    assert ledger.balance == Decimal("100.00")
    assert ledger.transactions() == []


def test_the_whole_balance_can_be_spent_down_to_zero() -> None:
    ledger = Ledger(Decimal("100.00"))
    ledger.pay(amount("100.00"), "shop")
    assert ledger.balance == 0


def test_an_order_is_paid_once_whatever_json_type_its_id_had() -> None:
    ledger = Ledger(Decimal("50000.00"))
    first = ledger.pay_order(42, amount("10"))
    with pytest.raises(OrderAlreadyPaidError):
        ledger.pay_order(42, amount("10"))
    with pytest.raises(OrderAlreadyPaidError):
        ledger.pay_order("42", amount("10"))
    assert ledger.balance == Decimal("49990.00")
    assert ledger.transactions() == [first]
    assert ledger.paid_order("42") is first
    assert first.to_json() == {
        "order_id": 42,
        "amount": Decimal("10"),
        "balance_after": Decimal("49990.0"),
    }


def test_an_order_whose_payment_failed_can_be_paid_again() -> None:
    ledger = Ledger(Decimal("5.00"))
    with pytest.raises(InsufficientFundsError):
        ledger.pay_order("ord-1", amount("6"))
    assert ledger.paid_order("ord-1") is None
    ledger.pay_order("ord-1", amount("5"))
    assert ledger.balance == 0


def test_reset_restores_the_balance_and_forgets_transactions_and_orders() -> None:
    ledger = Ledger(Decimal("50000.00"))
    ledger.pay_order("ord-1", amount("10"))
    ledger.pay(amount("5"), "shop")
    assert ledger.reset() == Decimal("50000.00")
    assert ledger.balance == Decimal("50000.00")
    assert ledger.transactions() == []
    assert ledger.paid_order("ord-1") is None
    ledger.pay_order("ord-1", amount("10"))  # payable again after a reset


def test_a_thousand_cents_leave_an_exact_balance() -> None:
    ledger = Ledger(Decimal("50000.00"))
    for _ in range(1000):
        ledger.pay(amount("0.01"), "shop")
    assert ledger.balance == Decimal("49990.00")
    assert str(ledger.transactions()[-1].to_json()["balance_after"]) == "49990.0"


@pytest.mark.usefixtures("frequent_thread_switches")
def test_concurrent_payments_never_overdraw_or_lose_an_update() -> None:
    ledger = Ledger(Decimal("100.00"))
    start = threading.Barrier(64)
    results: list[Transaction | InsufficientFundsError] = []

    def pay() -> None:
        start.wait()
        try:
            results.append(ledger.pay(amount("3.00"), "shop"))
        except InsufficientFundsError as exc:
            results.append(exc)

    threads = [threading.Thread(target=pay) for _ in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    succeeded = [r for r in results if isinstance(r, Transaction)]
    assert len(succeeded) == 33
    assert len(results) == 64
    assert ledger.balance == Decimal("1.00")
    transactions = ledger.transactions()
    assert ledger.balance == Decimal("100.00") - sum(t.amount.value for t in transactions)
    assert sorted(t.balance_after for t in transactions) == [Decimal(1 + 3 * i) for i in range(33)]


@pytest.mark.usefixtures("frequent_thread_switches")
def test_concurrent_payments_of_one_order_debit_it_once() -> None:
    ledger = Ledger(Decimal("100.00"))
    start = threading.Barrier(16)
    outcomes: list[str] = []

    def pay() -> None:
        start.wait()
        try:
            ledger.pay_order("ord-1", amount("1"))
            outcomes.append("paid")
        except OrderAlreadyPaidError:
            outcomes.append("already paid")

    threads = [threading.Thread(target=pay) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already paid"] * 15 + ["paid"]
    assert ledger.balance == Decimal("99.00")


@pytest.mark.usefixtures("frequent_thread_switches")
def test_many_threads_spending_cents_end_exactly_at_zero() -> None:
    ledger = Ledger(Decimal("25.00"))
    start = threading.Barrier(8)
    paid = [0] * 8

    def spend(slot: int) -> None:
        start.wait()
        for _ in range(500):
            try:
                ledger.pay(amount("0.01"), "shop")
                paid[slot] += 1
            except InsufficientFundsError:
                pass

    threads = [threading.Thread(target=spend, args=(slot,)) for slot in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(paid) == 2500
    assert ledger.balance == 0
    assert len(ledger.transactions()) == 2500


def test_an_order_record_keeps_every_attempt_that_reached_the_account() -> None:
    ledger = Ledger(Decimal("10"))
    with pytest.raises(PaymentDeclinedError):
        ledger.pay_order("o", parse_amount(5), lambda: "do_not_honor")
    with pytest.raises(InsufficientFundsError):
        ledger.pay_order("o", parse_amount(50))
    transaction = ledger.pay_order("o", parse_amount(5))
    with pytest.raises(OrderAlreadyPaidError):
        ledger.pay_order("o", parse_amount(5))
    record = ledger.order("o")
    assert record is not None
    assert [(a.amount.value, a.outcome, a.decline_code) for a in record.attempts] == [
        (5, AttemptOutcome.DECLINED, "do_not_honor"),
        (50, AttemptOutcome.INSUFFICIENT_FUNDS, None),
        (5, AttemptOutcome.PAID, None),
    ]
    assert record.transaction is transaction
    assert ledger.balance == Decimal("5")
    ledger.reset()
    assert ledger.order("o") is None


def test_the_decline_check_runs_only_for_payments_that_can_happen() -> None:
    ledger = Ledger(Decimal("10"))
    ledger.pay_order("o", parse_amount(1))
    asked: list[str] = []

    def decline() -> str | None:
        asked.append("asked")
        return "card_declined"

    with pytest.raises(OrderAlreadyPaidError):
        ledger.pay_order("o", parse_amount(1), decline)
    assert asked == []


def test_a_declined_generic_payment_changes_nothing() -> None:
    ledger = Ledger(Decimal("10"))
    with pytest.raises(PaymentDeclinedError) as caught:
        ledger.pay(parse_amount(1), "r", lambda: "lost_card")
    assert caught.value.decline_code == "lost_card"
    assert (ledger.balance, ledger.transactions()) == (Decimal("10"), [])


def test_a_page_of_transactions_and_the_total() -> None:
    ledger = Ledger(Decimal("100"))
    for amount in range(1, 6):
        ledger.pay(parse_amount(amount), "r")
    page, total = ledger.transactions_page(1, 2)
    assert ([t.amount.value for t in page], total) == ([2, 3], 5)


def test_reset_to_a_given_balance() -> None:
    ledger = Ledger(Decimal("100"))
    assert ledger.reset(Decimal("7.50")) == Decimal("7.50")
    assert ledger.reset() == Decimal("100")


@pytest.mark.parametrize(
    "transaction",
    [
        Transaction(Decimal("12.50"), Decimal("49987.5"), recipient="bob"),
        Transaction(100, Decimal("49900.00"), order_id=42),
        Transaction(Decimal("1E+2"), Decimal("0"), order_id=-(10**254)),
        Transaction(Decimal("0.01"), Decimal("1.10"), order_id='quo"te\\ \n\x00 café 🎉'),
        Transaction(Decimal("0.01"), Decimal("1.10"), recipient="\u2028\ud800 ü"),
    ],
)
def test_the_direct_json_text_is_the_encoders_byte_for_byte(transaction: Transaction) -> None:
    assert transaction.json_text() == jsonio.dumps(transaction.to_json())
